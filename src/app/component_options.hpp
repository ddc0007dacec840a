#pragma once

#include <filesystem>

#include "api/api_server.hpp"
#include "app/config.hpp"
#include "common/error.hpp"
#include "k8s/pod_executor.hpp"
#include "sandbox/local_executor.hpp"
#include "service/services.hpp"

namespace integr8scode {

// Each component's options, built from the one Config by one function. A field the
// configuration has no key for keeps the component's own default (tests/app checks that
// a default Config gives exactly the component's defaults, so the two cannot drift).

ServiceOptions ServiceOptionsFrom(const Config& config);
ApiOptions ApiOptionsFrom(const Config& config);
// With `sandbox.warm`, SandboxOptions::warm_zygote is `sandbox.warm_zygote`, or
// integr8scode-python-zygote beside this binary; without it, empty (every run cold).
SandboxOptions SandboxOptionsFrom(const Config& config);
// kInvalidArgument for a malformed node selector or toleration.
Result<KubernetesOptions> KubernetesOptionsFrom(const Config& config);

// The runtime catalog every command uses, highest precedence first: `--catalog`
// (`flag`, empty when not given), INTEGR8SCODE_CATALOG, the configuration file's
// `catalog` (both already in config.catalog), DefaultCatalogPath().
std::filesystem::path CatalogPathFrom(const std::filesystem::path& flag, const Config& config);

}  // namespace integr8scode
