// `integr8scode runtimes`: what this host can run, and why the rest cannot.
// `integr8scode runtimes install [NAME…]`: build runtimes' root filesystems.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include "app/commands.hpp"
#include "app/sandbox_options.hpp"
#include "catalog/availability.hpp"
#include "catalog/catalog_loader.hpp"
#include "catalog/probe.hpp"
#include "catalog/rootfs_installer.hpp"

namespace integr8scode {
namespace {

std::string Source(const Runtime& runtime) {
  return runtime.rootfs.Empty() ? "host" : "debian " + runtime.rootfs.suite;
}

int List(const RuntimeCatalog& catalog, const std::filesystem::path& catalog_path) {
  const auto availability = RuntimeAvailabilityOn(catalog, RuntimeHost::kLocalSandbox);
  fmt::print("{:<18} {:<24} {:<16} {}\n", "NAME", "DISPLAY NAME", "SOURCE", "STATUS");
  std::size_t usable = 0;
  for (std::size_t i = 0; i < catalog.All().size(); ++i) {
    const Runtime& runtime = catalog.All()[i];
    const RuntimeAvailability& state = availability[i];
    usable += state.available ? 1 : 0;
    fmt::print("{:<18} {:<24} {:<16} {}\n", runtime.Slug(), runtime.display_name, Source(runtime),
               state.available ? "available (" + state.detected_version + ")"
                               : "unavailable: " + state.reason);
  }
  fmt::print("\n{} of {} runtimes available (catalog: {}; root filesystems: {})\n", usable,
             catalog.All().size(), catalog_path.string(), DefaultRuntimesDir().string());
  return kExitOk;
}

struct InstallOptions {
  std::vector<std::string> names;
  bool all = false;
  bool force = false;
};

int Install(const RuntimeCatalog& catalog, const std::filesystem::path& catalog_path,
            const InstallOptions& options) {
  std::vector<const Runtime*> chosen;
  for (const std::string& name : options.names) {
    const Runtime* found = nullptr;
    for (const Runtime& runtime : catalog.All()) {
      if (runtime.Slug() == name) found = &runtime;
    }
    if (found == nullptr) {
      std::string known;
      for (const Runtime& runtime : catalog.All()) {
        if (!runtime.rootfs.Empty()) known += (known.empty() ? "" : ", ") + runtime.Slug();
      }
      fmt::print(stderr, "integr8scode: no runtime '{}'; these have root filesystems: {}\n", name,
                 known);
      return kExitUsage;
    }
    if (found->rootfs.Empty()) {
      fmt::print(stderr, "integr8scode: {} runs on the host's /usr; there is nothing to install\n",
                 name);
      return kExitUsage;
    }
    chosen.push_back(found);
  }
  if (options.names.empty()) {
    for (const Runtime& runtime : catalog.All()) {
      if (!runtime.rootfs.Empty() && (options.all || runtime.rootfs.install_by_default)) {
        chosen.push_back(&runtime);
      }
    }
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "integr8scode: installing root filesystems needs root (dpkg-deb, chroot)\n");
    return kExitUsage;
  }
  const std::filesystem::path builder = catalog_path.parent_path() / "build-rootfs";
  int failures = 0;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const Runtime& runtime = *chosen[i];
    fmt::print("[{}/{}] {} ({}: {})\n", i + 1, chosen.size(), runtime.Slug(), runtime.rootfs.suite,
               fmt::join(runtime.rootfs.packages, " "));
    std::fflush(stdout);
    auto installed = InstallRootfs(runtime, builder, options.force);
    if (!installed) {
      fmt::print(stderr, "[{}/{}] {} failed: {}\n", i + 1, chosen.size(), runtime.Slug(),
                 installed.error().Describe());
      ++failures;
      continue;
    }
    const RuntimeAvailability state = ProbeRuntime(runtime);
    fmt::print(
        "[{}/{}] {} {} ({:.1f} MiB at {}): {}\n", i + 1, chosen.size(), runtime.Slug(),
        installed->built ? fmt::format("built in {:.1f} s", installed->seconds)
                         : std::string("already installed"),
        static_cast<double>(installed->disk_bytes) / (1024.0 * 1024.0), runtime.root_tree,
        state.available ? "ready (" + state.detected_version + ")" : "NOT ready: " + state.reason);
    if (!state.available) ++failures;
    std::fflush(stdout);
  }
  if (failures == 0) {
    for (const std::filesystem::path& removed : PruneRootfs(catalog, DefaultRuntimesDir())) {
      fmt::print("removed {} (no runtime of the catalog uses it)\n", removed.string());
    }
  }
  fmt::print("{} of {} root filesystems ready\n",
             chosen.size() - static_cast<std::size_t>(failures), chosen.size());
  return failures == 0 ? kExitOk : kExitPlatform;
}

// These commands read no configuration file: --catalog, else INTEGR8SCODE_CATALOG, else
// the default (the same order as serve and run, without the file).
std::filesystem::path CatalogPath(const GlobalOptions& global) {
  return CatalogPathFrom(global.catalog, Config{});
}

// The catalog both commands read; when it cannot be loaded, says why and sets the usage
// exit code.
std::optional<RuntimeCatalog> LoadOrSay(const std::filesystem::path& path, int& exit_code) {
  auto catalog = LoadCatalog(path, CatalogExamples::kSkip);
  if (!catalog) {
    fmt::print(stderr, "integr8scode: {}\n", catalog.error().Describe());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  return std::move(*catalog);
}

}  // namespace

void RegisterRuntimesCommand(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "runtimes", "List the runtimes this host can run (and install their root filesystems)");
  command->callback([command, &global, &exit_code] {
    if (command->got_subcommand("install")) return;
    const std::filesystem::path catalog_path = CatalogPath(global);
    if (auto catalog = LoadOrSay(catalog_path, exit_code)) exit_code = List(*catalog, catalog_path);
  });

  auto options = std::make_shared<InstallOptions>();
  CLI::App* install = command->add_subcommand(
      "install",
      "Build root filesystems from Debian packages: the named runtimes (e.g. python-3.13), "
      "or the default set");
  install->add_option("names", options->names,
                      "Runtimes by name, as `integr8scode runtimes` lists them");
  install->add_flag("--all", options->all, "Every runtime that has a root filesystem");
  install->add_flag("--force", options->force, "Build again even when the tree is up to date");
  install->callback([options, &global, &exit_code] {
    const std::filesystem::path catalog_path = CatalogPath(global);
    if (auto catalog = LoadOrSay(catalog_path, exit_code)) {
      exit_code = Install(*catalog, catalog_path, *options);
    }
  });
}

}  // namespace integr8scode
