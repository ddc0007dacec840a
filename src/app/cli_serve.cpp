// `integr8scode serve`'s flags. What runs once they are parsed is the caller's
// (commands.hpp): the server in integr8scode-serve, an exec of it in integr8scode.
#include <CLI/CLI.hpp>
#include <memory>

#include "app/commands.hpp"

namespace integr8scode {

void RegisterServeCommand(CLI::App& app, const GlobalOptions& global, int& exit_code,
                          const ServeCommand& serve) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* command = app.add_subcommand("serve", "Run the HTTP API, the web UI and the workers");
  command->add_option("--config", flags->config_file, "TOML configuration file")
      ->check(CLI::ExistingFile);
  command->add_option("--listen", flags->listen,
                      "Address to listen on, HOST:PORT (default 127.0.0.1:8080)");
  command->add_option("--data-dir", flags->data_dir,
                      "Directory for the database and secrets (default ./data)");
  command->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain: serve HTTPS");
  command->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");
  command
      ->add_option("--role", flags->role,
                   "all (default): API and workers; api: the HTTP API only; worker: runs "
                   "executions, serves health and metrics (api and worker need PostgreSQL)")
      ->check(CLI::IsMember({"all", "api", "worker"}));
  command->add_option("--set", flags->settings, "Override one setting, KEY=VALUE (repeatable)");
  command->callback([flags, &global, &exit_code, serve] { exit_code = serve(*flags, global); });
}

}  // namespace integr8scode
