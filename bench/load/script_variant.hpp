#pragma once

#include <cstdint>
#include <string>

namespace integr8scode {

// A `print('hi')`-sized Python program that differs for every (user, sequence) pair, so
// that no layer can answer it from a cache, and the output it must print.
struct ScriptVariant {
  std::string script;
  std::string expected_stdout;
};

ScriptVariant MakeScriptVariant(std::uint64_t user, std::uint64_t sequence);

}  // namespace integr8scode
