#include "app/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <limits>
#include <map>
#include <variant>

#include "common/try.hpp"
#include "common/units.hpp"

extern char** environ;

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEnvPrefix = "INTEGR8SCODE_";
// Not settings: where the file is (the file cannot name itself).
constexpr std::string_view kConfigFileVariable = "INTEGR8SCODE_CONFIG";

// A raw value as a source gave it: TOML gives types (a list only of strings), the
// environment and flags text.
using Value = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

std::string Describe(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>)
          return fmt::format("'{}'", v);
        else if constexpr (std::is_same_v<V, bool>)
          return v ? "true" : "false";
        else if constexpr (std::is_same_v<V, std::vector<std::string>>)
          return fmt::format("['{}']", fmt::join(v, "', '"));
        else
          return fmt::format("{}", v);
      },
      value);
}

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

Result<std::string> AsString(const Value& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  return Fail(Invalid(fmt::format("{} must be a string", Describe(value))));
}

Result<bool> AsBool(const Value& value) {
  if (const auto* flag = std::get_if<bool>(&value)) return *flag;
  if (const auto* text = std::get_if<std::string>(&value)) {
    std::string lower(*text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
    if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  }
  return Fail(Invalid(fmt::format("{} is not a boolean; use true or false", Describe(value))));
}

Result<std::int64_t> AsInteger(const Value& value, std::int64_t minimum, std::int64_t maximum) {
  std::int64_t number = 0;
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    number = *integer;
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), number);
    if (ec != std::errc() || end != text->data() + text->size() || text->empty()) {
      return Fail(Invalid(fmt::format("{} is not a whole number", Describe(value))));
    }
  } else {
    return Fail(Invalid(fmt::format("{} is not a whole number", Describe(value))));
  }
  if (number < minimum || number > maximum) {
    return Fail(Invalid(fmt::format("{} is out of range ({} to {})", number, minimum, maximum)));
  }
  return number;
}

Result<std::uint64_t> AsBytes(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    if (*integer < 0) return Fail(Invalid(fmt::format("{} must not be negative", *integer)));
    return static_cast<std::uint64_t>(*integer);
  }
  if (const auto* text = std::get_if<std::string>(&value)) return ParseByteSize(*text);
  return Fail(Invalid(fmt::format("{} is not a size; use e.g. \"128M\"", Describe(value))));
}

Result<std::chrono::milliseconds> AsDuration(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    if (*integer < 0) return Fail(Invalid(fmt::format("{} must not be negative", *integer)));
    return std::chrono::milliseconds(*integer * 1000);
  }
  if (const auto* text = std::get_if<std::string>(&value)) return ParseDuration(*text);
  return Fail(Invalid(fmt::format("{} is not a duration; use e.g. \"5s\"", Describe(value))));
}

Result<std::uint32_t> AsCpu(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    return ParseCpu(fmt::format("{}", *integer));
  }
  if (const auto* number = std::get_if<double>(&value)) return ParseCpu(fmt::format("{}", *number));
  if (const auto* text = std::get_if<std::string>(&value)) return ParseCpu(*text);
  return Fail(Invalid(fmt::format("{} is not a CPU amount; use e.g. \"1000m\"", Describe(value))));
}

// A list of Python module names to import ahead (sandbox.warm_preload): a TOML list of
// strings, or text with the names separated by commas (the environment, flags). Each is
// a dotted name of ASCII identifiers ("json", "xml.etree.ElementTree"); at most 64 (the
// zygote reports the ones it could not import as a 64-bit mask, zygote_protocol.hpp).
Result<std::vector<std::string>> AsModuleList(const Value& value) {
  std::vector<std::string> names;
  if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    names = *list;
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    std::string_view rest = *text;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string_view name = rest.substr(0, comma);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      names.emplace_back(name);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (comma != std::string_view::npos && rest.empty()) names.emplace_back();
    }
  } else {
    return Fail(Invalid(fmt::format("{} is not a list of module names; use e.g. [\"json\", \"re\"]",
                                    Describe(value))));
  }
  if (names.size() > 64) {
    return Fail(Invalid(fmt::format("{} modules; at most 64", names.size())));
  }
  const auto identifier = [](std::string_view part) {
    const auto letter = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (part.empty() || !letter(part.front())) return false;
    return std::all_of(part.begin(), part.end(),
                       [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
  };
  for (const std::string& name : names) {
    std::string_view rest = name;
    bool valid = true;
    for (std::size_t dot = 0; valid && dot != std::string_view::npos;) {
      dot = rest.find('.');
      valid = identifier(rest.substr(0, dot));
      if (dot != std::string_view::npos) rest.remove_prefix(dot + 1);
    }
    if (!valid) {
      return Fail(Invalid(fmt::format(
          "'{}' is not a module name; use dotted Python identifiers (ASCII), e.g. \"json\" or "
          "\"xml.etree.ElementTree\"",
          name)));
    }
  }
  return names;
}

using Apply = std::function<Status(Config&, const Value&)>;

struct KeySpec {
  std::string key;
  Apply apply;
};

// Builds a key from a parser (Value → Result<T>) and the field it fills.
template <class Parse, class Get>
KeySpec Key(std::string key, Parse parse, Get get) {
  return {std::move(key), [parse, get](Config& config, const Value& value) -> Status {
            auto parsed = I8C_TRY_VALUE(parse(value));
            auto& field = get(config);
            field = static_cast<std::decay_t<decltype(field)>>(parsed);
            return {};
          }};
}

auto Integer(std::int64_t minimum, std::int64_t maximum) {
  return [minimum, maximum](const Value& value) { return AsInteger(value, minimum, maximum); };
}

auto Choice(std::initializer_list<std::string_view> choices) {
  std::vector<std::string_view> list(choices);
  return [list](const Value& value) -> Result<std::string> {
    auto text = I8C_TRY_VALUE(AsString(value));
    if (std::find(list.begin(), list.end(), text) != list.end()) return text;
    std::string names;
    for (std::string_view choice : list) names += (names.empty() ? "" : ", ") + std::string(choice);
    return Fail(Invalid(fmt::format("'{}' is not one of: {}", text, names)));
  };
}

void AddLimitKeys(std::vector<KeySpec>& keys, const std::string& prefix, Limits& (*get)(Config&)) {
  keys.push_back(Key(
      prefix + ".memory", AsBytes, [get](Config & c) -> auto& { return get(c).memory_bytes; }));
  keys.push_back(Key(
      prefix + ".cpu", AsCpu, [get](Config & c) -> auto& { return get(c).cpu_millicores; }));
  keys.push_back(Key(
      prefix + ".timeout", AsDuration, [get](Config & c) -> auto& { return get(c).timeout; }));
  keys.push_back(Key(
      prefix + ".pids", Integer(1, 1'000'000), [get](Config & c) -> auto& { return get(c).pids; }));
  keys.push_back(Key(
      prefix + ".output", AsBytes, [get](Config & c) -> auto& { return get(c).output_bytes; }));
  keys.push_back(Key(
      prefix + ".tmpfs", AsBytes, [get](Config & c) -> auto& { return get(c).tmpfs_bytes; }));
  keys.push_back(Key(
      prefix + ".file_size",
      AsBytes, [get](Config & c) -> auto& { return get(c).file_size_bytes; }));
  keys.push_back(Key(
      prefix + ".open_files",
      Integer(1, 1'000'000), [get](Config & c) -> auto& { return get(c).open_files; }));
}

const std::vector<KeySpec>& Keys() {
  static const std::vector<KeySpec> keys = [] {
    std::vector<KeySpec> k;
    // [server]
    k.push_back({"server.listen", [](Config& c, const Value& v) -> Status {
                   auto text = I8C_TRY_VALUE(AsString(v));
                   auto address = I8C_TRY_VALUE(ParseListenAddress(text));
                   c.server.listen_host = address.first;
                   c.server.listen_port = address.second;
                   return {};
                 }});
    k.push_back(Key(
        "server.data_dir", AsString, [](Config & c) -> auto& { return c.server.data_dir; }));
    k.push_back(Key(
        "server.tls_cert", AsString, [](Config & c) -> auto& { return c.server.tls_cert; }));
    k.push_back(Key(
        "server.tls_key", AsString, [](Config & c) -> auto& { return c.server.tls_key; }));
    k.push_back(Key(
        "server.io_threads", Integer(1, 64),
        [](Config & c) -> auto& { return c.server.io_threads; }));
    k.push_back(Key(
        "server.thread_slice_us", Integer(0, 100'000),
        [](Config & c) -> auto& { return c.server.thread_slice_us; }));
    k.push_back(Key(
        "server.handler_threads", Integer(0, 256),
        [](Config & c) -> auto& { return c.server.handler_threads; }));
    k.push_back(Key(
        "server.max_body_bytes", AsBytes,
        [](Config & c) -> auto& { return c.server.max_body_bytes; }));
    k.push_back(Key(
        "server.max_connections", Integer(1, 1'000'000),
        [](Config & c) -> auto& { return c.server.max_connections; }));
    k.push_back(Key(
        "server.header_timeout", AsDuration,
        [](Config & c) -> auto& { return c.server.header_timeout; }));
    k.push_back(Key(
        "server.body_timeout", AsDuration,
        [](Config & c) -> auto& { return c.server.body_timeout; }));
    k.push_back(Key(
        "server.idle_timeout", AsDuration,
        [](Config & c) -> auto& { return c.server.idle_timeout; }));
    k.push_back(Key(
        "server.shutdown_grace", AsDuration,
        [](Config & c) -> auto& { return c.server.shutdown_grace; }));
    k.push_back(Key(
        "server.sse_ping_interval", AsDuration,
        [](Config & c) -> auto& { return c.server.sse_ping_interval; }));
    k.push_back(Key(
        "server.sse_coalesce_window", AsDuration,
        [](Config & c) -> auto& { return c.server.sse_coalesce_window; }));
    k.push_back(Key(
        "server.sse_coalesce_bytes", AsBytes,
        [](Config & c) -> auto& { return c.server.sse_coalesce_bytes; }));
    k.push_back(Key(
        "server.web_root", AsString, [](Config & c) -> auto& { return c.server.web_root; }));
    k.push_back(Key(
        "server.role", Choice({"all", "api", "worker"}),
        [](Config & c) -> auto& { return c.server.role; }));
    k.push_back(Key(
        "server.trust_proxy", AsBool, [](Config & c) -> auto& { return c.server.trust_proxy; }));
    // [database]
    k.push_back(Key(
        "database.url", AsString, [](Config & c) -> auto& { return c.database.url; }));
    // [limits], [limits.default], [limits.maximum]
    k.push_back(Key(
        "limits.max_script_bytes", AsBytes,
        [](Config & c) -> auto& { return c.limits.max_script_bytes; }));
    k.push_back(Key(
        "limits.max_stdin_bytes", AsBytes,
        [](Config & c) -> auto& { return c.limits.max_stdin_bytes; }));
    AddLimitKeys(k, "limits.default", [](Config& c) -> Limits& { return c.limits.defaults; });
    AddLimitKeys(k, "limits.maximum", [](Config& c) -> Limits& { return c.limits.maximum; });
    // [sandbox]
    k.push_back(Key(
        "sandbox.kind", Choice({"local", "kubernetes"}),
        [](Config & c) -> auto& { return c.sandbox.kind; }));
    k.push_back(Key(
        "sandbox.slots", Integer(0, 1024), [](Config & c) -> auto& { return c.sandbox.slots; }));
    k.push_back(Key(
        "sandbox.cgroup_mode", Choice({"auto", "v1", "v2"}),
        [](Config & c) -> auto& { return c.sandbox.cgroup_mode; }));
    k.push_back(Key(
        "sandbox.cgroup_parent", AsString,
        [](Config & c) -> auto& { return c.sandbox.cgroup_parent; }));
    k.push_back(Key(
        "sandbox.cpu_weight", Integer(kMinCpuWeight, kMaxCpuWeight),
        [](Config & c) -> auto& { return c.sandbox.cpu_weight; }));
    k.push_back(Key(
        "sandbox.state_dir", AsString, [](Config & c) -> auto& { return c.sandbox.state_dir; }));
    k.push_back(Key(
        "sandbox.first_uid", Integer(1000, 4'000'000'000),
        [](Config & c) -> auto& { return c.sandbox.first_uid; }));
    k.push_back(Key(
        "sandbox.prebuild", AsBool, [](Config & c) -> auto& { return c.sandbox.prebuild; }));
    k.push_back(Key(
        "sandbox.warm", AsBool, [](Config & c) -> auto& { return c.sandbox.warm; }));
    k.push_back(Key(
        "sandbox.warm_zygote", AsString,
        [](Config & c) -> auto& { return c.sandbox.warm_zygote; }));
    k.push_back(Key(
        "sandbox.warm_preload", AsModuleList,
        [](Config & c) -> auto& { return c.sandbox.warm_preload; }));
    k.push_back(Key(
        "sandbox.isolation", Choice({"native", "gvisor"}),
        [](Config & c) -> auto& { return c.sandbox.isolation; }));
    k.push_back(Key(
        "sandbox.gvisor_platform", Choice({"ptrace", "systrap", "kvm"}),
        [](Config & c) -> auto& { return c.sandbox.gvisor_platform; }));
    k.push_back(Key(
        "sandbox.gvisor_runsc", AsString,
        [](Config & c) -> auto& { return c.sandbox.gvisor_runsc; }));
    // [kubernetes]
    k.push_back(Key(
        "kubernetes.api_url", AsString, [](Config & c) -> auto& { return c.kubernetes.api_url; }));
    k.push_back(Key(
        "kubernetes.token_file", AsString,
        [](Config & c) -> auto& { return c.kubernetes.token_file; }));
    k.push_back(Key(
        "kubernetes.ca_file", AsString, [](Config & c) -> auto& { return c.kubernetes.ca_file; }));
    k.push_back(Key(
        "kubernetes.namespace", AsString,
        [](Config & c) -> auto& { return c.kubernetes.namespace_name; }));
    k.push_back(Key(
        "kubernetes.runtime_class", AsString,
        [](Config & c) -> auto& { return c.kubernetes.runtime_class; }));
    k.push_back(Key(
        "kubernetes.host_users", AsBool,
        [](Config & c) -> auto& { return c.kubernetes.host_users; }));
    k.push_back(Key(
        "kubernetes.max_pods", Integer(1, 10000),
        [](Config & c) -> auto& { return c.kubernetes.max_pods; }));
    k.push_back(Key(
        "kubernetes.start_timeout", AsDuration,
        [](Config & c) -> auto& { return c.kubernetes.start_timeout; }));
    k.push_back(Key(
        "kubernetes.image_pull_policy", Choice({"Always", "IfNotPresent", "Never"}),
        [](Config & c) -> auto& { return c.kubernetes.image_pull_policy; }));
    k.push_back(Key(
        "kubernetes.node_selector", AsString,
        [](Config & c) -> auto& { return c.kubernetes.node_selector; }));
    k.push_back(Key(
        "kubernetes.tolerations", AsString,
        [](Config & c) -> auto& { return c.kubernetes.tolerations; }));
    k.push_back(Key(
        "kubernetes.helper_image", AsString,
        [](Config & c) -> auto& { return c.kubernetes.helper_image; }));
    k.push_back(Key(
        "kubernetes.worker_id", AsString,
        [](Config & c) -> auto& { return c.kubernetes.worker_id; }));
    // [queue]
    k.push_back(Key(
        "queue.workers", Integer(0, 1024), [](Config & c) -> auto& { return c.queue.workers; }));
    k.push_back(Key(
        "queue.capacity", Integer(1, 100'000'000),
        [](Config & c) -> auto& { return c.queue.capacity; }));
    k.push_back(Key(
        "queue.retention", AsDuration, [](Config & c) -> auto& { return c.queue.retention; }));
    k.push_back(Key(
        "queue.max_attempts", Integer(1, 10),
        [](Config & c) -> auto& { return c.queue.max_attempts; }));
    k.push_back(Key(
        "queue.anonymous_retention", AsDuration,
        [](Config & c) -> auto& { return c.queue.anonymous_retention; }));
    k.push_back(Key(
        "queue.lease", AsDuration, [](Config & c) -> auto& { return c.queue.lease; }));
    k.push_back(Key(
        "queue.rescue_interval", AsDuration,
        [](Config & c) -> auto& { return c.queue.rescue_interval; }));
    k.push_back(Key(
        "queue.poll_interval", AsDuration,
        [](Config & c) -> auto& { return c.queue.poll_interval; }));
    // [quotas]
    k.push_back(Key(
        "quotas.executions_per_user", Integer(0, 1'000'000'000),
        [](Config & c) -> auto& { return c.quotas.executions_per_user; }));
    k.push_back(Key(
        "quotas.execution_bytes_per_user", AsBytes,
        [](Config & c) -> auto& { return c.quotas.execution_bytes_per_user; }));
    k.push_back(Key(
        "quotas.executions_per_address", Integer(0, 1'000'000'000),
        [](Config & c) -> auto& { return c.quotas.executions_per_address; }));
    k.push_back(Key(
        "quotas.execution_bytes_per_address", AsBytes,
        [](Config & c) -> auto& { return c.quotas.execution_bytes_per_address; }));
    k.push_back(Key(
        "quotas.scripts_per_user", Integer(0, 1'000'000'000),
        [](Config & c) -> auto& { return c.quotas.scripts_per_user; }));
    k.push_back(Key(
        "quotas.script_bytes_per_user", AsBytes,
        [](Config & c) -> auto& { return c.quotas.script_bytes_per_user; }));
    // [auth]
    k.push_back(Key(
        "auth.jwt_secret", AsString, [](Config & c) -> auto& { return c.auth.jwt_secret; }));
    k.push_back(Key(
        "auth.token_ttl", AsDuration, [](Config & c) -> auto& { return c.auth.token_ttl; }));
    k.push_back(Key(
        "auth.lockout_failures", Integer(1, 1000),
        [](Config & c) -> auto& { return c.auth.lockout_failures; }));
    k.push_back(Key(
        "auth.lockout_duration", AsDuration,
        [](Config & c) -> auto& { return c.auth.lockout_duration; }));
    k.push_back(Key(
        "auth.admin_username", AsString,
        [](Config & c) -> auto& { return c.auth.admin_username; }));
    k.push_back(Key(
        "auth.admin_password", AsString,
        [](Config & c) -> auto& { return c.auth.admin_password; }));
    k.push_back(Key(
        "auth.admin_email", AsString, [](Config & c) -> auto& { return c.auth.admin_email; }));
    k.push_back(Key(
        "auth.argon2", Choice({"interactive", "moderate", "min"}),
        [](Config & c) -> auto& { return c.auth.argon2; }));
    k.push_back(Key(
        "auth.hash_threads", Integer(1, 64),
        [](Config & c) -> auto& { return c.auth.hash_threads; }));
    k.push_back(Key(
        "auth.hash_queue", Integer(0, 100'000),
        [](Config & c) -> auto& { return c.auth.hash_queue; }));
    // [rate_limits]
    k.push_back(Key(
        "rate_limits.enabled", AsBool, [](Config & c) -> auto& { return c.rate_limits.enabled; }));
    k.push_back(Key(
        "rate_limits.execute_per_minute", Integer(1, 1'000'000),
        [](Config & c) -> auto& { return c.rate_limits.execute_per_minute; }));
    k.push_back(Key(
        "rate_limits.anonymous_execute_per_minute", Integer(1, 1'000'000),
        [](Config & c) -> auto& { return c.rate_limits.anonymous_execute_per_minute; }));
    k.push_back(Key(
        "rate_limits.auth_per_minute", Integer(1, 1'000'000),
        [](Config & c) -> auto& { return c.rate_limits.auth_per_minute; }));
    k.push_back(Key(
        "rate_limits.other_per_minute", Integer(1, 1'000'000),
        [](Config & c) -> auto& { return c.rate_limits.other_per_minute; }));
    k.push_back(Key(
        "rate_limits.max_keys", Integer(16, 100'000'000),
        [](Config & c) -> auto& { return c.rate_limits.max_keys; }));
    // [metrics]
    k.push_back(Key(
        "metrics.bearer_token", AsString,
        [](Config & c) -> auto& { return c.metrics.bearer_token; }));
    k.push_back({"metrics.listen", [](Config& c, const Value& v) -> Status {
                   auto text = I8C_TRY_VALUE(AsString(v));
                   if (text.empty()) {
                     c.metrics.listen.reset();
                     return {};
                   }
                   c.metrics.listen = I8C_TRY_VALUE(ParseListenAddress(text));
                   return {};
                 }});
    // [logging]
    k.push_back({"logging.level", [](Config& c, const Value& v) -> Status {
                   auto name = I8C_TRY_VALUE(Choice({"debug", "info", "warn", "error"})(v));
                   for (LogLevel level :
                        {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
                     if (LogLevelName(level) == name) c.logging.level = level;
                   }
                   return {};
                 }});
    k.push_back({"logging.format", [](Config& c, const Value& v) -> Status {
                   // Not I8C_TRY_VALUE: GCC 12 sees the moved-out string as maybe
                   // uninitialized here (-Wmaybe-uninitialized, a false positive).
                   const auto name = Choice({"json", "text"})(v);
                   I8C_TRY(name);
                   c.logging.format = *name == "json" ? LogFormat::kJson : LogFormat::kText;
                   return {};
                 }});
    // top level
    k.push_back(Key(
        "catalog", AsString, [](Config & c) -> auto& { return c.catalog; }));
    return k;
  }();
  return keys;
}

const KeySpec* FindKey(std::string_view key) {
  for (const KeySpec& spec : Keys()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean 'server.listen'?)" for a near miss, else "".
std::string Suggestion(std::string_view wrong, bool as_environment) {
  std::string best;
  // Allow more typos in longer names: "server.listen_addr" → "server.listen".
  std::size_t best_distance = std::max<std::size_t>(4, wrong.size() / 3);
  for (const KeySpec& spec : Keys()) {
    const std::string candidate = as_environment ? EnvironmentName(spec.key) : spec.key;
    const std::size_t distance = EditDistance(wrong, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best);
}

Status ApplyKey(Config& config, std::string_view key, const Value& value, std::string_view source) {
  const KeySpec* spec = FindKey(key);
  if (spec == nullptr) {
    return Fail(
        Invalid(fmt::format("{}: unknown key '{}'{}", source, key, Suggestion(key, false))));
  }
  if (auto status = spec->apply(config, value); !status) {
    return Fail(Invalid(fmt::format("{}: {}: {}", source, key, status.error().message)));
  }
  return {};
}

Status ApplyTable(Config& config, const toml::table& table, const std::string& prefix,
                  std::string_view source) {
  for (const auto& [name, node] : table) {
    const std::string key =
        prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (const toml::table* nested = node.as_table()) {
      I8C_TRY(ApplyTable(config, *nested, key, source));
      continue;
    }
    Value value;
    if (const auto* text = node.as_string()) {
      value = text->get();
    } else if (const auto* integer = node.as_integer()) {
      value = integer->get();
    } else if (const auto* number = node.as_floating_point()) {
      value = number->get();
    } else if (const auto* flag = node.as_boolean()) {
      value = flag->get();
    } else if (const auto* array = node.as_array(); array != nullptr && FindKey(key) != nullptr) {
      std::vector<std::string> items;
      for (const toml::node& item : *array) {
        const auto* item_text = item.as_string();
        if (item_text == nullptr) {
          return Fail(
              Invalid(fmt::format("{}: {}: every item of the list must be a string", source, key)));
        }
        items.push_back(item_text->get());
      }
      value = std::move(items);
    } else if (FindKey(key) == nullptr) {
      return Fail(
          Invalid(fmt::format("{}: unknown key '{}'{}", source, key, Suggestion(key, false))));
    } else {
      return Fail(
          Invalid(fmt::format("{}: {}: must be a single value, not a list or date", source, key)));
    }
    I8C_TRY(ApplyKey(config, key, value, source));
  }
  return {};
}

Status ApplyFile(Config& config, const fs::path& file) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    if (begin.line == 0) {
      return Fail(Invalid(
          fmt::format("cannot read config file {}: {}", file.string(), error.description())));
    }
    return Fail(Invalid(
        fmt::format("{}:{}:{}: {}", file.string(), begin.line, begin.column, error.description())));
  }
  return ApplyTable(config, root, "", file.string());
}

fs::path DefaultWebRoot() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/<preset>/src/app/integr8scode → <source>/web/dist
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
      const fs::path candidate = dir / "web" / "dist";
      if (fs::is_directory(candidate, ec)) return candidate;
    }
  }
  return "/usr/local/share/integr8scode/web";
}

Status Validate(const Config& c) {
  const ServerConfig& s = c.server;
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    return Fail(Invalid("server.tls_cert and server.tls_key must be set together"));
  }
  for (const fs::path& file : {s.tls_cert, s.tls_key}) {
    if (!file.empty() && ::access(file.c_str(), R_OK) != 0) {
      return Fail(Invalid(fmt::format("cannot read TLS file {}", file.string())));
    }
  }
  if (s.data_dir.empty()) return Fail(Invalid("server.data_dir must not be empty"));
  const QueueConfig& q = c.queue;
  if (q.lease < std::chrono::seconds(1)) return Fail(Invalid("queue.lease must be at least 1s"));
  if (q.rescue_interval.count() <= 0 || q.rescue_interval > q.lease) {
    return Fail(Invalid("queue.rescue_interval must be positive and at most queue.lease"));
  }
  if (q.poll_interval.count() <= 0 || q.poll_interval > std::chrono::seconds(1)) {
    return Fail(Invalid("queue.poll_interval must be between 1ms and 1s"));
  }
  if (s.max_body_bytes < 1024) return Fail(Invalid("server.max_body_bytes must be at least 1K"));
  using std::chrono::milliseconds;
  for (const auto& [name, value] : {std::pair{"server.header_timeout", s.header_timeout},
                                    {"server.body_timeout", s.body_timeout},
                                    {"server.idle_timeout", s.idle_timeout},
                                    {"server.sse_ping_interval", s.sse_ping_interval},
                                    {"auth.token_ttl", c.auth.token_ttl},
                                    {"auth.lockout_duration", c.auth.lockout_duration}}) {
    if (value < milliseconds(10))
      return Fail(Invalid(fmt::format("{} must be at least 10ms", name)));
  }
  if (s.sse_coalesce_window > std::chrono::seconds(1))
    return Fail(Invalid("server.sse_coalesce_window must be at most 1s"));
  if (s.sse_coalesce_bytes < 1024 || s.sse_coalesce_bytes > (1u << 20))
    return Fail(Invalid("server.sse_coalesce_bytes must be between 1K and 1M"));
  if (c.limits.max_script_bytes == 0 || c.limits.max_script_bytes > s.max_body_bytes) {
    return Fail(Invalid(
        fmt::format("limits.max_script_bytes must be between 1 and server.max_body_bytes ({})",
                    FormatByteSize(s.max_body_bytes))));
  }
  if (auto status = CheckWithin(c.limits.maximum,
                                Limits{.memory_bytes = std::numeric_limits<std::uint64_t>::max(),
                                       .cpu_millicores = std::numeric_limits<std::uint32_t>::max(),
                                       .timeout = milliseconds::max(),
                                       .pids = std::numeric_limits<std::uint32_t>::max(),
                                       .output_bytes = std::numeric_limits<std::uint64_t>::max(),
                                       .tmpfs_bytes = std::numeric_limits<std::uint64_t>::max(),
                                       .file_size_bytes = std::numeric_limits<std::uint64_t>::max(),
                                       .open_files = std::numeric_limits<std::uint32_t>::max()});
      !status) {
    return Fail(Invalid("limits.maximum: " + status.error().message));
  }
  if (auto status = CheckWithin(c.limits.defaults, c.limits.maximum); !status) {
    return Fail(Invalid("limits.default: " + status.error().message));
  }
  if (!c.auth.admin_username.empty() && c.auth.admin_password.empty()) {
    return Fail(Invalid("auth.admin_password must be set when auth.admin_username is"));
  }
  return {};
}

}  // namespace

std::vector<std::string> ConfigKeys() {
  std::vector<std::string> names;
  for (const KeySpec& spec : Keys()) names.push_back(spec.key);
  return names;
}

std::string EnvironmentName(std::string_view dotted_key) {
  std::string name(kEnvPrefix);
  for (char c : dotted_key) {
    name.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return name;
}

Result<std::pair<std::string, std::uint16_t>> ParseListenAddress(std::string_view text) {
  const auto bad = [&] {
    return Fail(Invalid(fmt::format(
        "'{}' is not an address; use HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080", text)));
  };
  std::string host;
  std::string_view port_text;
  if (text.starts_with("[")) {
    const std::size_t close = text.find("]:");
    if (close == std::string_view::npos) return bad();
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return bad();
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || port_text.empty() || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port > 65535) {
    return bad();
  }
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

std::vector<std::pair<std::string, std::string>> ProcessEnvironment() {
  std::vector<std::pair<std::string, std::string>> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    env.emplace_back(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return env;
}

Result<Config> LoadConfig(const ConfigSources& sources) {
  Config config;

  std::optional<fs::path> file = sources.file;
  std::map<std::string, std::pair<std::string, const KeySpec*>> from_env;
  for (const auto& [name, value] : sources.env) {
    if (!name.starts_with(kEnvPrefix)) continue;
    if (name == kConfigFileVariable) {
      if (!file && !value.empty()) file = fs::path(value);
      continue;
    }
    const KeySpec* match = nullptr;
    bool in_a_section = false;
    for (const KeySpec& spec : Keys()) {
      if (EnvironmentName(spec.key) == name) match = &spec;
      // INTEGR8SCODE_<SECTION>_… is meant as a setting: an unknown one is a typo. Other
      // INTEGR8SCODE_* variables (a test harness's, say) are none of the server's business.
      const std::string_view key = spec.key;
      const std::size_t dot = key.find('.');
      if (dot != std::string_view::npos &&
          name.starts_with(EnvironmentName(key.substr(0, dot)) + "_")) {
        in_a_section = true;
      }
    }
    if (match == nullptr && !in_a_section) continue;
    if (match == nullptr) {
      return Fail(Invalid(
          fmt::format("environment: unknown variable {}{}; every INTEGR8SCODE_* variable must "
                      "name a setting (see docs/operations.md)",
                      name, Suggestion(name, true))));
    }
    from_env[name] = {value, match};
  }

  if (file) {
    I8C_TRY(ApplyFile(config, *file));
  }
  for (const auto& [name, entry] : from_env) {
    I8C_TRY(ApplyKey(config, entry.second->key, Value(entry.first), name));
  }
  for (const auto& [key, value] : sources.flags) {
    I8C_TRY(ApplyKey(config, key, Value(value), "command line"));
  }

  // Derived defaults, resolved once so every part sees the same values.
  std::error_code ec;
  if (config.server.data_dir.is_relative())
    config.server.data_dir = fs::absolute(config.server.data_dir, ec);
  if (config.server.web_root.empty()) config.server.web_root = DefaultWebRoot();
  if (config.database.url.empty()) {
    config.database.url = "sqlite://" + (config.server.data_dir / "integr8scode.db").string();
  }
  // Resolved here, not left to the executor: queue.workers below follows it.
  if (config.sandbox.slots == 0) config.sandbox.slots = DefaultSandboxSlots();
  if (config.queue.workers == 0) {
    config.queue.workers =
        config.sandbox.kind == "kubernetes" ? config.kubernetes.max_pods : config.sandbox.slots;
  }

  if (config.sandbox.kind == "kubernetes") {
    auto env = [&](std::string_view name) -> std::string {
      for (const auto& [key, value] : sources.env) {
        if (key == name) return value;
      }
      return {};
    };
    // In a cluster the API server is announced by the kubelet's service variables.
    if (config.kubernetes.api_url.empty() && !env("KUBERNETES_SERVICE_HOST").empty()) {
      const std::string host = env("KUBERNETES_SERVICE_HOST");
      const std::string port = env("KUBERNETES_SERVICE_PORT");
      config.kubernetes.api_url = fmt::format(
          "https://{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host,
          port.empty() ? "443" : port);
    }
    if (config.kubernetes.worker_id.empty()) config.kubernetes.worker_id = env("HOSTNAME");
    if (config.kubernetes.api_url.empty()) {
      return Fail(
          Invalid("sandbox.kind is \"kubernetes\" but kubernetes.api_url is not set and "
                  "KUBERNETES_SERVICE_HOST is not in the environment; set kubernetes.api_url"));
    }
  }

  I8C_TRY(Validate(config));
  return config;
}

}  // namespace integr8scode
