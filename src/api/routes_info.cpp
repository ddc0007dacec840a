// Routes that describe the service: runtimes, limits, examples, health, documents, metrics.
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <boost/json.hpp>
#include <map>

#include "api/api_context.hpp"
#include "api/problem.hpp"
#include "api/resource_json.hpp"
#include "api/result_json.hpp"
#include "metrics/metrics.hpp"
#include "service/services.hpp"

namespace integr8scode {
namespace {

ExecutionService& Executions(const Call& call) { return call.Api().services->Executions(); }

boost::json::array RuntimesJson(const ExecutionService& executions) {
  const auto& runtimes = executions.Catalog().All();
  const auto& availability = executions.Availability();
  boost::json::array items;
  for (std::size_t i = 0; i < runtimes.size(); ++i) {
    const RuntimeAvailability state =
        i < availability.size() ? availability[i] : RuntimeAvailability{};
    items.push_back(RuntimeToJson(runtimes[i], state));
  }
  return items;
}

// Kubernetes quantity notation, as the original reported it: "128Mi", "1000m".
std::string KubernetesBytes(std::uint64_t bytes) {
  constexpr std::uint64_t kKi = 1024;
  if (bytes % (kKi * kKi * kKi) == 0) return fmt::format("{}Gi", bytes / (kKi * kKi * kKi));
  if (bytes % (kKi * kKi) == 0) return fmt::format("{}Mi", bytes / (kKi * kKi));
  if (bytes % kKi == 0) return fmt::format("{}Ki", bytes / kKi);
  return std::to_string(bytes);
}

void Runtimes(const std::shared_ptr<Call>& call) {
  call->ReplyJson(200, boost::json::object{{"runtimes", RuntimesJson(Executions(*call))}});
}

void LimitsRoute(const std::shared_ptr<Call>& call) {
  const ExecutionService& executions = Executions(*call);
  call->ReplyJson(200, boost::json::object{
                           {"defaults", LimitsToJson(executions.DefaultLimits())},
                           {"maximum", LimitsToJson(executions.MaximumLimits())},
                           {"runtimes", RuntimesJson(executions)},
                       });
}

void KubernetesLimits(const std::shared_ptr<Call>& call) {
  const ExecutionService& executions = Executions(*call);
  const Limits& limits = executions.DefaultLimits();
  std::map<std::string, std::vector<std::string>> supported;
  const auto& runtimes = executions.Catalog().All();
  const auto& availability = executions.Availability();
  for (std::size_t i = 0; i < runtimes.size(); ++i) {
    if (i < availability.size() && availability[i].available) {
      supported[runtimes[i].language].push_back(runtimes[i].version);
    }
  }
  boost::json::object by_language;
  for (const auto& [language, versions] : supported) {
    boost::json::array list;
    for (const std::string& version : versions) list.emplace_back(version);
    by_language[language] = std::move(list);
  }
  const std::string cpu = fmt::format("{}m", limits.cpu_millicores);
  const std::string memory = KubernetesBytes(limits.memory_bytes);
  call->ReplyJson(200, boost::json::object{
                           {"cpu_limit", cpu},
                           {"memory_limit", memory},
                           {"cpu_request", cpu},
                           {"memory_request", memory},
                           {"execution_timeout", (limits.timeout.count() + 999) / 1000},
                           {"supported_runtimes", std::move(by_language)},
                           {"runtimes", RuntimesJson(executions)},
                       });
}

void ExampleScripts(const std::shared_ptr<Call>& call) {
  boost::json::array scripts;
  const ExecutionService& executions = Executions(*call);
  const auto& runtimes = executions.Catalog().All();
  const auto& availability = executions.Availability();
  for (std::size_t i = 0; i < runtimes.size(); ++i) {
    const Runtime& runtime = runtimes[i];
    if (runtime.example.empty()) continue;
    scripts.push_back(boost::json::object{
        {"lang", runtime.language},
        {"version", runtime.version},
        {"display_name", runtime.display_name},
        {"available", i < availability.size() && availability[i].available},
        {"script", runtime.example},
        {"description", runtime.example_description},
    });
  }
  call->ReplyJson(200, boost::json::object{{"scripts", std::move(scripts)}});
}

void Live(const std::shared_ptr<Call>& call) {
  call->ReplyJson(200, boost::json::object{{"status", "ok"}});
}

void Ready(const std::shared_ptr<Call>& call) {
  boost::json::object checks;
  bool ready = true;
  for (const ReadinessCheck& check : call->Api().services->CheckReady()) {
    checks[check.name] = check.status ? std::string("ok") : check.status.error().message;
    ready = ready && check.status.has_value();
  }
  if (call->Api().stopping.load()) {
    checks["server"] = "shutting down";
    ready = false;
  }
  HttpResponse response = JsonResponse(
      ready ? 200 : 503,
      boost::json::object{{"status", ready ? "ready" : "not_ready"}, {"checks", checks}});
  if (!ready) response.SetHeader("Retry-After", "5");
  call->Reply(std::move(response));
}

void OpenApi(const std::shared_ptr<Call>& call) {
  HttpResponse response;
  response.status = 200;
  response.body = std::string(OpenApiDocument());
  response.SetHeader("Content-Type", "application/json; charset=utf-8");
  response.SetHeader("Cache-Control", "no-cache");
  call->Reply(std::move(response));
}

void MetricsRoute(const std::shared_ptr<Call>& call) {
  call->Reply(MetricsAnswer(call->Api(), call->Request(), call->RequestId()));
}

}  // namespace

HttpResponse MetricsAnswer(const ApiContext& api, const HttpRequest& request,
                           std::string_view request_id) {
  const std::string& token = api.options.metrics_bearer_token;
  if (!token.empty()) {
    const std::string_view authorization = request.Header("authorization");
    constexpr std::string_view kScheme = "Bearer ";
    const bool bearer = authorization.size() > kScheme.size() &&
                        EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme);
    const std::string_view sent = bearer ? authorization.substr(kScheme.size()) : "";
    // Constant time: the comparison must not tell a guesser how much of the token it has.
    if (sent.size() != token.size() ||
        CRYPTO_memcmp(sent.data(), token.data(), token.size()) != 0) {
      return ProblemResponse(
          MakeError(ErrorCode::kUnauthenticated,
                    "/metrics needs 'Authorization: Bearer <token>' with the token of the "
                    "server's metrics.bearer_token setting."),
          request_id);
    }
  }
  HttpResponse response;
  response.status = 200;
  response.body = api.metrics->Render();
  response.SetHeader("Content-Type", std::string(Metrics::kContentType));
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

void AddInfoRoutes(std::vector<RouteSpec>& routes) {
  routes.push_back({"GET", "/api/v1/runtimes", Access::kPublic, RateGroup::kOther, Runtimes});
  routes.push_back({"GET", "/api/v1/limits", Access::kPublic, RateGroup::kOther, LimitsRoute});
  routes.push_back(
      {"GET", "/api/v1/k8s-limits", Access::kPublic, RateGroup::kOther, KubernetesLimits});
  routes.push_back(
      {"GET", "/api/v1/example-scripts", Access::kPublic, RateGroup::kOther, ExampleScripts});
  routes.push_back({"GET", "/api/v1/health/live", Access::kOpen, RateGroup::kNone, Live});
  routes.push_back({"GET", "/api/v1/health/ready", Access::kOpen, RateGroup::kNone, Ready});
  routes.push_back({"GET", "/api/v1/openapi.json", Access::kOpen, RateGroup::kNone, OpenApi});
  routes.push_back({"GET", "/metrics", Access::kOpen, RateGroup::kNone, MetricsRoute});
}

}  // namespace integr8scode
