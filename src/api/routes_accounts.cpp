// Routes of accounts, saved scripts and administration.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/api_context.hpp"
#include "api/json_request.hpp"
#include "api/request_auth.hpp"
#include "api/resource_json.hpp"
#include "common/log.hpp"
#include "common/try.hpp"
#include "service/services.hpp"

namespace integr8scode {
namespace {

AuthService& Auth(const Call& call) { return call.Api().services->Auth(); }
ScriptService& Scripts(const Call& call) { return call.Api().services->Scripts(); }

void Register(const std::shared_ptr<Call>& call) {
  auto body = ParseJsonObject(call->Request().body);
  if (!body) return call->ReplyError(body.error());
  JsonFields fields(*body);
  auto username = fields.RequiredString("username");
  if (!username) return call->ReplyError(username.error());
  auto email = fields.RequiredString("email");
  if (!email) return call->ReplyError(email.error());
  auto password = fields.RequiredString("password");
  if (!password) return call->ReplyError(password.error());
  if (auto status = fields.Finish(); !status) return call->ReplyError(status.error());
  auto user = Auth(*call).Register(*username, *email, *password);
  if (!user) return call->ReplyError(user.error());
  call->GetExchange().user = std::to_string(user->id);
  call->ReplyJson(201, UserToJson(*user));
}

void Login(const std::shared_ptr<Call>& call) {
  auto body = ParseJsonObject(call->Request().body);
  if (!body) return call->ReplyError(body.error());
  JsonFields fields(*body);
  auto username = fields.RequiredString("username");
  if (!username) return call->ReplyError(username.error());
  auto password = fields.RequiredString("password");
  if (!password) return call->ReplyError(password.error());
  if (auto status = fields.Finish(); !status) return call->ReplyError(status.error());
  auto login = Auth(*call).Login(*username, *password, call->GetCaller().ip);
  if (!login) return call->ReplyError(login.error());
  call->GetExchange().user = std::to_string(login->user.id);
  HttpResponse response = JsonResponse(200, boost::json::object{
                                                {"access_token", login->access_token},
                                                {"token_type", "bearer"},
                                                {"expires_in", login->expires_in_s},
                                                {"csrf_token", login->csrf_token},
                                                {"user", UserToJson(login->user)},
                                            });
  for (std::string& cookie :
       SessionCookies(login->access_token, login->csrf_token,
                      std::chrono::seconds(login->expires_in_s), call->Request().tls)) {
    response.AddHeader("Set-Cookie", std::move(cookie));
  }
  call->Reply(std::move(response));
}

void Logout(const std::shared_ptr<Call>& call) {
  if (call->Auth()) {
    if (auto status = Auth(*call).Logout(*call->Auth()); !status)
      return call->ReplyError(status.error());
  }
  HttpResponse response;
  response.status = 204;
  response.SetHeader("Cache-Control", "no-store");
  for (std::string& cookie : ClearSessionCookies(call->Request().tls)) {
    response.AddHeader("Set-Cookie", std::move(cookie));
  }
  call->Reply(std::move(response));
}

void Me(const std::shared_ptr<Call>& call) {
  auto user = Auth(*call).GetUser(*call->GetCaller().user_id);
  if (!user) return call->ReplyError(user.error());
  call->ReplyJson(200, UserToJson(*user));
}

Result<ScriptDraft> ReadDraft(const Call& call) {
  auto body = I8C_TRY_VALUE(ParseJsonObject(call.Request().body));
  JsonFields fields(body);
  ScriptDraft draft;
  auto name = I8C_TRY_VALUE(fields.RequiredString("name"));
  auto lang = I8C_TRY_VALUE(fields.RequiredString("lang"));
  auto version = I8C_TRY_VALUE(fields.RequiredString("lang_version"));
  auto script = I8C_TRY_VALUE(fields.RequiredString("script"));
  I8C_TRY(fields.Finish());
  draft.name = std::move(name);
  draft.language = std::move(lang);
  draft.version = std::move(version);
  draft.content = std::move(script);
  return draft;
}

void ListScripts(const std::shared_ptr<Call>& call) {
  auto scripts = Scripts(*call).List(call->GetCaller());
  if (!scripts) return call->ReplyError(scripts.error());
  boost::json::array items;
  items.reserve(scripts->size());
  for (const Script& script : *scripts) items.push_back(ScriptToJson(script));
  call->ReplyJson(200, boost::json::object{{"items", std::move(items)}});
}

void CreateScript(const std::shared_ptr<Call>& call) {
  auto draft = ReadDraft(*call);
  if (!draft) return call->ReplyError(draft.error());
  auto script = Scripts(*call).Create(call->GetCaller(), std::move(*draft));
  if (!script) return call->ReplyError(script.error());
  HttpResponse response = JsonResponse(201, ScriptToJson(*script));
  response.SetHeader("Location", fmt::format("/api/v1/scripts/{}", script->id));
  call->Reply(std::move(response));
}

void GetScript(const std::shared_ptr<Call>& call) {
  auto script = Scripts(*call).Get(call->GetCaller(), call->Param("id"));
  if (!script) return call->ReplyError(script.error());
  call->ReplyJson(200, ScriptToJson(*script));
}

void UpdateScript(const std::shared_ptr<Call>& call) {
  auto draft = ReadDraft(*call);
  if (!draft) return call->ReplyError(draft.error());
  auto script = Scripts(*call).Update(call->GetCaller(), call->Param("id"), std::move(*draft));
  if (!script) return call->ReplyError(script.error());
  call->ReplyJson(200, ScriptToJson(*script));
}

void DeleteScript(const std::shared_ptr<Call>& call) {
  if (auto status = Scripts(*call).Delete(call->GetCaller(), call->Param("id")); !status) {
    return call->ReplyError(status.error());
  }
  HttpResponse response;
  response.status = 204;
  call->Reply(std::move(response));
}

void AdminUsers(const std::shared_ptr<Call>& call) {
  auto page = PageParameters(*call);
  if (!page) return call->ReplyError(page.error());
  auto users = Auth(*call).ListUsers(page->first, page->second);
  if (!users) return call->ReplyError(users.error());
  auto total = Auth(*call).CountUsers();
  if (!total) return call->ReplyError(total.error());
  boost::json::array items;
  for (const User& user : *users) items.push_back(UserToJson(user));
  call->ReplyJson(200, boost::json::object{{"items", std::move(items)},
                                           {"total", *total},
                                           {"limit", page->first},
                                           {"offset", page->second}});
}

void AdminStats(const std::shared_ptr<Call>& call) {
  ExecutionService& executions = call->Api().services->Executions();
  auto counts = executions.CountByStatus(call->GetCaller());
  if (!counts) return call->ReplyError(counts.error());
  auto users = Auth(*call).CountUsers();
  if (!users) return call->ReplyError(users.error());
  boost::json::object by_status;
  for (ExecutionStatus status : kAllStatuses) {
    const auto it = counts->find(status);
    by_status[StatusName(status)] = it == counts->end() ? 0 : it->second;
  }
  const QueueStats stats = executions.Stats();
  call->ReplyJson(200, boost::json::object{
                           {"executions_by_status", std::move(by_status)},
                           {"users", *users},
                           {"queue_depth", stats.queued},
                           {"running", stats.running},
                           {"workers", stats.workers},
                           {"queue_capacity", stats.capacity},
                       });
}

}  // namespace

void AddAccountRoutes(std::vector<RouteSpec>& routes) {
  routes.push_back({"POST", "/api/v1/auth/register", Access::kPublic, RateGroup::kAuth, Register,
                    Work::kPasswordHash});
  routes.push_back({"POST", "/api/v1/auth/login", Access::kPublic, RateGroup::kAuth, Login,
                    Work::kPasswordHash});
  routes.push_back({"POST", "/api/v1/auth/logout", Access::kPublic, RateGroup::kOther, Logout});
  routes.push_back({"GET", "/api/v1/auth/me", Access::kUser, RateGroup::kOther, Me});
  routes.push_back({"GET", "/api/v1/scripts", Access::kUser, RateGroup::kOther, ListScripts});
  routes.push_back({"POST", "/api/v1/scripts", Access::kUser, RateGroup::kOther, CreateScript});
  routes.push_back({"GET", "/api/v1/scripts/{id}", Access::kUser, RateGroup::kOther, GetScript});
  routes.push_back({"PUT", "/api/v1/scripts/{id}", Access::kUser, RateGroup::kOther, UpdateScript});
  routes.push_back(
      {"DELETE", "/api/v1/scripts/{id}", Access::kUser, RateGroup::kOther, DeleteScript});
  routes.push_back({"GET", "/api/v1/admin/users", Access::kAdmin, RateGroup::kOther, AdminUsers});
  routes.push_back({"GET", "/api/v1/admin/stats", Access::kAdmin, RateGroup::kOther, AdminStats});
}

}  // namespace integr8scode
