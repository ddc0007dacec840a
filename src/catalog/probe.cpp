#include "catalog/probe.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <future>

#include "common/subprocess.hpp"

namespace integr8scode {
namespace {

// The first line with text (perl -v starts with an empty one).
std::string FirstLine(const std::string& text) {
  const auto start = text.find_first_not_of("\r\n");
  if (start == std::string::npos) return "";
  return text.substr(start, text.find('\n', start) - start);
}

// A built tree holds the marker the installer writes last, naming its recipe key.
RuntimeAvailability ProbeTree(const Runtime& runtime) {
  RuntimeAvailability result;
  const std::string install = fmt::format("integr8scode runtimes install {}", runtime.Slug());
  std::ifstream marker(runtime.root_tree + "/" + std::string(kRootfsMarker));
  std::string key;
  if (!marker || !std::getline(marker, key)) {
    result.reason = fmt::format("root filesystem not installed ({})", install);
    return result;
  }
  if (key != runtime.rootfs.Key()) {
    result.reason = fmt::format("root filesystem is of another recipe ({})", install);
    return result;
  }
  // A relative link in the tree resolves inside it; catalog entries name real files,
  // since an absolute link (Debian's alternatives) would resolve on the host here.
  struct stat st {};
  if (::stat((runtime.root_tree + runtime.interpreter).c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      (st.st_mode & S_IXOTH) == 0) {
    result.reason =
        fmt::format("{} is missing from the root filesystem ({})", runtime.interpreter, install);
    return result;
  }
  if (!runtime.version_probe.empty()) {
    std::vector<std::string> argv = {"/usr/sbin/chroot", runtime.root_tree};
    argv.insert(argv.end(), runtime.version_probe.begin(), runtime.version_probe.end());
    auto output = RunHostCommand(argv, std::chrono::seconds(20));
    if (!output) {
      result.reason = fmt::format("version check failed: {}", output.error().Describe());
      return result;
    }
    result.detected_version = FirstLine(output->output);
    if (output->exit_code != 0 ||
        (!runtime.version_match.empty() &&
         output->output.find(runtime.version_match) == std::string::npos)) {
      result.reason =
          fmt::format("{} in the root filesystem answers '{}', not version {}", runtime.interpreter,
                      result.detected_version, runtime.version_match);
      return result;
    }
  } else {
    result.detected_version = runtime.rootfs.suite;
  }
  result.available = true;
  result.reason = "ok";
  return result;
}

}  // namespace

RuntimeAvailability ProbeRuntime(const Runtime& runtime) {
  if (!runtime.root_tree.empty()) return ProbeTree(runtime);
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

std::string IsolationRefusal(const Runtime& runtime, std::string_view isolation) {
  if (isolation != "gvisor" || runtime.root_tree.empty()) return {};
  return fmt::format(
      "{} has a root filesystem of its own (debian {}), which sandbox.isolation = \"gvisor\" "
      "cannot run: use isolation \"native\" for it",
      runtime.Slug(), runtime.rootfs.suite);
}

void ApplyIsolation(const RuntimeCatalog& catalog, std::string_view isolation,
                    std::vector<RuntimeAvailability>& availability) {
  for (std::size_t i = 0; i < availability.size() && i < catalog.All().size(); ++i) {
    std::string refusal = IsolationRefusal(catalog.All()[i], isolation);
    if (refusal.empty()) continue;
    availability[i].available = false;
    availability[i].reason = std::move(refusal);
  }
}

}  // namespace integr8scode
