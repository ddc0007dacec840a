#include "catalog/availability.hpp"

#include "catalog/probe.hpp"

namespace integr8scode {

std::vector<RuntimeAvailability> RuntimeAvailabilityOn(const RuntimeCatalog& catalog,
                                                       RuntimeHost host) {
  std::vector<RuntimeAvailability> availability;
  switch (host) {
    case RuntimeHost::kLocalSandbox:
      return ProbeCatalog(catalog);
    case RuntimeHost::kKubernetesPods:
      // What this host has installed does not matter: the pod runs the image's.
      for (const Runtime& runtime : catalog.All()) {
        RuntimeAvailability entry;
        entry.available = !runtime.image.empty();
        entry.reason = entry.available ? "ok" : "no container image in the catalog";
        availability.push_back(std::move(entry));
      }
      return availability;
    case RuntimeHost::kRemoteWorkers:
      // Accepting what no worker can run is safe: the worker that claims it ends it
      // with the reason, and nothing queues forever.
      availability.assign(catalog.All().size(),
                          RuntimeAvailability{true, "probed by the workers", ""});
      return availability;
  }
  return availability;
}

}  // namespace integr8scode
