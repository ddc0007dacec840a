#include "domain/runtime.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace integr8scode {
namespace {

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

}  // namespace

std::string RootfsRecipe::Key() const {
  // FNV-1a: a cache key that changes with the recipe, not a security boundary.
  std::uint64_t hash = 14695981039346656037ULL;
  const auto add = [&hash](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ULL;
    }
    hash ^= 0xff;  // a separator that no text contains
    hash *= 1099511628211ULL;
  };
  // The builder's own version (runtimes/build-rootfs): a change there is a new tree too.
  add("build-rootfs 2");
  add(suite);
  for (const std::string& package : packages) add(package);
  add("--");
  for (const std::string& arg : setup) add(arg);
  add(revision);
  return fmt::format("{:016x}", hash);
}

std::string Runtime::SourcePath() const {
  return std::string(kSandboxSourceDir) + "/" + source_file;
}

std::vector<std::string> ExpandArgv(const std::vector<std::string>& argv, const Runtime& runtime) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  const std::string source = runtime.SourcePath();
  for (std::string arg : argv) {
    ReplaceAll(arg, "{source}", source);
    ReplaceAll(arg, "{workdir}", kSandboxWorkDir);
    out.push_back(std::move(arg));
  }
  return out;
}

RuntimeCatalog::RuntimeCatalog(std::vector<Runtime> runtimes) : runtimes_(std::move(runtimes)) {}

std::string RuntimeCatalog::ListKeys() const {
  std::string keys;
  for (const Runtime& runtime : runtimes_) {
    if (!keys.empty()) keys += ", ";
    keys += runtime.Key();
  }
  return keys;
}

Result<const Runtime*> RuntimeCatalog::Find(std::string_view language,
                                            std::string_view version) const {
  bool language_known = false;
  std::string versions;
  for (const Runtime& runtime : runtimes_) {
    if (runtime.language != language) continue;
    language_known = true;
    if (runtime.version == version) return &runtime;
    if (!versions.empty()) versions += ", ";
    versions += runtime.version;
  }
  if (!language_known) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("unknown language '{}'; available: {}", language, ListKeys()));
  }
  return Fail(ErrorCode::kNotFound, fmt::format("unknown version '{}' of {}; available: {}",
                                                version, language, versions));
}

}  // namespace integr8scode
