# Writes OUTPUT, a C++ source defining `std::string_view ${FUNCTION}()` that returns the
# text of INPUT. Run as `cmake -DINPUT=… -DOUTPUT=… -DFUNCTION=… -P embed_text.cmake`.
file(READ "${INPUT}" content)
get_filename_component(name "${INPUT}" NAME)
file(WRITE "${OUTPUT}" "// Generated from ${name} at build time; do not edit.
#include <string_view>

namespace integr8scode {

std::string_view ${FUNCTION}() {
  static constexpr char kText[] = R\"embedded_text(${content})embedded_text\";
  return {kText, sizeof(kText) - 1};
}

}  // namespace integr8scode
")
