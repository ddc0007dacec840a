#include "k8s/pod_watch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "common/cancel.hpp"
#include "common/log.hpp"
#include "common/try.hpp"

namespace integr8scode {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr auto kReadSlice = std::chrono::milliseconds(200);

}  // namespace

PodWatch::PodWatch(KubeClient& client, std::string namespace_name, std::string name,
                   std::string resource_version)
    : client_(client),
      namespace_(std::move(namespace_name)),
      name_(std::move(name)),
      resource_version_(std::move(resource_version)) {}

PodWatch::~PodWatch() = default;

Status PodWatch::Relist(const CancelToken* cancel) {
  stream_.reset();
  auto response = I8C_TRY_VALUE(client_.Call(
      "GET", fmt::format("/api/v1/namespaces/{}/pods/{}", namespace_, name_), "", cancel));
  if (response.status == 404) {
    latest_.deleted = true;
    return {};
  }
  if (response.status != 200) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("read pod {}: HTTP {}", name_, response.status));
  }
  boost::system::error_code ec;
  json::value pod = json::parse(response.body, ec);
  if (ec || !pod.is_object()) return Fail(ErrorCode::kUnavailable, "read pod: not JSON");
  latest_ = ReadPodState(pod.get_object());
  resource_version_ = latest_.resource_version;
  return {};
}

Status PodWatch::OpenStream(Clock::time_point deadline, const CancelToken* cancel) {
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now());
  const auto timeout_s = std::clamp<std::int64_t>(left.count() + 1, 1, 300);
  const std::string target = fmt::format(
      "/api/v1/namespaces/{}/pods?watch=true&fieldSelector=metadata.name%3D{}"
      "&resourceVersion={}&allowWatchBookmarks=true&timeoutSeconds={}",
      namespace_, name_, resource_version_, timeout_s);
  auto stream = I8C_TRY_VALUE(client_.Open(target, cancel));
  const unsigned status = stream->HttpStatus();
  if (status == 410) return Relist(cancel);
  if (status != 200) {
    return Fail(ErrorCode::kUnavailable, fmt::format("watch pod {}: HTTP {}", name_, status));
  }
  stream_ = std::move(stream);
  return {};
}

Result<bool> PodWatch::Apply(std::string& buffer) {
  std::size_t start = 0;
  bool relist = false;
  for (std::size_t newline; (newline = buffer.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    const std::string_view line(buffer.data() + start, newline - start);
    if (line.find_first_not_of(" \r") == std::string_view::npos) continue;
    boost::system::error_code ec;
    json::value event = json::parse(line, ec);
    if (ec || !event.is_object()) continue;
    const json::object& e = event.get_object();
    const json::value* type = e.if_contains("type");
    const json::value* object = e.if_contains("object");
    if (type == nullptr || !type->is_string() || object == nullptr || !object->is_object())
      continue;
    const std::string_view kind = type->get_string();
    if (kind == "ERROR") {
      // The server ends a watch whose version it no longer has with a Status 410.
      const json::value* code = object->get_object().if_contains("code");
      if (code != nullptr && code->is_int64() && code->get_int64() == 410) relist = true;
      continue;
    }
    const PodState state = ReadPodState(object->get_object());
    if (!state.resource_version.empty()) resource_version_ = state.resource_version;
    if (kind == "BOOKMARK") continue;
    latest_ = state;
    if (kind == "DELETED") latest_.deleted = true;
  }
  buffer.erase(0, start);
  return relist;
}

Result<PodWatch::Outcome> PodWatch::Until(const std::function<bool(const PodState&)>& done,
                                          Clock::time_point deadline, const CancelToken* cancel) {
  std::string buffer;
  for (;;) {
    if (latest_.deleted || done(latest_)) return Outcome{End::kMatched, latest_};
    if (cancel != nullptr && cancel->Cancelled()) return Outcome{End::kCancelled, latest_};
    const auto now = Clock::now();
    if (now >= deadline) return Outcome{End::kDeadline, latest_};
    if (!stream_) {
      buffer.clear();
      I8C_TRY(OpenStream(deadline, cancel));
      continue;
    }
    auto state = stream_->Read(
        std::min(kReadSlice, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)),
        buffer);
    if (!state) {
      Log(LogLevel::kDebug, "pod watch broke; watching again",
          {{"pod", name_}, {"error", state.error().Describe()}});
      stream_.reset();
      continue;
    }
    auto relist = Apply(buffer);
    if (relist && *relist) {
      I8C_TRY(Relist(cancel));
      continue;
    }
    if (*state == KubeStream::ReadState::kEnd) stream_.reset();
  }
}

}  // namespace integr8scode
