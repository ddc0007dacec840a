#pragma once

#include <vector>

#include "domain/runtime.hpp"

namespace integr8scode {

// Checks whether this host can run `runtime` in the local sandbox: its interpreter
// exists and is executable, every host path exists, and the version probe prints the
// expected version. Runs the probe command (trusted, outside any sandbox).
RuntimeAvailability ProbeRuntime(const Runtime& runtime);

// Probes every runtime of the catalog concurrently; results in catalog order.
std::vector<RuntimeAvailability> ProbeCatalog(const RuntimeCatalog& catalog);

}  // namespace integr8scode
