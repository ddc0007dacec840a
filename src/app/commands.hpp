#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace integr8scode {

// Each sub-command registers its options on the CLI and runs when chosen. They return
// the process exit code: 0 success, 1 the program/run failed, 2 bad usage or input,
// 3 platform error.
inline constexpr std::string_view kProgramVersion = "0.1.0";

inline constexpr int kExitOk = 0;
inline constexpr int kExitRunFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPlatform = 3;

struct GlobalOptions {
  std::filesystem::path catalog;  // --catalog; empty when not given (see CatalogPathFrom)
};

struct ServeFlags {
  std::string config_file;
  std::string listen;
  std::string data_dir;
  std::string tls_cert;
  std::string tls_key;
  std::string role;
  std::vector<std::string> settings;  // KEY=VALUE
};

// What `serve` does once its flags are parsed. Two executables share this command line
// (docs/operations.md, "The command line"): `integr8scode` runs `run` and `runtimes`
// itself and hands `serve` to `integr8scode-serve` (ExecServe), which runs the server.
using ServeCommand = std::function<int(const ServeFlags& flags, const GlobalOptions& global)>;

// The whole command line: parses argv, runs the chosen sub-command, returns the exit code.
int CommandLineMain(int argc, char** argv, const ServeCommand& serve);

void RegisterRuntimesCommand(CLI::App& app, const GlobalOptions& global, int& exit_code);
void RegisterRunCommand(CLI::App& app, const GlobalOptions& global, int& exit_code);
void RegisterServeCommand(CLI::App& app, const GlobalOptions& global, int& exit_code,
                          const ServeCommand& serve);

// The server itself (serve.cpp, linked only into integr8scode-serve).
int Serve(const ServeFlags& flags, const GlobalOptions& global);

}  // namespace integr8scode
