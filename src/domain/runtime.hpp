#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "domain/limits.hpp"

namespace integr8scode {

// Paths a runtime's command lines may refer to, fixed inside every sandbox.
inline constexpr std::string_view kSandboxSourceDir = "/scripts";     // read-only
inline constexpr std::string_view kSandboxWorkDir = "/home/sandbox";  // writable, the cwd

// One command of a runtime: its argv (placeholders {source}, {workdir} are
// expanded by ExpandArgv) and the limits that differ from the execution's.
struct RuntimeStep {
  std::vector<std::string> argv;
  LimitOverrides limits;
};

// How a runtime's own root filesystem is built: the Debian suite and the packages
// whose dependency closure makes the tree, a command run inside the tree once it is
// extracted (e.g. byte-compiling a standard library), and a revision to bump when the
// result should change for another reason. Empty suite: the runtime uses the host's
// directories (Runtime::host_paths) instead.
struct RootfsRecipe {
  std::string suite;
  std::vector<std::string> packages;
  std::vector<std::string> setup;
  std::string revision;
  bool install_by_default = false;  // part of the set scripts/start and CI install

  bool Empty() const { return suite.empty(); }
  // A short hex digest of everything above but install_by_default: the cache key.
  std::string Key() const;
};

// The warm-start zygote a runtime's program can start in (docs/warm-starts.md).
enum class ZygoteKind {
  kNone,
  kEmbeddedCpython,  // "embedded-cpython": integr8scode-python-zygote, libpython 3.11 linked in
  kBootstrap,        // "bootstrap": the interpreter itself, given the bootstrap with -c (PyPy)
  kNodeRequire,      // "node-require": node itself, preloading integr8scode-node-zygote.js
};

// A language/version entry of the catalog (runtimes/catalog.toml). Plain data.
struct Runtime {
  std::string language;        // "python"
  std::string version;         // "3.11"
  std::string display_name;    // "Python 3.11"
  std::string implementation;  // "CPython"
  std::string source_file;     // "script.py", placed at /scripts/<source_file>
  std::string file_extension;  // "py"
  std::string editor_mode;     // syntax highlighting mode for the web editor
  bool has_compile = false;
  RuntimeStep compile;  // used when has_compile
  RuntimeStep run;
  std::vector<std::pair<std::string, std::string>> env;  // on top of the sandbox's clean env
  // Local sandbox: the host binary that must exist, how to ask its version, and the
  // text that answer must contain; the host directories bound read-only.
  std::string interpreter;
  std::vector<std::string> version_probe;
  std::string version_match;
  std::vector<std::string> host_paths;
  // Or a root filesystem of its own: the recipe, and where the built tree is
  // (<runtimes dir>/<suite>-<recipe key>, set when the catalog is loaded). The
  // interpreter and version probe then name paths inside that tree.
  RootfsRecipe rootfs;
  std::string root_tree;
  // False: never started warm, even where the local sandbox could (sandbox.warm,
  // docs/warm-starts.md); an opt-out for a runtime whose programs must see a cold start.
  bool warm = true;
  // How its program can start warm (catalog key `zygote`, docs/warm-starts.md): not at
  // all, in integr8scode-python-zygote (the host's CPython 3.11, embedded), or as the
  // interpreter itself running a bootstrap that waits for the go (PyPy).
  ZygoteKind zygote = ZygoteKind::kNone;
  // Kubernetes: the container image that holds this runtime, and the run and compile
  // command lines inside it (empty: the host's, run/compile.argv). Their programs are
  // bare names looked up on the pod's PATH (docs/kubernetes-executor.md).
  std::string image;
  std::vector<std::string> image_run;
  std::vector<std::string> image_compile;
  // Example script showing a feature of this version, and what it shows.
  std::string example;
  std::string example_description;

  std::string Key() const { return language + " " + version; }
  std::string Slug() const { return language + "-" + version; }  // "python-3.13"
  std::string SourcePath() const;                                // "/scripts/script.py"
};

std::vector<std::string> ExpandArgv(const std::vector<std::string>& argv, const Runtime& runtime);

// Whether this host can run an entry, and if not, why (for `runtimes` and /runtimes).
struct RuntimeAvailability {
  bool available = false;
  std::string reason;            // "ok" or e.g. "/usr/bin/pypy3 not found (apt-get install pypy3)"
  std::string detected_version;  // what the probe printed, first line
};

// The loaded catalog, immutable after start. Lookups are by language and version.
class RuntimeCatalog {
 public:
  RuntimeCatalog() = default;
  explicit RuntimeCatalog(std::vector<Runtime> runtimes);

  const std::vector<Runtime>& All() const { return runtimes_; }
  // kNotFound with a message that lists what is available, e.g.
  // "unknown language 'ruby'; available: python 3.11, python 3.9, node 20, c 12".
  Result<const Runtime*> Find(std::string_view language, std::string_view version) const;
  std::string ListKeys() const;

 private:
  std::vector<Runtime> runtimes_;
};

}  // namespace integr8scode
