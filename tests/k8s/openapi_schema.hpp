#pragma once

// Validates JSON objects against the official Kubernetes OpenAPI definitions, as the API
// server does: wrong types, missing required fields, values outside an enum, malformed
// formats and unknown fields are refused. The schemas are those of the npm package
// kubernetes-models (generated from the Kubernetes OpenAPI specification); a node process
// running validator/validate.mjs, started once, answers for each object (see
// tests/k8s/README.md). Thread-safe.

#include <sys/types.h>

#include <boost/json/value.hpp>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace integr8scode::testing {

class OpenApiSchema {
 public:
  // Starts `node script`. Fails when node cannot be started or the script's packages
  // are not installed (it answers a probe with a problem).
  static Result<std::unique_ptr<OpenApiSchema>> Start(const std::filesystem::path& script);
  ~OpenApiSchema();
  OpenApiSchema(const OpenApiSchema&) = delete;
  OpenApiSchema& operator=(const OpenApiSchema&) = delete;

  // The problems of `value` as an instance of `definition`
  // ("io.k8s.api.core.v1.Pod"), each "spec.containers[0].foo: unknown field"; empty
  // when it conforms. A validator that stopped answering is a problem too, so nothing
  // passes unchecked.
  std::vector<std::string> Validate(const boost::json::value& value,
                                    std::string_view definition) const;

 private:
  OpenApiSchema(UniqueFd socket, pid_t pid) : socket_(std::move(socket)), pid_(pid) {}

  mutable std::mutex mutex_;
  UniqueFd socket_;
  pid_t pid_;
  mutable std::string pending_;  // bytes read past the last answer
};

}  // namespace integr8scode::testing
