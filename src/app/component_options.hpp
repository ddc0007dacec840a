#pragma once

#include <filesystem>

#include "api/api_server.hpp"
#include "app/config.hpp"
#include "app/sandbox_options.hpp"
#include "common/error.hpp"
#include "k8s/pod_executor.hpp"
#include "sandbox/local_executor.hpp"
#include "service/services.hpp"

namespace integr8scode {

// Each component's options, built from the one Config by one function. A field the
// configuration has no key for keeps the component's own default (tests/app checks that
// a default Config gives exactly the component's defaults, so the two cannot drift).
// The sandbox's and the catalog's are in sandbox_options.hpp (the small `integr8scode`
// command uses them without the server's libraries).

ServiceOptions ServiceOptionsFrom(const Config& config);
ApiOptions ApiOptionsFrom(const Config& config);
// kInvalidArgument for a malformed node selector or toleration.
Result<KubernetesOptions> KubernetesOptionsFrom(const Config& config);

}  // namespace integr8scode
