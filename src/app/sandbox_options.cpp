#include "app/sandbox_options.hpp"

#include <system_error>

#include "catalog/catalog_loader.hpp"

namespace integr8scode {

SandboxOptions SandboxOptionsFrom(const Config& config) {
  SandboxOptions options = config.sandbox;  // [sandbox] is SandboxOptions plus kind and warm
  if (!config.sandbox.warm) {
    options.warm_zygote.clear();
  } else if (options.warm_zygote.empty()) {
    std::error_code ignored;
    options.warm_zygote = std::filesystem::read_symlink("/proc/self/exe", ignored).parent_path() /
                          "integr8scode-python-zygote";
  }
  return options;
}

std::filesystem::path CatalogPathFrom(const std::filesystem::path& flag, const Config& config) {
  if (!flag.empty()) return flag;
  if (!config.catalog.empty()) return config.catalog;
  return DefaultCatalogPath();
}

}  // namespace integr8scode
