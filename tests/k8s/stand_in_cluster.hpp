#pragma once

// A STAND-IN FOR A KUBERNETES CLUSTER. No cluster can run on the test machines (no
// kube-apiserver in the reachable registries), so this speaks the part of the
// Kubernetes REST API the pod executor uses, as kube-apiserver does: HTTPS with a bearer
// token, JSON, resourceVersions, chunked watches (with 410 Gone for a version it no
// longer has), followed logs, Status bodies. It validates every object it receives
// against the official OpenAPI schema of its kind (when the suite has the schema) and
// enforces the restricted Pod Security Standard, refusing like admission does. Its
// "kubelet" runs each pod's container with the real local sandbox: the pod's image is
// mapped to a catalog runtime, and the container's command (the real in-pod wrapper)
// runs with the pod's limits, so output, exit codes, OOM kills and deadlines are real.
// Faults can be injected: image pull errors, an unschedulable pod, dropped watches and
// 410 Gone, 429 and 500 answers, token rotation, a restart mid-run, a pod deleted from
// outside. Thread-safe.

#include <atomic>
#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/executor.hpp"
#include "domain/runtime.hpp"
#include "k8s/openapi_schema.hpp"

namespace integr8scode::testing {

struct StandInOptions {
  std::filesystem::path dir;  // the CA certificate, the server key and the token go here
  const RuntimeCatalog* catalog = nullptr;
  Executor* local = nullptr;       // the sandbox that runs the containers
  std::filesystem::path pod_init;  // the built integr8scode-pod-init
  std::string helper_image = "integr8scode-helper:test";
  const OpenApiSchema* schema = nullptr;  // null: no schema validation
  std::map<std::string, std::string> node_labels = {{"kubernetes.io/os", "linux"}};
};

struct StandInTraffic {
  std::uint64_t requests = 0;
  std::uint64_t bytes_in = 0;                    // requests, as read from the sockets
  std::uint64_t bytes_out = 0;                   // responses, chunks included
  std::map<std::string, std::uint64_t> by_call;  // "POST pods" → count
};

class StandInCluster {
 public:
  explicit StandInCluster(StandInOptions options);
  ~StandInCluster();
  StandInCluster(const StandInCluster&) = delete;
  StandInCluster& operator=(const StandInCluster&) = delete;

  bool Started() const { return port_ != 0; }
  std::string Url() const;
  std::filesystem::path TokenFile() const { return options_.dir / "token"; }
  std::filesystem::path CaFile() const { return options_.dir / "ca.pem"; }

  // Faults.
  // The next `count` requests of `verb` whose target contains `path_part` get `status`.
  void FailNext(unsigned status, int count, std::string verb, std::string path_part);
  void FailPull(std::string image);
  void SetUnschedulable(bool unschedulable);
  void HoldPending(bool hold);
  void DropWatches();    // ends every open watch now
  void ForgetHistory();  // watches from an older version get 410 Gone
  void RotateToken();    // a new token in the file; the old one is refused
  void Restart();        // closes every connection and listens again; objects stay
  void DeleteNextPodWhenRunning();
  // The next pod's container is OOM-killed whole (memory.oom.group), wrapper included,
  // once its program has printed: no report from the wrapper, only the kubelet's reason.
  void OomKillNextContainerWhole();

  // Observations.
  StandInTraffic Traffic() const;
  void ResetTraffic();
  std::size_t Pods() const;
  std::size_t MostPodsAtOnce() const;  // since the last ResetTraffic()
  std::size_t ConfigMaps() const;
  std::optional<boost::json::object> LastPodCreated() const;
  std::vector<std::string> Refusals() const;  // schema and admission refusals, as sent
  // What RBAC would have had to allow for the requests so far: "pods/log get" …
  std::set<std::string> PermissionsUsed() const;
  // Adds a pod directly (as another worker would have), for the janitor.
  void AddOrphanPod(const std::string& name, const std::map<std::string, std::string>& labels,
                    std::int64_t expires_at);
  bool HasPod(const std::string& name) const;

 private:
  struct Pod;
  struct Event {
    std::uint64_t rv;
    std::string type;
    std::string name;
    std::string json;
  };
  struct Connection;

  void Listen();
  void AcceptLoop();
  template <class Stream>
  void Serve(Stream& stream, Connection& connection);
  void StopServing();
  void Kubelet(std::string name);
  // With mutex_ held: a new resourceVersion and an event for a changed pod.
  void Touch(const std::string& name, const std::string& type);
  void DeletePodLocked(const std::string& name);

  StandInOptions options_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t rv_ = 1000;
  std::uint64_t history_floor_ = 0;
  std::uint64_t watch_generation_ = 0;
  std::vector<Event> events_;
  std::map<std::string, std::shared_ptr<Pod>> pods_;
  std::map<std::string, boost::json::object> config_maps_;
  std::optional<boost::json::object> last_pod_;
  std::vector<std::string> refusals_;
  std::set<std::string> permissions_used_;
  std::string token_;
  int token_serial_ = 0;
  struct Failure {
    unsigned status;
    int count;
    std::string verb;
    std::string path_part;
  };
  std::vector<Failure> failures_;
  std::set<std::string> pull_failures_;
  bool unschedulable_ = false;
  bool hold_pending_ = false;
  bool delete_when_running_ = false;
  bool oom_group_next_ = false;
  StandInTraffic traffic_;
  std::size_t most_pods_ = 0;
  bool stopping_ = false;
  bool serving_ = false;

  std::unique_ptr<struct TlsState> tls_;
  std::unique_ptr<struct Listener> listener_;
  std::thread acceptor_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::vector<std::thread> kubelets_;
};

// A self-signed certificate for 127.0.0.1 (subjectAltName IP) and its key.
bool WriteLoopbackCertificate(const std::filesystem::path& cert, const std::filesystem::path& key);

}  // namespace integr8scode::testing
