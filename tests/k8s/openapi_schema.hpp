#pragma once

// Validates JSON objects against the official Kubernetes OpenAPI (v2) definitions, as
// the API server's strict field validation does: unknown fields, wrong types, missing
// required fields and malformed int32/int64/byte/int-or-string values are refused.
// The definitions are read from Kubernetes' own swagger.json (api/openapi-spec/ of
// kubernetes/kubernetes; see tests/k8s/README.md for where the suite finds it).

#include <boost/json/value.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace integr8scode::testing {

class OpenApiSchema {
 public:
  // Loads the "definitions" of a swagger.json. nullopt when it cannot be read.
  static std::optional<OpenApiSchema> Load(const std::filesystem::path& file);

  // The problems of `value` as an instance of `definition`
  // ("io.k8s.api.core.v1.Pod"), each "spec.containers[0].foo: unknown field"; empty
  // when it conforms.
  std::vector<std::string> Validate(const boost::json::value& value,
                                    std::string_view definition) const;

 private:
  void Check(const boost::json::value& value, const boost::json::object& schema,
             const std::string& path, std::vector<std::string>& problems) const;

  boost::json::object definitions_;
};

}  // namespace integr8scode::testing
