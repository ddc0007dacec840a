#include "k8s/openapi_schema.hpp"

#include <boost/json.hpp>
#include <fstream>
#include <limits>
#include <sstream>

namespace integr8scode::testing {
namespace {

namespace json = boost::json;

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

bool IsBase64(std::string_view text) {
  if (text.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || (c == '=' && i + 2 >= text.size());
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<OpenApiSchema> OpenApiSchema::Load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value document = json::parse(text.str(), ec);
  if (ec || !document.is_object()) return std::nullopt;
  const json::value* definitions = document.get_object().if_contains("definitions");
  if (definitions == nullptr || !definitions->is_object()) return std::nullopt;
  OpenApiSchema schema;
  schema.definitions_ = definitions->get_object();
  return schema;
}

std::vector<std::string> OpenApiSchema::Validate(const json::value& value,
                                                 std::string_view definition) const {
  std::vector<std::string> problems;
  const json::value* schema = definitions_.if_contains(definition);
  if (schema == nullptr || !schema->is_object()) {
    problems.push_back("no definition " + std::string(definition));
    return problems;
  }
  Check(value, schema->get_object(), "", problems);
  return problems;
}

void OpenApiSchema::Check(const json::value& value, const json::object& schema,
                          const std::string& path, std::vector<std::string>& problems) const {
  const std::string here = path.empty() ? "<root>" : path;
  if (std::string_view ref = Str(schema, "$ref"); !ref.empty()) {
    const std::string_view name = ref.substr(ref.rfind('/') + 1);
    const json::value* target = definitions_.if_contains(name);
    if (target == nullptr || !target->is_object()) {
      problems.push_back(here + ": schema has no " + std::string(name));
      return;
    }
    Check(value, target->get_object(), path, problems);
    return;
  }
  if (const json::value* all = schema.if_contains("allOf"); all != nullptr && all->is_array()) {
    for (const json::value& part : all->get_array()) {
      if (part.is_object()) Check(value, part.get_object(), path, problems);
    }
  }
  const std::string_view type = Str(schema, "type");
  const std::string_view format = Str(schema, "format");
  if (format == "int-or-string") {
    if (!value.is_string() && !value.is_int64() && !value.is_uint64())
      problems.push_back(here + ": must be an integer or a string");
    return;
  }
  if (type == "string") {
    if (!value.is_string()) {
      problems.push_back(here + ": must be a string");
    } else if (format == "byte" && !IsBase64(value.get_string())) {
      problems.push_back(here + ": must be base64");
    }
    return;
  }
  if (type == "integer") {
    if (!value.is_int64() && !value.is_uint64()) {
      problems.push_back(here + ": must be an integer");
    } else if (format == "int32") {
      const bool fits = value.is_int64() ? value.get_int64() >= std::numeric_limits<int>::min() &&
                                               value.get_int64() <= std::numeric_limits<int>::max()
                                         : value.get_uint64() <= std::numeric_limits<int>::max();
      if (!fits) problems.push_back(here + ": out of int32 range");
    }
    return;
  }
  if (type == "number") {
    if (!value.is_number()) problems.push_back(here + ": must be a number");
    return;
  }
  if (type == "boolean") {
    if (!value.is_bool()) problems.push_back(here + ": must be a boolean");
    return;
  }
  if (type == "array") {
    if (!value.is_array()) {
      problems.push_back(here + ": must be an array");
      return;
    }
    const json::value* items = schema.if_contains("items");
    if (items == nullptr || !items->is_object()) return;
    std::size_t i = 0;
    for (const json::value& item : value.get_array()) {
      Check(item, items->get_object(), path + "[" + std::to_string(i++) + "]", problems);
    }
    return;
  }
  if (type == "object" || schema.contains("properties") ||
      schema.contains("additionalProperties")) {
    if (!value.is_object()) {
      problems.push_back(here + ": must be an object");
      return;
    }
    const json::object& object = value.get_object();
    const json::value* properties = schema.if_contains("properties");
    const json::value* additional = schema.if_contains("additionalProperties");
    for (const auto& [key, field] : object) {
      const std::string child = path.empty() ? std::string(key) : path + "." + std::string(key);
      if (properties != nullptr && properties->is_object()) {
        if (const json::value* sub = properties->get_object().if_contains(key);
            sub != nullptr && sub->is_object()) {
          Check(field, sub->get_object(), child, problems);
          continue;
        }
      }
      if (additional != nullptr && additional->is_object()) {
        Check(field, additional->get_object(), child, problems);
        continue;
      }
      if (properties != nullptr) problems.push_back(child + ": unknown field");
    }
    if (const json::value* required = schema.if_contains("required");
        required != nullptr && required->is_array()) {
      for (const json::value& name : required->get_array()) {
        if (name.is_string() && !object.contains(name.get_string()))
          problems.push_back(here + ": missing required field " + std::string(name.get_string()));
      }
    }
  }
}

}  // namespace integr8scode::testing
