#include "app/sandbox_options.hpp"

#include <system_error>

#include "catalog/catalog_loader.hpp"
#include "sandbox/node_zygote/node_zygote.hpp"

namespace integr8scode {

SandboxOptions SandboxOptionsFrom(const Config& config) {
  SandboxOptions options = config.sandbox;  // [sandbox] is SandboxOptions plus kind and warm
  if (!config.sandbox.warm) {
    options.warm_zygote.clear();
    options.node_zygote_dir.clear();
    return options;
  }
  std::error_code ignored;
  const auto beside = std::filesystem::read_symlink("/proc/self/exe", ignored).parent_path();
  if (options.warm_zygote.empty()) options.warm_zygote = beside / "integr8scode-python-zygote";
  if (options.node_zygote_dir.empty()) options.node_zygote_dir = beside / kNodeZygoteDirectory;
  return options;
}

std::filesystem::path CatalogPathFrom(const std::filesystem::path& flag, const Config& config) {
  if (!flag.empty()) return flag;
  if (!config.catalog.empty()) return config.catalog;
  return DefaultCatalogPath();
}

}  // namespace integr8scode
