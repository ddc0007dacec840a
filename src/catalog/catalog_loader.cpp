#include "catalog/catalog_loader.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "common/try.hpp"
#include "common/units.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

class EntryReader {
 public:
  EntryReader(const toml::table& table, std::string where)
      : table_(table), where_(std::move(where)) {}

  Status CheckKeys(const std::set<std::string_view>& allowed) const {
    for (const auto& [key, value] : table_) {
      if (!allowed.contains(key.str())) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: unknown key '{}'", where_, key.str()));
      }
    }
    return {};
  }

  Result<std::string> String(std::string_view key, bool required = true) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) {
      if (!required) return std::string();
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: missing '{}'", where_, key));
    }
    if (const auto* value = node->as_string()) return value->get();
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: '{}' must be a string", where_, key));
  }

  Result<std::vector<std::string>> StringList(std::string_view key, bool required = true) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) {
      if (!required) return std::vector<std::string>{};
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: missing '{}'", where_, key));
    }
    const toml::array* array = node->as_array();
    std::vector<std::string> out;
    if (array != nullptr) {
      for (const toml::node& item : *array) {
        const auto* text = item.as_string();
        if (text == nullptr) break;
        out.push_back(text->get());
      }
    }
    if (array == nullptr || out.size() != array->size() || (required && out.empty())) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: '{}' must be a non-empty list of strings", where_, key));
    }
    return out;
  }

  const toml::table* Table(std::string_view key) const {
    const toml::node* node = table_.get(key);
    return node != nullptr ? node->as_table() : nullptr;
  }

  const std::string& Where() const { return where_; }

 private:
  const toml::table& table_;
  std::string where_;
};

Result<LimitOverrides> ReadStepLimits(const EntryReader& reader) {
  LimitOverrides limits;
  if (auto text = reader.String("timeout", false); !text) {
    return Fail(text.error());
  } else if (!text->empty()) {
    auto value = ParseDuration(*text);
    if (!value) return Fail(std::move(value.error()).WithContext(reader.Where()));
    limits.timeout = *value;
  }
  if (auto text = reader.String("memory", false); !text) {
    return Fail(text.error());
  } else if (!text->empty()) {
    auto value = ParseByteSize(*text);
    if (!value) return Fail(std::move(value.error()).WithContext(reader.Where()));
    limits.memory_bytes = *value;
  }
  if (auto text = reader.String("tmpfs", false); !text) {
    return Fail(text.error());
  } else if (!text->empty()) {
    auto value = ParseByteSize(*text);
    if (!value) return Fail(std::move(value.error()).WithContext(reader.Where()));
    limits.tmpfs_bytes = *value;
  }
  return limits;
}

std::optional<std::int64_t> IntegerAt(const toml::table& table, std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  if (const auto* value = node->as_integer()) return value->get();
  return std::nullopt;
}

Result<std::string> ReadText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, fmt::format("cannot read {}", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Status ReadRootfs(const toml::table& table, const std::string& where, Runtime& runtime) {
  const EntryReader reader(table, where + " rootfs");
  I8C_TRY(reader.CheckKeys({"suite", "packages", "setup", "revision", "install_by_default"}));
  RootfsRecipe& recipe = runtime.rootfs;
  auto suite = I8C_TRY_VALUE(reader.String("suite"));
  auto packages = I8C_TRY_VALUE(reader.StringList("packages"));
  auto setup = I8C_TRY_VALUE(reader.StringList("setup", false));
  auto revision = I8C_TRY_VALUE(reader.String("revision", false));
  recipe.suite = std::move(suite);
  recipe.packages = std::move(packages);
  recipe.setup = std::move(setup);
  recipe.revision = std::move(revision);
  const auto valid_name = [](const std::string& name) {
    return !name.empty() &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789+-.") == std::string::npos;
  };
  if (!valid_name(recipe.suite)) {
    return Fail(ErrorCode::kInvalidArgument, where + " rootfs: suite must be a Debian suite name");
  }
  for (const std::string& package : recipe.packages) {
    if (!valid_name(package)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{} rootfs: '{}' is not a Debian package name", where, package));
    }
  }
  if (const toml::node* flag = table.get("install_by_default")) {
    if (flag->as_boolean() == nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  where + " rootfs: install_by_default must be true or false");
    }
    recipe.install_by_default = flag->as_boolean()->get();
  }
  return {};
}

Result<Runtime> ReadRuntime(const toml::table& table, std::size_t index, const fs::path& base,
                            const fs::path& runtimes_dir, CatalogExamples examples) {
  const EntryReader reader(table, fmt::format("runtime #{}", index + 1));
  I8C_TRY(reader.CheckKeys({"language",       "version",     "display_name",
                            "implementation", "source_file", "file_extension",
                            "editor_mode",    "interpreter", "version_probe",
                            "version_match",  "run",         "env",
                            "host_paths",     "image",       "image_run",
                            "image_compile",  "example",     "example_description",
                            "compile",        "rootfs",      "warm",
                            "zygote"}));
  Runtime runtime;
  const auto take = [&](std::string_view key, std::string& into, bool required = true) -> Status {
    into = I8C_TRY_VALUE(reader.String(key, required));
    return {};
  };
  for (auto status :
       {take("language", runtime.language), take("version", runtime.version),
        take("display_name", runtime.display_name),
        take("implementation", runtime.implementation, false),
        take("source_file", runtime.source_file), take("file_extension", runtime.file_extension),
        take("editor_mode", runtime.editor_mode, false), take("interpreter", runtime.interpreter),
        take("version_match", runtime.version_match, false), take("image", runtime.image, false),
        take("example_description", runtime.example_description, false)}) {
    I8C_TRY(status);
  }
  const std::string where = fmt::format("runtime {} {}", runtime.language, runtime.version);
  if (runtime.source_file.find('/') != std::string::npos || runtime.source_file.starts_with(".")) {
    return Fail(ErrorCode::kInvalidArgument, where + ": source_file must be a plain file name");
  }
  runtime.run.argv = I8C_TRY_VALUE(reader.StringList("run"));
  runtime.version_probe = I8C_TRY_VALUE(reader.StringList("version_probe", false));
  auto host_paths = I8C_TRY_VALUE(reader.StringList("host_paths", false));
  if (const toml::table* rootfs = reader.Table("rootfs")) {
    if (!host_paths.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  where + ": host_paths and rootfs exclude each other (a tree is the whole root)");
    }
    I8C_TRY(ReadRootfs(*rootfs, where, runtime));
    // Named by suite and recipe: runtimes of the same recipe share one tree.
    runtime.root_tree =
        (runtimes_dir / (runtime.rootfs.suite + "-" + runtime.rootfs.Key())).string();
  } else {
    runtime.host_paths = host_paths.empty() ? std::vector<std::string>{"/usr"} : host_paths;
  }
  for (const std::string& path : runtime.host_paths) {
    if (!path.starts_with("/") || path.find("..") != std::string::npos || path == "/") {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: host path '{}' must be an absolute directory other than /",
                              where, path));
    }
  }
  if (const toml::table* env = reader.Table("env")) {
    for (const auto& [key, value] : *env) {
      const auto* text = value.as_string();
      if (text == nullptr) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: env.{} must be a string", where, key.str()));
      }
      runtime.env.emplace_back(std::string(key.str()), text->get());
    }
  }
  for (auto [key, into] : {std::pair{"image_run", &runtime.image_run},
                           std::pair{"image_compile", &runtime.image_compile}}) {
    auto argv = I8C_TRY_VALUE(reader.StringList(key, false));
    // A bare name: the image decides where its programs live (/usr/local/bin in the
    // official images), the pod's PATH finds them.
    if (!argv.empty() && (argv.front().empty() || argv.front().find('/') != std::string::npos)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: {} must start with a command name without a path, not '{}'",
                              where, key, argv.front()));
    }
    *into = std::move(argv);
  }
  if (const toml::table* compile = reader.Table("compile")) {
    const EntryReader step(*compile, where + " compile");
    I8C_TRY(step.CheckKeys({"argv", "timeout", "memory", "tmpfs", "pids"}));
    auto argv = I8C_TRY_VALUE(step.StringList("argv"));
    auto limits = I8C_TRY_VALUE(ReadStepLimits(step));
    runtime.has_compile = true;
    runtime.compile.argv = std::move(argv);
    runtime.compile.limits = limits;
    if (auto pids = IntegerAt(*compile, "pids")) {
      if (*pids < 1 || *pids > 100000) {
        return Fail(ErrorCode::kInvalidArgument, where + " compile: pids must be 1 to 100000");
      }
      runtime.compile.limits.pids = static_cast<std::uint32_t>(*pids);
    }
  }
  if (const toml::node* warm = table.get("warm")) {
    if (warm->as_boolean() == nullptr)
      return Fail(ErrorCode::kInvalidArgument, where + ": warm must be true or false");
    runtime.warm = warm->as_boolean()->get();
  }
  if (const toml::node* zygote = table.get("zygote")) {
    const auto* kind = zygote->as_string();
    if (kind != nullptr && kind->get() == "embedded-cpython") {
      runtime.zygote = ZygoteKind::kEmbeddedCpython;
    } else if (kind != nullptr && kind->get() == "bootstrap") {
      runtime.zygote = ZygoteKind::kBootstrap;
    } else if (kind != nullptr && kind->get() == "node-require") {
      runtime.zygote = ZygoteKind::kNodeRequire;
    } else {
      return Fail(
          ErrorCode::kInvalidArgument,
          where + ": zygote must be \"embedded-cpython\", \"bootstrap\" or \"node-require\"");
    }
    // The embedded zygote links the host's libpython; a tree of its own has another.
    if (runtime.zygote == ZygoteKind::kEmbeddedCpython && !runtime.rootfs.Empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  where + ": zygote \"embedded-cpython\" is the host's CPython, not a rootfs's");
    }
  }
  if (!runtime.image_compile.empty() && !runtime.has_compile)
    return Fail(ErrorCode::kInvalidArgument, where + ": image_compile without a [compile] step");
  std::string example_file;
  I8C_TRY(take("example", example_file, false));
  if (!example_file.empty() && examples == CatalogExamples::kLoad) {
    auto text = ReadText(base / example_file);
    if (!text) return Fail(std::move(text.error()).WithContext(where));
    runtime.example = std::move(*text);
  }
  return runtime;
}

std::string_view Trim(std::string_view text) {
  const std::size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

// The text of each [[runtime]] entry (after its header line), or nothing when the file
// is not plainly a list of them: then only a full parse knows where entries start. A
// multi-line string could hold a line that looks like a header; a line starting with '['
// that is neither an entry's header nor one of its [runtime.…] tables, or a key outside
// any entry, is more than this split understands.
std::optional<std::vector<std::string_view>> SplitEntries(std::string_view text) {
  if (text.find("\"\"\"") != std::string_view::npos || text.find("'''") != std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<std::string_view> entries;
  std::optional<std::size_t> entry_start;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = Trim(text.substr(pos, end - pos));
    if (const std::size_t comment = line.find('#');
        comment != std::string_view::npos && line.starts_with('[')) {
      line = Trim(line.substr(0, comment));
    }
    if (line == "[[runtime]]") {
      if (entry_start) entries.push_back(text.substr(*entry_start, pos - *entry_start));
      entry_start = std::min(end + 1, text.size());
    } else if (line.starts_with('[')) {
      if (!entry_start || !line.starts_with("[runtime.")) return std::nullopt;
    } else if (!entry_start && !line.empty() && !line.starts_with('#')) {
      return std::nullopt;
    }
    pos = end + 1;
  }
  if (entry_start) entries.push_back(text.substr(*entry_start));
  return entries;
}

bool MentionsString(std::string_view entry, std::string_view value) {
  return entry.find(fmt::format("\"{}\"", value)) != std::string_view::npos ||
         entry.find(fmt::format("'{}'", value)) != std::string_view::npos;
}

}  // namespace

Result<RuntimeCatalog> LoadCatalogEntry(const fs::path& file, std::string_view language,
                                        std::string_view version, CatalogExamples examples,
                                        const fs::path& runtimes_dir) {
  auto text = ReadText(file);
  const auto entries = text ? SplitEntries(*text) : std::nullopt;
  std::vector<Runtime> found;
  bool whole = !entries;
  for (std::size_t i = 0; !whole && i < entries->size(); ++i) {
    const std::string_view entry = (*entries)[i];
    if (!MentionsString(entry, language) || !MentionsString(entry, version)) continue;
    toml::table root;
    try {
      root = toml::parse(fmt::format("[[runtime]]\n{}", entry), file.string());
    } catch (const toml::parse_error&) {
      whole = true;  // for the error's line and column in the whole file
      break;
    }
    const toml::table* table = root["runtime"][0].as_table();
    auto runtime = table == nullptr
                       ? Result<Runtime>(Fail(ErrorCode::kInvalidArgument, "not a table"))
                       : ReadRuntime(*table, i, file.parent_path(), runtimes_dir, examples);
    whole = !runtime;
    if (runtime && runtime->language == language && runtime->version == version) {
      found.push_back(std::move(*runtime));
    }
  }
  // Not found, or found twice: the whole catalog's answer (the available list, "listed twice").
  if (!whole && found.size() == 1) return RuntimeCatalog(std::move(found));
  return LoadCatalog(file, examples, runtimes_dir);
}

Result<RuntimeCatalog> LoadCatalog(const fs::path& file, CatalogExamples examples,
                                   const fs::path& runtimes_dir) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}:{}:{}: {}", file.string(), error.source().begin.line,
                            error.source().begin.column, error.description()));
  }
  for (const auto& [key, value] : root) {
    if (key.str() != "runtime") {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: unknown key '{}' (expected [[runtime]] entries)", file.string(),
                              key.str()));
    }
  }
  const toml::array* entries = root["runtime"].as_array();
  if (entries == nullptr || entries->empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: no [[runtime]] entries", file.string()));
  }
  std::vector<Runtime> runtimes;
  std::set<std::string> keys;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const toml::table* table = (*entries)[i].as_table();
    if (table == nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: runtime #{} is not a table", file.string(), i + 1));
    }
    auto runtime = ReadRuntime(*table, i, file.parent_path(), runtimes_dir, examples);
    if (!runtime) return Fail(std::move(runtime.error()).WithContext(file.string()));
    if (!keys.insert(runtime->Key()).second) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: {} is listed twice", file.string(), runtime->Key()));
    }
    runtimes.push_back(std::move(*runtime));
  }
  return RuntimeCatalog(std::move(runtimes));
}

fs::path DefaultRuntimesDir() {
  if (const char* env = std::getenv("INTEGR8SCODE_RUNTIMES_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return "/var/cache/integr8scode/runtimes";
}

fs::path DefaultCatalogPath() {
  if (const char* env = std::getenv("INTEGR8SCODE_CATALOG"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/<preset>/src/app/integr8scode → <source>/runtimes/catalog.toml
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
      const fs::path candidate = dir / "runtimes" / "catalog.toml";
      if (fs::exists(candidate, ec)) return candidate;
    }
  }
  return "/usr/local/share/integr8scode/runtimes/catalog.toml";
}

}  // namespace integr8scode
