#pragma once

#include <filesystem>

#include "common/error.hpp"
#include "domain/runtime.hpp"

namespace integr8scode {

enum class CatalogExamples { kLoad, kSkip };

// Reads runtimes/catalog.toml. Example paths are relative to the catalog's folder;
// `kSkip` leaves Runtime::example empty (the CLI runs a file, it shows no examples).
// Fails with kInvalidArgument naming the file, entry and key for unknown keys,
// missing or mistyped fields, duplicate language/version pairs.
Result<RuntimeCatalog> LoadCatalog(const std::filesystem::path& file,
                                   CatalogExamples examples = CatalogExamples::kLoad);

// Where the catalog is looked for when none is configured: $INTEGR8SCODE_CATALOG,
// the source tree beside the binary (for a build tree), then the install location.
std::filesystem::path DefaultCatalogPath();

}  // namespace integr8scode
