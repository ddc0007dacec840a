#include "catalog/probe.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <future>

#include "common/subprocess.hpp"

namespace integr8scode {
namespace {

std::string FirstLine(const std::string& text) {
  const auto end = text.find('\n');
  return text.substr(0, end);
}

}  // namespace

RuntimeAvailability ProbeRuntime(const Runtime& runtime) {
  RuntimeAvailability result;
  if (::access(runtime.interpreter.c_str(), X_OK) != 0) {
    result.reason = fmt::format("{} is not installed", runtime.interpreter);
    return result;
  }
  for (const std::string& path : runtime.host_paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      result.reason = fmt::format("host directory {} is missing", path);
      return result;
    }
  }
  if (!runtime.version_probe.empty()) {
    auto output = RunHostCommand(runtime.version_probe, std::chrono::seconds(10));
    if (!output) {
      result.reason = fmt::format("version check failed: {}", output.error().Describe());
      return result;
    }
    result.detected_version = FirstLine(output->output);
    if (output->exit_code != 0) {
      result.reason = fmt::format("'{} {}' exited with code {}", runtime.version_probe[0],
                                  runtime.version_probe.size() > 1 ? runtime.version_probe[1] : "",
                                  output->exit_code);
      return result;
    }
    if (!runtime.version_match.empty() &&
        output->output.find(runtime.version_match) == std::string::npos) {
      result.reason = fmt::format("{} is '{}', not version {}", runtime.interpreter,
                                  result.detected_version, runtime.version_match);
      return result;
    }
  }
  result.available = true;
  result.reason = "ok";
  return result;
}

std::vector<RuntimeAvailability> ProbeCatalog(const RuntimeCatalog& catalog) {
  std::vector<std::future<RuntimeAvailability>> pending;
  for (const Runtime& runtime : catalog.All()) {
    pending.push_back(std::async(std::launch::async, [&runtime] { return ProbeRuntime(runtime); }));
  }
  std::vector<RuntimeAvailability> results;
  for (auto& future : pending) results.push_back(future.get());
  return results;
}

}  // namespace integr8scode
