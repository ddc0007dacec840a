#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace integr8scode {

// Parses a request body that must be one JSON object. Errors, in the order checked:
// invalid UTF-8 → reason "invalid_utf8" (400); not JSON → "malformed_json" (400, the
// detail says where); valid JSON but not an object → kInvalidArgument (422).
Result<boost::json::object> ParseJsonObject(std::string_view body);

// Reads the fields of one request object with the checks docs/api.md promises: a wrong
// type or a missing required field is a 422 naming the field ("limits.memory_bytes"),
// and so is any field the route does not know (call Finish last). null counts as
// absent for optional fields. Not thread-safe; one per request.
class JsonFields {
 public:
  explicit JsonFields(const boost::json::object& object, std::string prefix = {});

  Result<std::string> RequiredString(std::string_view name);
  Result<std::optional<std::string>> OptionalString(std::string_view name);
  // A whole number in [0, maximum]; 12.0 counts as whole, 1.5 and -1 do not.
  Result<std::optional<std::uint64_t>> OptionalUnsigned(std::string_view name,
                                                        std::uint64_t maximum);
  // The nested object, or null when absent; read it with a JsonFields whose prefix is
  // Path(name).
  Result<const boost::json::object*> OptionalObject(std::string_view name);
  // Fails for the first field that no method above asked for.
  Status Finish() const;

  std::string Path(std::string_view name) const;

 private:
  const boost::json::value* Lookup(std::string_view name);
  Error FieldError(std::string_view name, std::string message) const;

  const boost::json::object& object_;
  std::string prefix_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace integr8scode
