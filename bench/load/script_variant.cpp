#include "load/script_variant.hpp"

#include <fmt/format.h>

namespace integr8scode {

ScriptVariant MakeScriptVariant(std::uint64_t user, std::uint64_t sequence) {
  return ScriptVariant{fmt::format("print('hi', {}, {})\n", user, sequence),
                       fmt::format("hi {} {}\n", user, sequence)};
}

}  // namespace integr8scode
