// `integr8scode runtimes`: what this host can run, and why the rest cannot.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/commands.hpp"
#include "catalog/availability.hpp"
#include "catalog/catalog_loader.hpp"

namespace integr8scode {

void RegisterRuntimesCommand(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  CLI::App* command = app.add_subcommand("runtimes", "List the runtimes this host can run");
  command->callback([&global, &exit_code] {
    auto catalog = LoadCatalog(global.catalog, CatalogExamples::kSkip);
    if (!catalog) {
      fmt::print(stderr, "integr8scode: {}\n", catalog.error().Describe());
      exit_code = kExitUsage;
      return;
    }
    const auto availability = RuntimeAvailabilityOn(*catalog, RuntimeHost::kLocalSandbox);
    fmt::print("{:<8} {:<8} {:<22} {}\n", "LANG", "VERSION", "NAME", "STATUS");
    std::size_t usable = 0;
    for (std::size_t i = 0; i < catalog->All().size(); ++i) {
      const Runtime& runtime = catalog->All()[i];
      const RuntimeAvailability& state = availability[i];
      usable += state.available ? 1 : 0;
      fmt::print("{:<8} {:<8} {:<22} {}\n", runtime.language, runtime.version, runtime.display_name,
                 state.available ? "available (" + state.detected_version + ")"
                                 : "unavailable: " + state.reason);
    }
    fmt::print("\n{} of {} runtimes available (catalog: {})\n", usable, catalog->All().size(),
               global.catalog.string());
    exit_code = kExitOk;
  });
}

}  // namespace integr8scode
