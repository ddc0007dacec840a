// integr8scode: one binary, sub-commands (docs/architecture.md, "Processes"). main only wires.
#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "sandbox/spawner.hpp"

int main(int argc, char** argv) {
  using namespace integr8scode;
  // The sandbox spawner is this binary too, exec'd by the server (not a user command).
  if (auto code = RunSpawnerIfRequested(argc, argv)) return *code;
  CLI::App app{"Integr8sCode: run untrusted code in a sandbox, locally or as a service"};
  app.set_version_flag("--version", "integr8scode 0.1.0");
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--catalog", global.catalog,
                 "Runtime catalog (TOML); above INTEGR8SCODE_CATALOG and the configuration's "
                 "`catalog`")
      ->check(CLI::ExistingFile);

  int exit_code = kExitOk;
  RegisterRuntimesCommand(app, global, exit_code);
  RegisterRunCommand(app, global, exit_code);
  RegisterServeCommand(app, global, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int rc = app.exit(error);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}
