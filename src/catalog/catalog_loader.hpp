#pragma once

#include <filesystem>
#include <string_view>

#include "common/error.hpp"
#include "domain/runtime.hpp"

namespace integr8scode {

enum class CatalogExamples { kLoad, kSkip };

// Where runtime root filesystems are built and found: $INTEGR8SCODE_RUNTIMES_DIR, else
// /var/cache/integr8scode/runtimes (outside any checkout, so a new clone reuses them).
std::filesystem::path DefaultRuntimesDir();

// Reads runtimes/catalog.toml. Example paths are relative to the catalog's folder;
// `kSkip` leaves Runtime::example empty (the CLI runs a file, it shows no examples).
// A runtime with a [runtime.rootfs] recipe gets its tree's path under `runtimes_dir`
// (whether it is built is for ProbeRuntime to say).
// Fails with kInvalidArgument naming the file, entry and key for unknown keys,
// missing or mistyped fields, duplicate language/version pairs.
Result<RuntimeCatalog> LoadCatalog(
    const std::filesystem::path& file, CatalogExamples examples = CatalogExamples::kLoad,
    const std::filesystem::path& runtimes_dir = DefaultRuntimesDir());

// The catalog as far as one program needs it (`integr8scode run`): only the
// `language`/`version` entry is parsed and checked — the catalog is tens of entries, and
// parsing them all costs a one-shot run ~1 ms of CPU (docs/benchmarks.md). Whenever the
// file is not plainly a list of [[runtime]] entries (a multi-line string, another table,
// an unusual header), the entry does not parse, or the pair is not found exactly once,
// the whole catalog is loaded instead: the result and every error are then LoadCatalog's.
// Errors in the other entries go unnoticed here (serve and `runtimes` load them all).
Result<RuntimeCatalog> LoadCatalogEntry(
    const std::filesystem::path& file, std::string_view language, std::string_view version,
    CatalogExamples examples = CatalogExamples::kLoad,
    const std::filesystem::path& runtimes_dir = DefaultRuntimesDir());

// Where the catalog is looked for when none is configured: $INTEGR8SCODE_CATALOG,
// the source tree beside the binary (for a build tree), then the install location.
std::filesystem::path DefaultCatalogPath();

}  // namespace integr8scode
