#pragma once

#include <filesystem>

#include "app/config.hpp"
#include "sandbox/local_executor.hpp"

namespace integr8scode {

// The local sandbox's options and the catalog's path, built from the one Config — apart
// from the other components' (component_options.hpp) because the small `integr8scode`
// command (run, runtimes) needs them without linking the server.

// With `sandbox.warm`, SandboxOptions::warm_zygote is `sandbox.warm_zygote`, or
// integr8scode-python-zygote beside this binary, and node_zygote_dir the
// integr8scode-node-zygote/ directory beside it; without it, both empty (every run cold).
SandboxOptions SandboxOptionsFrom(const Config& config);

// The runtime catalog every command uses, highest precedence first: `--catalog`
// (`flag`, empty when not given), INTEGR8SCODE_CATALOG, the configuration file's
// `catalog` (both already in config.catalog), DefaultCatalogPath().
std::filesystem::path CatalogPathFrom(const std::filesystem::path& flag, const Config& config);

}  // namespace integr8scode
