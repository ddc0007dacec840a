// The command line both executables parse (commands.hpp): one definition, so that
// `integr8scode --help`, its errors and `serve`'s flags are the same whichever runs them.
#include <CLI/CLI.hpp>

#include "app/commands.hpp"

namespace integr8scode {

int CommandLineMain(int argc, char** argv, const ServeCommand& serve) {
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
  RegisterServeCommand(app, global, exit_code, serve);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int rc = app.exit(error);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}

}  // namespace integr8scode
