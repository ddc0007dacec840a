#include "k8s/openapi_schema.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace integr8scode::testing {
namespace {

namespace json = boost::json;

// A probe every installed validator accepts: a ConfigMap with nothing but its name.
constexpr std::string_view kProbe =
    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"probe"}})";

}  // namespace

Result<std::unique_ptr<OpenApiSchema>> OpenApiSchema::Start(const std::filesystem::path& script) {
  if (!std::filesystem::exists(script.parent_path() / "node_modules" / "kubernetes-models")) {
    return Fail(ErrorCode::kUnavailable, "the validator's npm packages are not installed in " +
                                             script.parent_path().string() +
                                             " (scripts/setup --test runs npm ci there)");
  }
  // A socket rather than pipes: a write to a validator that died fails with EPIPE
  // (MSG_NOSIGNAL) instead of killing the test binary with SIGPIPE.
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return Fail(SystemError("socketpair"));
  UniqueFd ours(fds[0]);
  UniqueFd theirs(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.Get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, theirs.Get(), STDOUT_FILENO);
  const std::string path = script.string();
  char node[] = "node";
  char* argv[] = {node, const_cast<char*>(path.c_str()), nullptr};
  pid_t pid = 0;
  // posix_spawnp returns the error number instead of setting errno.
  const int rc = ::posix_spawnp(&pid, "node", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Fail(SystemError(rc, "cannot start node (the schema validator)"));
  theirs.Reset();
  std::unique_ptr<OpenApiSchema> schema(new OpenApiSchema(std::move(ours), pid));
  const auto problems = schema->Validate(json::parse(kProbe), "io.k8s.api.core.v1.ConfigMap");
  if (!problems.empty())
    return Fail(ErrorCode::kUnavailable, "the schema validator does not work: " + problems[0]);
  return schema;
}

OpenApiSchema::~OpenApiSchema() {
  // End of its input ends the validator's read loop, and with it the process.
  socket_.Reset();
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::vector<std::string> OpenApiSchema::Validate(const json::value& value,
                                                 std::string_view definition) const {
  std::string request =
      json::serialize(json::object{{"definition", definition}, {"object", value}});
  request += '\n';
  std::lock_guard lock(mutex_);
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n =
        ::send(socket_.Get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      return {std::string("schema validator: cannot send: ") + std::strerror(error)};
    }
    sent += static_cast<std::size_t>(n);
  }
  std::size_t newline;
  while ((newline = pending_.find('\n')) == std::string::npos) {
    char buffer[4096];
    const ssize_t n = ::read(socket_.Get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {"schema validator: stopped answering"};
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
  const std::string line = pending_.substr(0, newline);
  pending_.erase(0, newline + 1);
  boost::system::error_code ec;
  const json::value answer = json::parse(line, ec);
  const json::value* list =
      !ec && answer.is_object() ? answer.get_object().if_contains("problems") : nullptr;
  if (list == nullptr || !list->is_array()) return {"schema validator: a malformed answer"};
  std::vector<std::string> problems;
  for (const json::value& problem : list->get_array())
    problems.push_back(problem.is_string() ? std::string(problem.get_string()) : "?");
  return problems;
}

}  // namespace integr8scode::testing
