#include "catalog/catalog_loader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <tuple>

#include "catalog/probe.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

class CatalogFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("catalog-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& text) {
    const fs::path file = dir_ / "catalog.toml";
    std::ofstream(file) << text;
    return file;
  }

  fs::path dir_;
};

constexpr const char* kMinimal = R"(
[[runtime]]
language = "python"
version = "3.11"
display_name = "Python 3.11"
source_file = "script.py"
file_extension = "py"
interpreter = "/usr/bin/python3.11"
run = ["/usr/bin/python3.11", "{source}"]
)";

TEST(Catalog, ShippedCatalogLoadsWithItsExamples) {
  auto catalog = LoadCatalog(fs::path(INTEGR8SCODE_SOURCE_DIR) / "runtimes" / "catalog.toml");
  ASSERT_TRUE(catalog.has_value()) << catalog.error().Describe();
  for (const auto& [lang, version] : std::vector<std::pair<std::string, std::string>>{
           {"python", "3.11"}, {"pypy", "3.9"}, {"node", "20"}, {"c", "12"}}) {
    auto runtime = catalog->Find(lang, version);
    ASSERT_TRUE(runtime.has_value()) << lang << " " << version;
    EXPECT_FALSE((*runtime)->example.empty()) << lang;
    EXPECT_FALSE((*runtime)->image.empty()) << lang;
  }
  const Runtime* c = catalog->Find("c", "12").value();
  EXPECT_TRUE(c->has_compile);
  EXPECT_EQ(c->compile.limits.timeout, std::chrono::seconds(10));
  EXPECT_EQ(c->compile.limits.memory_bytes, 512ull << 20);
  EXPECT_NE(catalog->Find("python", "3.11").value()->example.find("match data:"),
            std::string::npos);
}

TEST_F(CatalogFile, MinimalEntryGetsDefaults) {
  auto catalog = LoadCatalog(Write(kMinimal));
  ASSERT_TRUE(catalog.has_value()) << catalog.error().Describe();
  const Runtime& runtime = catalog->All().at(0);
  EXPECT_EQ(runtime.host_paths, std::vector<std::string>{"/usr"});
  EXPECT_FALSE(runtime.has_compile);
}

TEST_F(CatalogFile, UnknownKeyIsNamed) {
  auto catalog = LoadCatalog(Write(std::string(kMinimal) + "colour = \"blue\"\n"));
  ASSERT_FALSE(catalog.has_value());
  EXPECT_NE(catalog.error().message.find("unknown key 'colour'"), std::string::npos)
      << catalog.error().message;
}

TEST_F(CatalogFile, WarmStartsAreOnUnlessARuntimeOptsOut) {
  auto by_default = LoadCatalog(Write(kMinimal));
  ASSERT_TRUE(by_default.has_value()) << by_default.error().Describe();
  EXPECT_TRUE(by_default->All().at(0).warm);
  auto opted_out = LoadCatalog(Write(std::string(kMinimal) + "warm = false\n"));
  ASSERT_TRUE(opted_out.has_value()) << opted_out.error().Describe();
  EXPECT_FALSE(opted_out->All().at(0).warm);
  auto wrong = LoadCatalog(Write(std::string(kMinimal) + "warm = \"no\"\n"));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message.find("runtime python 3.11: warm must be true or false"),
            std::string::npos)
      << wrong.error().message;
}

// The catalog names each runtime's zygote kind (docs/warm-starts.md): none by default.
TEST_F(CatalogFile, ZygoteKindIsNamedOrRefused) {
  auto none = LoadCatalog(Write(kMinimal));
  ASSERT_TRUE(none.has_value()) << none.error().Describe();
  EXPECT_EQ(none->All().at(0).zygote, ZygoteKind::kNone);
  auto embedded = LoadCatalog(Write(std::string(kMinimal) + "zygote = \"embedded-cpython\"\n"));
  ASSERT_TRUE(embedded.has_value()) << embedded.error().Describe();
  EXPECT_EQ(embedded->All().at(0).zygote, ZygoteKind::kEmbeddedCpython);
  auto bootstrap = LoadCatalog(Write(std::string(kMinimal) + "zygote = \"bootstrap\"\n"));
  ASSERT_TRUE(bootstrap.has_value()) << bootstrap.error().Describe();
  EXPECT_EQ(bootstrap->All().at(0).zygote, ZygoteKind::kBootstrap);
  auto node = LoadCatalog(Write(std::string(kMinimal) + "zygote = \"node-require\"\n"));
  ASSERT_TRUE(node.has_value()) << node.error().Describe();
  EXPECT_EQ(node->All().at(0).zygote, ZygoteKind::kNodeRequire);
  for (const char* wrong : {"zygote = \"fork\"\n", "zygote = true\n"}) {
    auto refused = LoadCatalog(Write(std::string(kMinimal) + wrong));
    ASSERT_FALSE(refused.has_value()) << wrong;
    EXPECT_NE(refused.error().message.find(
                  "runtime python 3.11: zygote must be \"embedded-cpython\", \"bootstrap\" or "
                  "\"node-require\""),
              std::string::npos)
        << refused.error().message;
  }
}

// The shipped catalog: the host's CPython 3.11 embedded, PyPy 3.9 by its bootstrap, the
// host's Node.js 20 by its preload.
TEST(ShippedCatalog, NamesTheZygotesOfCpythonPypyAndNode) {
  auto catalog = LoadCatalog(DefaultCatalogPath(), CatalogExamples::kSkip);
  ASSERT_TRUE(catalog.has_value()) << catalog.error().Describe();
  for (const Runtime& runtime : catalog->All()) {
    const ZygoteKind expected =
        runtime.language == "python" && runtime.version == "3.11" ? ZygoteKind::kEmbeddedCpython
        : runtime.language == "pypy"                              ? ZygoteKind::kBootstrap
        : runtime.language == "node" && runtime.version == "20"   ? ZygoteKind::kNodeRequire
                                                                  : ZygoteKind::kNone;
    EXPECT_EQ(runtime.zygote, expected) << runtime.language << " " << runtime.version;
  }
}

TEST_F(CatalogFile, DuplicateEntryIsRefused) {
  auto catalog = LoadCatalog(Write(std::string(kMinimal) + kMinimal));
  ASSERT_FALSE(catalog.has_value());
  EXPECT_NE(catalog.error().message.find("listed twice"), std::string::npos);
}

TEST_F(CatalogFile, MissingFieldAndSyntaxErrorsAreReported) {
  auto missing = LoadCatalog(Write("[[runtime]]\nlanguage = \"x\"\n"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("missing 'version'"), std::string::npos);
  auto syntax = LoadCatalog(Write("[[runtime]\n"));
  ASSERT_FALSE(syntax.has_value());
  EXPECT_NE(syntax.error().message.find("catalog.toml:1"), std::string::npos)
      << syntax.error().message;
}

TEST_F(CatalogFile, SourceFileMustNotEscapeTheScriptsDirectory) {
  std::string text = kMinimal;
  text.replace(text.find("script.py"), 9, "../etc/passwd");
  auto catalog = LoadCatalog(Write(text));
  ASSERT_FALSE(catalog.has_value());
  EXPECT_NE(catalog.error().message.find("plain file name"), std::string::npos);
}

TEST_F(CatalogFile, ImageCommandsAreBareNamesAndCompileNeedsAStep) {
  auto catalog =
      LoadCatalog(Write(std::string(kMinimal) + "image = \"python:3.11-slim\"\n"
                                                "image_run = [\"python3.11\", \"{source}\"]\n"));
  ASSERT_TRUE(catalog.has_value()) << catalog.error().Describe();
  EXPECT_EQ(catalog->All().front().image_run, (std::vector<std::string>{"python3.11", "{source}"}));
  EXPECT_TRUE(catalog->All().front().image_compile.empty());

  catalog = LoadCatalog(
      Write(std::string(kMinimal) + "image_run = [\"/usr/local/bin/python3.11\", \"{source}\"]\n"));
  ASSERT_FALSE(catalog.has_value());
  EXPECT_NE(
      catalog.error().message.find("image_run must start with a command name without a path, not "
                                   "'/usr/local/bin/python3.11'"),
      std::string::npos)
      << catalog.error().message;

  catalog = LoadCatalog(Write(std::string(kMinimal) + "image_compile = [\"gcc\"]\n"));
  ASSERT_FALSE(catalog.has_value());
  EXPECT_NE(catalog.error().message.find("image_compile without a [compile] step"),
            std::string::npos)
      << catalog.error().message;
}

}  // namespace
}  // namespace integr8scode

namespace integr8scode {
namespace {

constexpr const char* kTreeEntry = R"(
[[runtime]]
language = "python"
version = "3.13"
display_name = "Python 3.13"
source_file = "script.py"
file_extension = "py"
interpreter = "/usr/bin/python3.13"
run = ["/usr/bin/python3.13", "{source}"]

[runtime.rootfs]
suite = "trixie"
packages = ["python3.13"]
setup = ["/usr/bin/python3.13", "-m", "compileall", "/usr/lib/python3.13"]
revision = "1"
install_by_default = true
)";

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST_F(CatalogFile, RootfsRecipeNamesItsTreeUnderTheRuntimesDirectory) {
  auto catalog = LoadCatalog(Write(kTreeEntry), CatalogExamples::kSkip, "/cache/runtimes");
  ASSERT_TRUE(catalog.has_value()) << catalog.error().Describe();
  const Runtime& runtime = catalog->All().front();
  EXPECT_EQ(runtime.rootfs.suite, "trixie");
  EXPECT_EQ(runtime.rootfs.packages, std::vector<std::string>{"python3.13"});
  EXPECT_EQ(runtime.rootfs.setup.size(), 4u);
  EXPECT_TRUE(runtime.rootfs.install_by_default);
  EXPECT_TRUE(runtime.host_paths.empty()) << "a tree is the whole root";
  EXPECT_EQ(runtime.root_tree, "/cache/runtimes/trixie-" + runtime.rootfs.Key());
  EXPECT_EQ(runtime.rootfs.Key().size(), 16u);
}

TEST_F(CatalogFile, EveryPartOfTheRecipeChangesItsKey) {
  const auto key_of = [&](const std::string& text) {
    auto catalog = LoadCatalog(Write(text), CatalogExamples::kSkip, "/r");
    EXPECT_TRUE(catalog.has_value()) << catalog.error().Describe();
    return catalog ? catalog->All().front().rootfs.Key() : std::string();
  };
  const std::string base = key_of(kTreeEntry);
  EXPECT_NE(key_of(Replace(kTreeEntry, "\"trixie\"", "\"forky\"")), base);
  EXPECT_NE(key_of(Replace(kTreeEntry, "[\"python3.13\"]", "[\"python3.13\", \"gcc\"]")), base);
  EXPECT_NE(key_of(Replace(kTreeEntry, "\"compileall\", ", "")), base);
  EXPECT_NE(key_of(Replace(kTreeEntry, "revision = \"1\"", "revision = \"2\"")), base);
  // Not part of the recipe: which set installs it.
  EXPECT_EQ(key_of(Replace(kTreeEntry, "install_by_default = true", "install_by_default = false")),
            base);
}

TEST_F(CatalogFile, BadRecipesAreRefusedWithTheirPlace) {
  const auto error_of = [&](const std::string& text) {
    auto catalog = LoadCatalog(Write(text), CatalogExamples::kSkip, "/r");
    return catalog ? std::string() : catalog.error().Describe();
  };
  EXPECT_NE(error_of(Replace(kTreeEntry, "revision", "revisoin")).find("unknown key 'revisoin'"),
            std::string::npos);
  EXPECT_NE(error_of(Replace(kTreeEntry, "\"trixie\"", "\"../etc\"")).find("Debian suite name"),
            std::string::npos);
  EXPECT_NE(error_of(Replace(kTreeEntry, "[\"python3.13\"]", "[\"-o foo\"]"))
                .find("not a Debian package name"),
            std::string::npos);
  EXPECT_NE(
      error_of(Replace(kTreeEntry, "[runtime.rootfs]", "host_paths = [\"/usr\"]\n[runtime.rootfs]"))
          .find("exclude each other"),
      std::string::npos);
  EXPECT_NE(error_of(Replace(kTreeEntry, "[runtime.rootfs]",
                             "zygote = \"embedded-cpython\"\n[runtime.rootfs]"))
                .find("the host's CPython, not a rootfs's"),
            std::string::npos);
  EXPECT_NE(error_of(Replace(kTreeEntry, "install_by_default = true", "install_by_default = 1"))
                .find("true or false"),
            std::string::npos);
}

TEST(Catalog, ShippedCatalogHasTheIssuesRuntimes) {
  auto catalog = LoadCatalog(fs::path(INTEGR8SCODE_SOURCE_DIR) / "runtimes" / "catalog.toml",
                             CatalogExamples::kLoad, "/r");
  ASSERT_TRUE(catalog.has_value()) << catalog.error().Describe();
  for (const auto& [lang, version, suite] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"python", "3.9", "bullseye"},
           {"python", "3.13", "trixie"},
           {"python", "3.14", "forky"},
           {"python", "3.15", "forky"},
           {"ruby", "3.3", "trixie"},
           {"java", "21", "trixie"},
           {"go", "1.24", "trixie"},
           {"rust", "1.85", "trixie"},
           {"c", "14", "trixie"},
           {"node", "24", "forky"},
           {"kotlin", "1.3", "trixie"}}) {
    auto runtime = catalog->Find(lang, version);
    ASSERT_TRUE(runtime.has_value()) << lang << " " << version;
    EXPECT_EQ((*runtime)->rootfs.suite, suite) << lang << " " << version;
    EXPECT_FALSE((*runtime)->example.empty()) << lang << " " << version;
    EXPECT_FALSE((*runtime)->editor_mode.empty()) << lang << " " << version;
  }
  // Two GCC versions: the host's and trixie's.
  EXPECT_TRUE(catalog->Find("cpp", "12").has_value());
  EXPECT_TRUE(catalog->Find("cpp", "14").has_value());
  // Two Node.js: the host's (no tree) and Debian's forky build, under distinct keys.
  auto host_node = catalog->Find("node", "20");
  ASSERT_TRUE(host_node.has_value());
  EXPECT_TRUE((*host_node)->root_tree.empty());
}

// Under gVisor every runtime with a tree is refused with its reason; host runtimes and
// native isolation are untouched.
TEST(CatalogIsolation, GvisorRefusesRootFilesystemRuntimes) {
  auto catalog = LoadCatalog(fs::path(INTEGR8SCODE_SOURCE_DIR) / "runtimes" / "catalog.toml");
  ASSERT_TRUE(catalog.has_value()) << catalog.error().Describe();
  const std::vector<RuntimeAvailability> all_ok(catalog->All().size(),
                                                RuntimeAvailability{true, "ok", ""});
  std::vector<RuntimeAvailability> native = all_ok;
  ApplyIsolation(*catalog, "native", native);
  std::vector<RuntimeAvailability> gvisor = all_ok;
  ApplyIsolation(*catalog, "gvisor", gvisor);
  int refused = 0;
  for (std::size_t i = 0; i < catalog->All().size(); ++i) {
    const Runtime& runtime = catalog->All()[i];
    EXPECT_TRUE(native[i].available) << runtime.Slug();
    EXPECT_EQ(gvisor[i].available, runtime.root_tree.empty()) << runtime.Slug();
    if (runtime.root_tree.empty()) continue;
    ++refused;
    EXPECT_NE(gvisor[i].reason.find(runtime.Slug() + " has a root filesystem of its own"),
              std::string::npos)
        << gvisor[i].reason;
  }
  EXPECT_GT(refused, 0);
}

// `integr8scode run` parses only the entry it runs (LoadCatalogEntry): for every entry of
// the shipped catalog, that one entry and nothing else, equal to the whole catalog's.
TEST(CatalogEntry, EveryShippedEntryAloneEqualsTheWholeCatalogs) {
  const fs::path file = fs::path(INTEGR8SCODE_SOURCE_DIR) / "runtimes" / "catalog.toml";
  auto whole = LoadCatalog(file, CatalogExamples::kSkip);
  ASSERT_TRUE(whole.has_value()) << whole.error().Describe();
  for (const Runtime& expected : whole->All()) {
    auto one = LoadCatalogEntry(file, expected.language, expected.version, CatalogExamples::kSkip);
    ASSERT_TRUE(one.has_value()) << one.error().Describe();
    ASSERT_EQ(one->All().size(), 1u) << expected.Key() << ": the whole catalog was parsed";
    const Runtime& got = one->All()[0];
    EXPECT_EQ(got.Key(), expected.Key());
    EXPECT_EQ(got.display_name, expected.display_name) << expected.Key();
    EXPECT_EQ(got.source_file, expected.source_file) << expected.Key();
    EXPECT_EQ(got.run.argv, expected.run.argv) << expected.Key();
    EXPECT_EQ(got.run.limits.timeout, expected.run.limits.timeout) << expected.Key();
    EXPECT_EQ(got.has_compile, expected.has_compile) << expected.Key();
    EXPECT_EQ(got.compile.argv, expected.compile.argv) << expected.Key();
    EXPECT_EQ(got.compile.limits.memory_bytes, expected.compile.limits.memory_bytes)
        << expected.Key();
    EXPECT_EQ(got.env, expected.env) << expected.Key();
    EXPECT_EQ(got.interpreter, expected.interpreter) << expected.Key();
    EXPECT_EQ(got.host_paths, expected.host_paths) << expected.Key();
    EXPECT_EQ(got.root_tree, expected.root_tree) << expected.Key();
    EXPECT_EQ(got.rootfs.packages, expected.rootfs.packages) << expected.Key();
    EXPECT_EQ(got.image, expected.image) << expected.Key();
    EXPECT_EQ(got.image_run, expected.image_run) << expected.Key();
  }
}

// Whatever the split does not handle is the whole catalog's to answer, with its errors.
TEST_F(CatalogFile, EntryFallsBackToTheWholeCatalogsAnswers) {
  const std::string other = R"(
[[runtime]]
language = "node"
version = "20"
display_name = "Node.js 20"
source_file = "script.js"
file_extension = "js"
interpreter = "/usr/bin/node"
run = ["/usr/bin/node", "{source}"]
)";
  const fs::path file = Write(std::string(kMinimal) + other);
  auto unknown = LoadCatalogEntry(file, "ruby", "3.3");
  ASSERT_TRUE(unknown.has_value()) << unknown.error().Describe();
  EXPECT_EQ(unknown->All().size(), 2u);
  ASSERT_FALSE(unknown->Find("ruby", "3.3").has_value());
  EXPECT_NE(unknown->Find("ruby", "3.3").error().message.find("available: python 3.11, node 20"),
            std::string::npos);

  auto twice = LoadCatalogEntry(Write(std::string(kMinimal) + kMinimal), "python", "3.11");
  ASSERT_FALSE(twice.has_value());
  EXPECT_NE(twice.error().message.find("listed twice"), std::string::npos);

  // The syntax error's line is the file's, not the entry's.
  auto syntax = LoadCatalogEntry(Write(other + std::string(kMinimal) + "run = [\"python\"\n"),
                                 "python", "3.11");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_NE(syntax.error().message.find("catalog.toml:"), std::string::npos)
      << syntax.error().message;

  // A multi-line string could hide a header: the whole file is parsed.
  auto multiline = LoadCatalogEntry(
      Write(std::string(kMinimal) + "example_description = \"\"\"two\nlines\"\"\"\n" + other),
      "node", "20");
  ASSERT_TRUE(multiline.has_value()) << multiline.error().Describe();
  EXPECT_EQ(multiline->All().size(), 2u);
}

// The price of parsing one entry: another entry's mistake does not stop this one's run
// (serve and `runtimes`, which load every entry, still refuse it).
TEST_F(CatalogFile, EntryIgnoresTheOtherEntries) {
  const fs::path file = Write(std::string(kMinimal) + "[[runtime]]\nlanguage = \"x\"\n");
  auto one = LoadCatalogEntry(file, "python", "3.11");
  ASSERT_TRUE(one.has_value()) << one.error().Describe();
  EXPECT_EQ(one->All().size(), 1u);
  EXPECT_FALSE(LoadCatalog(file).has_value());
}

}  // namespace
}  // namespace integr8scode
