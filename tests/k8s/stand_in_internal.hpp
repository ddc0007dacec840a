#pragma once

// Shared by the parts of the stand-in cluster (its API server and its kubelet): the pod
// record and small JSON helpers. Not for the suites.

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "common/cancel.hpp"
#include "k8s/stand_in_cluster.hpp"

namespace integr8scode::testing {

namespace json = boost::json;

struct StandInCluster::Pod {
  json::object object;
  std::string log;
  bool started = false;
  bool terminated = false;
  std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
};

namespace standin {

inline json::object& Ensure(json::object& object, std::string_view key) {
  json::value& v = object[key];
  if (!v.is_object()) v = json::object();
  return v.get_object();
}

inline std::uint64_t ParseQuantity(const json::value* value, std::uint64_t fallback) {
  if (value == nullptr || !value->is_string()) return fallback;
  const std::string text(value->get_string());
  try {
    if (text.ends_with("m")) return std::stoull(text.substr(0, text.size() - 1));
    if (text.ends_with("Mi")) return std::stoull(text) << 20;
    if (text.ends_with("Gi")) return std::stoull(text) << 30;
    return std::stoull(text);
  } catch (...) {
    return fallback;
  }
}

inline const json::object* Obj(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const json::value* v = o->if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

inline const json::array* Arr(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const json::value* v = o->if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

inline std::string Str(const json::object* o, std::string_view key) {
  if (o == nullptr) return {};
  const json::value* v = o->if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The container statuses the kubelet reports, rebuilt from what this one knows.
inline json::object ContainerStatus(std::string_view name, std::string_view image,
                                    json::object state) {
  return {{"name", name},
          {"image", image},
          {"imageID", ""},
          {"ready", false},
          {"restartCount", 0},
          {"started", false},
          {"state", std::move(state)}};
}

}  // namespace standin
}  // namespace integr8scode::testing
