#include "k8s/pod_security.hpp"

#include <boost/json.hpp>
#include <set>

namespace integr8scode::testing {
namespace {

namespace json = boost::json;

const json::object* Obj(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const json::value* v = o->if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

const json::value* Val(const json::object* o, std::string_view key) {
  return o == nullptr ? nullptr : o->if_contains(key);
}

bool IsTrue(const json::value* v) { return v != nullptr && v->is_bool() && v->get_bool(); }
bool IsFalse(const json::value* v) { return v != nullptr && v->is_bool() && !v->get_bool(); }

std::string Quoted(const std::vector<std::string>& names, std::string_view noun) {
  std::string text(noun);
  text += names.size() == 1 ? " " : "s ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    text += (i == 0 ? "\"" : ", \"") + names[i] + "\"";
  }
  return text;
}

}  // namespace

std::vector<std::string> RestrictedViolations(const json::object& pod) {
  std::vector<std::string> violations;
  const json::object* spec = Obj(&pod, "spec");
  const json::object* pod_context = Obj(spec, "securityContext");

  std::vector<const json::object*> containers;
  for (std::string_view list : {"initContainers", "containers", "ephemeralContainers"}) {
    const json::value* items = Val(spec, list);
    if (items == nullptr || !items->is_array()) continue;
    for (const json::value& item : items->get_array()) {
      if (item.is_object()) containers.push_back(&item.get_object());
    }
  }
  auto name_of = [](const json::object* c) {
    const json::value* name = c->if_contains("name");
    return name != nullptr && name->is_string() ? std::string(name->get_string()) : std::string();
  };

  // Baseline: host namespaces, privileged, hostPath, host ports.
  for (std::string_view field : {"hostNetwork", "hostPID", "hostIPC"}) {
    if (IsTrue(Val(spec, field)))
      violations.push_back("host namespaces (" + std::string(field) + "=true)");
  }
  std::vector<std::string> privileged, escalation, capabilities, non_root, seccomp, ports;
  const bool pod_non_root = IsTrue(Val(pod_context, "runAsNonRoot"));
  const json::value* pod_user = Val(pod_context, "runAsUser");
  const json::object* pod_seccomp = Obj(pod_context, "seccompProfile");
  auto seccomp_ok = [](const json::object* profile) {
    if (profile == nullptr) return false;
    const json::value* type = profile->if_contains("type");
    return type != nullptr && type->is_string() &&
           (type->get_string() == "RuntimeDefault" || type->get_string() == "Localhost");
  };
  bool run_as_root = pod_user != nullptr && pod_user->is_int64() && pod_user->get_int64() == 0;
  for (const json::object* c : containers) {
    const std::string name = name_of(c);
    const json::object* context = Obj(c, "securityContext");
    if (IsTrue(Val(context, "privileged"))) privileged.push_back(name);
    if (!IsFalse(Val(context, "allowPrivilegeEscalation"))) escalation.push_back(name);
    const json::object* caps = Obj(context, "capabilities");
    bool drops_all = false;
    if (const json::value* drop = Val(caps, "drop"); drop != nullptr && drop->is_array()) {
      for (const json::value& d : drop->get_array())
        drops_all |= d.is_string() && d.get_string() == "ALL";
    }
    bool adds_other = false;
    if (const json::value* add = Val(caps, "add"); add != nullptr && add->is_array()) {
      for (const json::value& a : add->get_array())
        adds_other |= !(a.is_string() && a.get_string() == "NET_BIND_SERVICE");
    }
    if (!drops_all || adds_other) capabilities.push_back(name);
    const json::value* container_non_root = Val(context, "runAsNonRoot");
    if (IsFalse(container_non_root) || (!pod_non_root && !IsTrue(container_non_root)))
      non_root.push_back(name);
    const json::value* user = Val(context, "runAsUser");
    if (user != nullptr && user->is_int64() && user->get_int64() == 0) run_as_root = true;
    const json::object* container_seccomp = Obj(context, "seccompProfile");
    if (container_seccomp != nullptr ? !seccomp_ok(container_seccomp) : !seccomp_ok(pod_seccomp))
      seccomp.push_back(name);
    if (const json::value* list = Val(c, "ports"); list != nullptr && list->is_array()) {
      for (const json::value& p : list->get_array()) {
        if (p.is_object() && p.get_object().contains("hostPort")) ports.push_back(name);
      }
    }
  }
  if (!privileged.empty())
    violations.push_back("privileged (" + Quoted(privileged, "container") +
                         " must not set securityContext.privileged=true)");
  if (!ports.empty())
    violations.push_back("hostPort (" + Quoted(ports, "container") + " uses hostPort)");
  std::vector<std::string> bad_volumes;
  static const std::set<std::string> kAllowed = {"configMap", "csi",       "downwardAPI",
                                                 "emptyDir",  "ephemeral", "persistentVolumeClaim",
                                                 "projected", "secret"};
  if (const json::value* volumes = Val(spec, "volumes");
      volumes != nullptr && volumes->is_array()) {
    for (const json::value& v : volumes->get_array()) {
      if (!v.is_object()) continue;
      for (const auto& [key, unused] : v.get_object()) {
        if (key != "name" && !kAllowed.contains(std::string(key))) {
          const json::value* name = v.get_object().if_contains("name");
          bad_volumes.push_back(
              name != nullptr && name->is_string() ? std::string(name->get_string()) : "?");
        }
      }
    }
  }
  if (!bad_volumes.empty())
    violations.push_back("restricted volume types (" + Quoted(bad_volumes, "volume") +
                         " uses a restricted volume type)");
  if (!escalation.empty())
    violations.push_back("allowPrivilegeEscalation != false (" + Quoted(escalation, "container") +
                         " must set securityContext.allowPrivilegeEscalation=false)");
  if (!capabilities.empty())
    violations.push_back("unrestricted capabilities (" + Quoted(capabilities, "container") +
                         " must set securityContext.capabilities.drop=[\"ALL\"])");
  if (!non_root.empty())
    violations.push_back("runAsNonRoot != true (pod or " + Quoted(non_root, "container") +
                         " must set securityContext.runAsNonRoot=true)");
  if (run_as_root)
    violations.push_back("runAsUser=0 (pod and containers must not set runAsUser=0)");
  if (!seccomp.empty())
    violations.push_back(
        "seccompProfile (pod or " + Quoted(seccomp, "container") +
        " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
  return violations;
}

}  // namespace integr8scode::testing
