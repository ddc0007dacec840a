#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/runtime.hpp"

namespace integr8scode {

// The file in a built root filesystem that names its recipe key; written last, so a
// tree without it is unfinished.
inline constexpr std::string_view kRootfsMarker = ".integr8scode-rootfs";

// Checks whether this host can run `runtime` in the local sandbox: its interpreter
// exists and is executable, every host path exists, and the version probe prints the
// expected version. Runs the probe command (trusted, outside any sandbox). For a
// runtime with its own root filesystem: the tree is built from the current recipe,
// holds the interpreter, and the probe (run chrooted in the tree) answers the version;
// the reason names the install command when it is not.
RuntimeAvailability ProbeRuntime(const Runtime& runtime);

// Probes every runtime of the catalog concurrently; results in catalog order.
std::vector<RuntimeAvailability> ProbeCatalog(const RuntimeCatalog& catalog);

// Why a runtime cannot run under sandbox.isolation = "gvisor", or empty when it can.
// gVisor's bundle runs runsc and builds the sentry's root from the host's own paths;
// a root filesystem of its own holds neither runsc nor those paths, so such a
// runtime is refused before a run rather than failing inside one.
std::string IsolationRefusal(const Runtime& runtime, std::string_view isolation);

// Marks every runtime that IsolationRefusal refuses as unavailable, with that reason.
void ApplyIsolation(const RuntimeCatalog& catalog, std::string_view isolation,
                    std::vector<RuntimeAvailability>& availability);

}  // namespace integr8scode
