#pragma once

#include <filesystem>
#include <string_view>

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

void RegisterRuntimesCommand(CLI::App& app, const GlobalOptions& global, int& exit_code);
void RegisterRunCommand(CLI::App& app, const GlobalOptions& global, int& exit_code);
void RegisterServeCommand(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace integr8scode
