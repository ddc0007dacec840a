#include "sandbox/seccomp_policy.hpp"

namespace integr8scode {

const SeccompProgram& EmbeddedSeccompProgram() {
  static const SeccompProgram program{{
#include "seccomp_program.inc"
  }};
  return program;
}

}  // namespace integr8scode
