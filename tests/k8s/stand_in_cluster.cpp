// A stand-in for a Kubernetes cluster (see the header): API server and kubelet.
#include "k8s/stand_in_cluster.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>

#include "common/cancel.hpp"
#include "k8s/log_frames.hpp"
#include "k8s/pod_security.hpp"
#include "k8s/stand_in_internal.hpp"

namespace integr8scode::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace standin;  // NOLINT: the helpers of this one component

struct TlsState {
  ssl::context context{ssl::context::tls_server};
};

struct Listener {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

struct StandInCluster::Connection {
  int fd = -1;
  std::thread thread;
  std::atomic<bool> done{false};
};

namespace {

std::string RandomHex(std::size_t bytes) {
  static std::mutex mutex;
  static std::mt19937_64 random{std::random_device{}()};
  std::lock_guard lock(mutex);
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out += "0123456789abcdef"[random() % 16];
  }
  return out;
}

std::string StatusBody(unsigned code, std::string_view reason, std::string_view message) {
  json::object status{{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
                      {"status", "Failure"}, {"message", message}, {"reason", reason},
                      {"code", code}};
  return json::serialize(status);
}

std::string Decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};

Target ParseTarget(std::string_view target) {
  Target parsed;
  const std::size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    parsed.segments.push_back(Decode(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view item = query.substr(0, amp);
      const std::size_t eq = item.find('=');
      parsed.query[Decode(item.substr(0, eq))] =
          eq == std::string_view::npos ? "" : Decode(item.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return parsed;
}

std::map<std::string, std::string> ParseSelector(const std::string& text) {
  std::map<std::string, std::string> selector;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    if (eq != std::string::npos) selector[item.substr(0, eq)] = item.substr(eq + 1);
    start = comma + 1;
  }
  return selector;
}

bool Matches(const json::object& object, const std::map<std::string, std::string>& selector) {
  const json::value* metadata = object.if_contains("metadata");
  const json::value* labels = metadata != nullptr && metadata->is_object()
                                  ? metadata->get_object().if_contains("labels")
                                  : nullptr;
  for (const auto& [key, value] : selector) {
    if (labels == nullptr || !labels->is_object()) return false;
    const json::value* have = labels->get_object().if_contains(key);
    if (have == nullptr || !have->is_string() || have->get_string() != value) return false;
  }
  return true;
}

}  // namespace

StandInCluster::StandInCluster(StandInOptions options) : options_(std::move(options)) {
  if (!WriteLoopbackCertificate(CaFile(), options_.dir / "key.pem")) return;
  tls_ = std::make_unique<TlsState>();
  tls_->context.use_certificate_chain_file(CaFile().string());
  tls_->context.use_private_key_file((options_.dir / "key.pem").string(), ssl::context::pem);
  RotateToken();
  Listen();
}

StandInCluster::~StandInCluster() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [name, pod] : pods_) pod->cancel->Cancel();
  }
  changed_.notify_all();
  StopServing();
  for (std::thread& kubelet : kubelets_) kubelet.join();
}

std::string StandInCluster::Url() const { return "https://127.0.0.1:" + std::to_string(port_); }

void StandInCluster::Listen() {
  listener_ = std::make_unique<Listener>();
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
  listener_->acceptor.open(endpoint.protocol());
  listener_->acceptor.set_option(asio::socket_base::reuse_address(true));
  listener_->acceptor.bind(endpoint);
  listener_->acceptor.listen();
  port_ = listener_->acceptor.local_endpoint().port();
  {
    std::lock_guard lock(mutex_);
    serving_ = true;
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

void StandInCluster::AcceptLoop() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(listener_->ioc);
    listener_->acceptor.accept(socket, ec);
    if (ec) return;
    auto connection = std::make_shared<Connection>();
    connection->fd = socket.native_handle();
    std::lock_guard lock(mutex_);
    if (!serving_) return;
    // Finished connections are reaped here, so that long runs do not pile up threads.
    std::erase_if(connections_, [](const std::shared_ptr<Connection>& c) {
      if (!c->done) return false;
      c->thread.join();
      return true;
    });
    connections_.push_back(connection);
    connection->thread = std::thread([this, connection, s = std::move(socket)]() mutable {
      beast::error_code ignored;
      ssl::stream<tcp::socket> stream(std::move(s), tls_->context);
      stream.handshake(ssl::stream_base::server, ignored);
      if (!ignored) Serve(stream, *connection);
      stream.next_layer().close(ignored);
      connection->done = true;
    });
  }
}

void StandInCluster::StopServing() {
  std::vector<std::shared_ptr<Connection>> connections;
  {
    std::lock_guard lock(mutex_);
    serving_ = false;
    ++watch_generation_;
    connections.swap(connections_);
  }
  changed_.notify_all();
  if (listener_) {
    beast::error_code ignored;
    ::shutdown(listener_->acceptor.native_handle(), SHUT_RDWR);
    listener_->acceptor.close(ignored);
  }
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& c : connections) {
    if (!c->done) ::shutdown(c->fd, SHUT_RDWR);
    c->thread.join();
  }
  listener_.reset();
}

void StandInCluster::Restart() {
  StopServing();
  {
    // A restarted API server has an empty watch cache: older versions are gone (and
    // the cluster's other objects have moved on meanwhile).
    std::lock_guard lock(mutex_);
    history_floor_ = ++rv_;
  }
  Listen();
}

void StandInCluster::FailNext(unsigned status, int count, std::string verb, std::string path_part) {
  std::lock_guard lock(mutex_);
  failures_.push_back({status, count, std::move(verb), std::move(path_part)});
}

void StandInCluster::FailPull(std::string image) {
  std::lock_guard lock(mutex_);
  pull_failures_.insert(std::move(image));
}

void StandInCluster::SetUnschedulable(bool unschedulable) {
  std::lock_guard lock(mutex_);
  unschedulable_ = unschedulable;
}

void StandInCluster::HoldPending(bool hold) {
  std::lock_guard lock(mutex_);
  hold_pending_ = hold;
}

void StandInCluster::DropWatches() {
  {
    std::lock_guard lock(mutex_);
    ++watch_generation_;
  }
  changed_.notify_all();
}

void StandInCluster::ForgetHistory() {
  {
    std::lock_guard lock(mutex_);
    history_floor_ = ++rv_;
    ++watch_generation_;
  }
  changed_.notify_all();
}

void StandInCluster::RotateToken() {
  std::lock_guard lock(mutex_);
  token_ = "token-" + std::to_string(++token_serial_) + "-" + RandomHex(24);
  const auto temporary = options_.dir / "token.new";
  std::ofstream(temporary) << token_ << "\n";
  std::filesystem::rename(temporary, TokenFile());
}

void StandInCluster::OomKillNextContainerWhole() {
  std::lock_guard lock(mutex_);
  oom_group_next_ = true;
}

void StandInCluster::DeleteNextPodWhenRunning() {
  std::lock_guard lock(mutex_);
  delete_when_running_ = true;
}

StandInTraffic StandInCluster::Traffic() const {
  std::lock_guard lock(mutex_);
  return traffic_;
}

void StandInCluster::ResetTraffic() {
  std::lock_guard lock(mutex_);
  traffic_ = {};
  most_pods_ = pods_.size();
}

std::size_t StandInCluster::MostPodsAtOnce() const {
  std::lock_guard lock(mutex_);
  return most_pods_;
}

std::size_t StandInCluster::Pods() const {
  std::lock_guard lock(mutex_);
  return pods_.size();
}

std::size_t StandInCluster::ConfigMaps() const {
  std::lock_guard lock(mutex_);
  return config_maps_.size();
}

bool StandInCluster::HasPod(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return pods_.contains(name);
}

std::optional<json::object> StandInCluster::LastPodCreated() const {
  std::lock_guard lock(mutex_);
  return last_pod_;
}

std::set<std::string> StandInCluster::PermissionsUsed() const {
  std::lock_guard lock(mutex_);
  return permissions_used_;
}

std::vector<std::string> StandInCluster::Refusals() const {
  std::lock_guard lock(mutex_);
  return refusals_;
}

void StandInCluster::AddOrphanPod(const std::string& name,
                                  const std::map<std::string, std::string>& labels,
                                  std::int64_t expires_at) {
  std::lock_guard lock(mutex_);
  auto pod = std::make_shared<Pod>();
  json::object label_object;
  for (const auto& [k, v] : labels) label_object[k] = v;
  pod->object = {{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata",
                  {{"name", name},
                   {"uid", RandomHex(32)},
                   {"labels", label_object},
                   {"annotations", {{"integr8scode.io/expires-at", std::to_string(expires_at)}}}}},
                 {"spec", json::object()},
                 {"status", {{"phase", "Running"}}}};
  pods_[name] = pod;
  Touch(name, "ADDED");
}

void StandInCluster::Touch(const std::string& name, const std::string& type) {
  auto it = pods_.find(name);
  if (it == pods_.end()) return;
  ++rv_;
  Ensure(it->second->object, "metadata")["resourceVersion"] = std::to_string(rv_);
  events_.push_back(
      {rv_, type, name,
       json::serialize(json::object{{"type", type}, {"object", it->second->object}})});
  changed_.notify_all();
}

void StandInCluster::DeletePodLocked(const std::string& name) {
  auto it = pods_.find(name);
  if (it == pods_.end()) return;
  it->second->cancel->Cancel();
  const std::string uid = Str(Obj(&it->second->object, "metadata"), "uid");
  Touch(name, "DELETED");
  pods_.erase(it);
  // The garbage collector: objects owned by the pod go with it.
  std::erase_if(config_maps_, [&](const auto& entry) {
    const json::array* owners = Arr(Obj(&entry.second, "metadata"), "ownerReferences");
    if (owners == nullptr) return false;
    for (const json::value& owner : *owners) {
      if (owner.is_object() && Str(&owner.get_object(), "uid") == uid) return true;
    }
    return false;
  });
}

template <class Stream>
void StandInCluster::Serve(Stream& stream, Connection& connection) {
  (void)connection;
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.body_limit(8u << 20);
  beast::error_code ec;
  const std::size_t read = http::read(stream, buffer, parser, ec);
  if (ec) return;
  const auto& request = parser.get();
  const std::string verb(request.method_string());
  const std::string raw_target(request.target());
  const Target target = ParseTarget(raw_target);

  std::uint64_t written = 0;
  auto respond = [&](unsigned status, const std::string& body) {
    http::response<http::string_body> response(static_cast<http::status>(status), 11);
    response.set(http::field::content_type, "application/json");
    if (status == 429) response.set(http::field::retry_after, "0");
    response.keep_alive(false);
    response.body() = body;
    response.prepare_payload();
    beast::error_code e;
    written += http::write(stream, response, e);
  };
  auto finish = [&] {
    std::lock_guard lock(mutex_);
    traffic_.bytes_out += written;
  };

  // Call name for the figures: "GET pods/log (follow)", "POST configmaps" …
  std::string call = verb + " ";
  const auto& s = target.segments;
  const bool namespaced = s.size() >= 5 && s[0] == "api" && s[1] == "v1" && s[2] == "namespaces";
  const std::string resource = namespaced ? s[4] : "?";
  call += resource;
  if (namespaced && s.size() == 7) call += "/" + s[6];
  if (target.query.contains("watch")) call += " (watch)";
  if (target.query.contains("follow")) call += " (follow)";
  std::string rbac_verb = verb == "POST"                   ? "create"
                          : verb == "DELETE"               ? "delete"
                          : verb == "PUT"                  ? "update"
                          : verb == "PATCH"                ? "patch"
                          : target.query.contains("watch") ? "watch"
                          : namespaced && s.size() == 5    ? "list"
                                                           : "get";
  {
    std::lock_guard lock(mutex_);
    permissions_used_.insert(resource + (namespaced && s.size() == 7 ? "/" + s[6] : "") + " " +
                             rbac_verb);
    traffic_.requests += 1;
    traffic_.bytes_in += read;
    traffic_.by_call[call] += 1;
  }

  // Authentication first, as kube-apiserver does.
  {
    std::unique_lock lock(mutex_);
    const std::string expected = "Bearer " + token_;
    if (request[http::field::authorization] != expected) {
      lock.unlock();
      respond(401, StatusBody(401, "Unauthorized", "Unauthorized"));
      return finish();
    }
    for (Failure& failure : failures_) {
      if (failure.count > 0 && failure.verb == verb &&
          raw_target.find(failure.path_part) != std::string::npos) {
        --failure.count;
        const unsigned status = failure.status;
        lock.unlock();
        respond(status,
                StatusBody(status, status == 429 ? "TooManyRequests" : "InternalError",
                           status == 429 ? "the server has received too many requests"
                                         : "an error on the server has prevented the request"));
        return finish();
      }
    }
  }
  if (!namespaced) {
    respond(404, StatusBody(404, "NotFound", "the server could not find the requested resource"));
    return finish();
  }
  const std::string& name_space = s[3];
  const std::string name = s.size() >= 6 ? s[5] : "";

  auto parse_body = [&](std::string_view definition, json::object& out) -> bool {
    boost::system::error_code jec;
    json::value value = json::parse(request.body(), jec);
    if (jec || !value.is_object()) {
      respond(400, StatusBody(400, "BadRequest", "the body is not a JSON object"));
      return false;
    }
    if (options_.schema != nullptr) {
      auto problems = options_.schema->Validate(value, definition);
      if (!problems.empty()) {
        std::string message = "strict decoding error: ";
        for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? ", " : "") + problems[i];
        {
          std::lock_guard lock(mutex_);
          refusals_.push_back(message);
        }
        respond(422, StatusBody(422, "Invalid", message));
        return false;
      }
    }
    out = std::move(value.get_object());
    return true;
  };

  if (resource == "pods" && verb == "POST" && name.empty()) {
    json::object pod;
    if (!parse_body("io.k8s.api.core.v1.Pod", pod)) return finish();
    const std::string pod_name = Str(Obj(&pod, "metadata"), "name");
    const auto violations = RestrictedViolations(pod);
    if (!violations.empty()) {
      std::string message =
          "pods \"" + pod_name + "\" is forbidden: violates PodSecurity \"restricted:latest\": ";
      for (std::size_t i = 0; i < violations.size(); ++i)
        message += (i ? ", " : "") + violations[i];
      {
        std::lock_guard lock(mutex_);
        refusals_.push_back(message);
      }
      respond(403, StatusBody(403, "Forbidden", message));
      return finish();
    }
    std::unique_lock lock(mutex_);
    if (pods_.contains(pod_name)) {
      lock.unlock();
      respond(409, StatusBody(409, "AlreadyExists", "pods \"" + pod_name + "\" already exists"));
      return finish();
    }
    auto record = std::make_shared<Pod>();
    json::object& metadata = Ensure(pod, "metadata");
    metadata["uid"] = RandomHex(8) + "-" + RandomHex(4) + "-" + RandomHex(4) + "-" + RandomHex(4) +
                      "-" + RandomHex(12);
    metadata["namespace"] = name_space;
    metadata["creationTimestamp"] = "2026-01-01T00:00:00Z";
    pod["status"] = {{"phase", "Pending"}, {"qosClass", "Guaranteed"}};
    record->object = pod;
    pods_[pod_name] = record;
    most_pods_ = std::max(most_pods_, pods_.size());
    last_pod_ = pod;
    Touch(pod_name, "ADDED");
    const std::string body = json::serialize(record->object);
    kubelets_.emplace_back([this, pod_name] { Kubelet(pod_name); });
    lock.unlock();
    respond(201, body);
    return finish();
  }
  if (resource == "configmaps" && verb == "POST") {
    json::object config_map;
    if (!parse_body("io.k8s.api.core.v1.ConfigMap", config_map)) return finish();
    const std::string cm_name = Str(Obj(&config_map, "metadata"), "name");
    std::unique_lock lock(mutex_);
    if (config_maps_.contains(cm_name)) {
      lock.unlock();
      respond(409,
              StatusBody(409, "AlreadyExists", "configmaps \"" + cm_name + "\" already exists"));
      return finish();
    }
    Ensure(config_map, "metadata")["resourceVersion"] = std::to_string(++rv_);
    config_maps_[cm_name] = config_map;
    changed_.notify_all();
    const std::string body = json::serialize(config_map);
    lock.unlock();
    respond(201, body);
    return finish();
  }
  if (resource == "pods" && verb == "DELETE" && !name.empty()) {
    if (!request.body().empty()) {
      json::object options;
      if (!parse_body("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", options))
        return finish();
    }
    std::unique_lock lock(mutex_);
    auto it = pods_.find(name);
    if (it == pods_.end()) {
      lock.unlock();
      respond(404, StatusBody(404, "NotFound", "pods \"" + name + "\" not found"));
      return finish();
    }
    const std::string body = json::serialize(it->second->object);
    DeletePodLocked(name);
    lock.unlock();
    respond(200, body);
    return finish();
  }
  if (resource == "pods" && verb == "GET" && !name.empty() && s.size() == 6) {
    std::unique_lock lock(mutex_);
    auto it = pods_.find(name);
    if (it == pods_.end()) {
      lock.unlock();
      respond(404, StatusBody(404, "NotFound", "pods \"" + name + "\" not found"));
      return finish();
    }
    const std::string body = json::serialize(it->second->object);
    lock.unlock();
    respond(200, body);
    return finish();
  }

  // Streams: the header first, then chunks as things happen.
  auto start_chunked = [&]() -> bool {
    http::response<http::empty_body> response(http::status::ok, 11);
    response.set(http::field::content_type, "application/json");
    response.chunked(true);
    http::response_serializer<http::empty_body> serializer(response);
    beast::error_code e;
    written += http::write_header(stream, serializer, e);
    return !e;
  };
  auto chunk = [&](std::string_view data) -> bool {
    beast::error_code e;
    written += asio::write(stream, http::make_chunk(asio::buffer(data.data(), data.size())), e);
    return !e;
  };
  auto end_chunks = [&] {
    beast::error_code e;
    written += asio::write(stream, http::make_chunk_last(), e);
  };

  if (resource == "pods" && verb == "GET" && name.empty() && target.query.contains("watch")) {
    std::uint64_t cursor = 0;
    try {
      cursor = std::stoull(
          target.query.count("resourceVersion") ? target.query.at("resourceVersion") : "0");
    } catch (...) {
    }
    std::string field = target.query.count("fieldSelector") ? target.query.at("fieldSelector") : "";
    const std::string only = field.starts_with("metadata.name=") ? field.substr(14) : "";
    int timeout_s = 300;
    if (target.query.count("timeoutSeconds"))
      timeout_s = std::stoi(target.query.at("timeoutSeconds"));
    const auto until = Clock::now() + std::chrono::seconds(timeout_s);
    std::unique_lock lock(mutex_);
    const bool gone = cursor < history_floor_;
    const std::uint64_t generation = watch_generation_;
    lock.unlock();
    if (!start_chunked()) return finish();
    if (gone) {
      // As kube-apiserver: the watch opens, then ends with an ERROR event carrying 410.
      json::object event{
          {"type", "ERROR"},
          {"object", json::parse(StatusBody(410, "Expired", "too old resource version"))}};
      chunk(json::serialize(event) + "\n");
      end_chunks();
      return finish();
    }
    lock.lock();
    while (!stopping_ && generation == watch_generation_ && Clock::now() < until) {
      std::vector<std::string> lines;
      for (const Event& e : events_) {
        if (e.rv > cursor && (only.empty() || e.name == only)) lines.push_back(e.json + "\n");
      }
      if (!events_.empty()) cursor = std::max(cursor, events_.back().rv);
      lock.unlock();
      for (const std::string& line : lines) {
        if (!chunk(line)) return finish();
      }
      lock.lock();
      changed_.wait_for(lock, std::chrono::milliseconds(100), [&] {
        return stopping_ || generation != watch_generation_ ||
               (!events_.empty() && events_.back().rv > cursor);
      });
    }
    lock.unlock();
    end_chunks();
    return finish();
  }
  if (resource == "pods" && verb == "GET" && name.empty()) {
    const auto selector =
        ParseSelector(target.query.count("labelSelector") ? target.query.at("labelSelector") : "");
    std::unique_lock lock(mutex_);
    json::array items;
    std::size_t limit = target.query.count("limit") ? std::stoul(target.query.at("limit")) : 0;
    for (const auto& [pod_name, pod] : pods_) {
      if (limit != 0 && items.size() >= limit) break;
      if (Matches(pod->object, selector)) items.push_back(pod->object);
    }
    json::object list{{"kind", "PodList"},
                      {"apiVersion", "v1"},
                      {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                      {"items", std::move(items)}};
    lock.unlock();
    respond(200, json::serialize(list));
    return finish();
  }
  if (resource == "pods" && verb == "GET" && s.size() == 7 && s[6] == "log") {
    const bool follow = target.query.count("follow") && target.query.at("follow") == "true";
    std::unique_lock lock(mutex_);
    auto it = pods_.find(name);
    if (it == pods_.end()) {
      lock.unlock();
      respond(404, StatusBody(404, "NotFound", "pods \"" + name + "\" not found"));
      return finish();
    }
    std::shared_ptr<Pod> pod = it->second;
    if (!pod->started) {
      lock.unlock();
      respond(400, StatusBody(400, "BadRequest",
                              "container \"run\" in pod \"" + name +
                                  "\" is waiting to start: ContainerCreating"));
      return finish();
    }
    const std::uint64_t generation = watch_generation_;
    lock.unlock();
    if (!start_chunked()) return finish();
    std::size_t offset = 0;
    lock.lock();
    for (;;) {
      const std::string data = pod->log.substr(offset);
      offset = pod->log.size();
      const bool over = pod->terminated || !pods_.contains(name);
      lock.unlock();
      if (!data.empty() && !chunk(data)) return finish();
      lock.lock();
      if (!follow || stopping_ || generation != watch_generation_ ||
          (over && offset == pod->log.size()))
        break;
      changed_.wait_for(lock, std::chrono::milliseconds(100), [&] {
        return stopping_ || pod->log.size() > offset || pod->terminated || !pods_.contains(name);
      });
    }
    lock.unlock();
    end_chunks();
    return finish();
  }
  respond(405,
          StatusBody(405, "MethodNotAllowed", verb + " " + raw_target + " is not served here"));
  finish();
}

}  // namespace integr8scode::testing
