#pragma once

#include <vector>

#include "domain/runtime.hpp"

namespace integr8scode {

// Where a process's executions run, which decides how it knows what it can run.
// Availability comes from the hosts that run the programs, never from the executor.
enum class RuntimeHost {
  kLocalSandbox,    // this host: its interpreters are probed (catalog/probe.hpp)
  kKubernetesPods,  // pods bring their runtimes in images: a runtime needs one
  kRemoteWorkers,   // an api process: the workers probe, and report a missing
                    // runtime in the execution's result
};

// The availability of every runtime of the catalog, in catalog order.
std::vector<RuntimeAvailability> RuntimeAvailabilityOn(const RuntimeCatalog& catalog,
                                                       RuntimeHost host);

}  // namespace integr8scode
