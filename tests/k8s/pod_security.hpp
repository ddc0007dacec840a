#pragma once

// The "restricted" Pod Security Standard (latest), checked as the PodSecurity
// admission plugin checks it, with its wording: the stand-in API server refuses a pod
// that violates it with 403 Forbidden, as a namespace labelled
// pod-security.kubernetes.io/enforce=restricted does.

#include <boost/json/object.hpp>
#include <string>
#include <vector>

namespace integr8scode::testing {

// The violations, each "allowPrivilegeEscalation != false (container \"run\" must set
// securityContext.allowPrivilegeEscalation=false)"; empty when the pod may run.
std::vector<std::string> RestrictedViolations(const boost::json::object& pod);

}  // namespace integr8scode::testing
