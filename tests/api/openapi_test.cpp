#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "api/api_server.hpp"
#include "api/problem.hpp"

namespace integr8scode {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

boost::json::object Document() {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(OpenApiDocument(), ec);
  EXPECT_FALSE(ec) << "openapi.json is not valid JSON: " << ec.message();
  return value.is_object() ? value.as_object() : boost::json::object{};
}

TEST(OpenApi, IsAnOpenApi31Document) {
  const boost::json::object document = Document();
  ASSERT_TRUE(document.contains("openapi"));
  EXPECT_TRUE(document.at("openapi").as_string().starts_with("3.1"));
  EXPECT_TRUE(document.at("info").as_object().contains("title"));
  EXPECT_TRUE(document.at("info").as_object().contains("version"));
}

TEST(OpenApi, EveryRouteOfTheRouterIsDocumented) {
  const boost::json::object document = Document();
  const boost::json::object& paths = document.at("paths").as_object();
  for (const auto& [method, pattern] : ApiRouteList()) {
    const auto* path = paths.if_contains(pattern);
    ASSERT_NE(path, nullptr) << pattern << " is missing from openapi.json";
    const auto* operation = path->as_object().if_contains(Lower(method));
    ASSERT_NE(operation, nullptr) << method << " " << pattern << " is missing from openapi.json";
    const boost::json::object& op = operation->as_object();
    EXPECT_TRUE(op.contains("summary")) << method << " " << pattern;
    EXPECT_TRUE(op.contains("operationId")) << method << " " << pattern;
    ASSERT_TRUE(op.contains("responses")) << method << " " << pattern;
    EXPECT_FALSE(op.at("responses").as_object().empty()) << method << " " << pattern;
  }
}

TEST(OpenApi, DocumentsNoRouteThatDoesNotExist) {
  std::set<std::pair<std::string, std::string>> routes;
  for (const auto& [method, pattern] : ApiRouteList()) routes.emplace(Lower(method), pattern);
  const boost::json::object document = Document();
  static const std::set<std::string> kMethods = {"get",   "put",  "post",   "delete",
                                                 "patch", "head", "options"};
  for (const auto& [path, item] : document.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      if (!kMethods.contains(std::string(method))) continue;
      EXPECT_TRUE(routes.contains({std::string(method), std::string(path)}))
          << method << " " << path << " is documented but not routed";
    }
  }
}

TEST(OpenApi, OperationIdsAreUnique) {
  std::set<std::string> ids;
  const boost::json::object document = Document();
  for (const auto& [path, item] : document.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      if (!operation.is_object() || !operation.as_object().contains("operationId")) continue;
      EXPECT_TRUE(ids.insert(std::string(operation.at("operationId").as_string())).second)
          << operation.at("operationId");
    }
  }
}

TEST(OpenApi, ProblemSchemaListsEveryProblemCode) {
  const boost::json::object document = Document();
  const auto& problem = document.at("components").at("schemas").at("Problem").as_object();
  const auto& codes = problem.at("properties").at("code").at("enum").as_array();
  std::set<std::string> documented;
  for (const auto& code : codes) documented.emplace(code.as_string());
  for (std::string_view code : ProblemCodes())
    EXPECT_TRUE(documented.contains(std::string(code))) << code;
}

TEST(OpenApi, ReferencesResolve) {
  const boost::json::value document = Document();
  const std::string text = boost::json::serialize(document);
  const std::string marker = "\"$ref\":\"#/";
  for (std::size_t at = text.find(marker); at != std::string::npos;
       at = text.find(marker, at + 1)) {
    const std::size_t start = at + marker.size();
    const std::string pointer = "/" + text.substr(start, text.find('"', start) - start);
    boost::system::error_code ec;
    const boost::json::value* target = document.find_pointer(pointer, ec);
    EXPECT_TRUE(target != nullptr && !ec) << "unresolved $ref #" << pointer;
  }
}

}  // namespace
}  // namespace integr8scode
