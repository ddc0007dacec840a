#pragma once

#include <cstdint>
#include <string>

namespace integr8scode {

// The machine the figures were measured on, for the report. Fields the host does not
// tell stay empty or zero.
struct MachineFacts {
  unsigned cpus = 0;  // CPUs this process may run on
  std::string cpu_model;
  std::uint64_t memory_bytes = 0;  // MemTotal
  std::string kernel;              // uname -r
};

MachineFacts ReadMachineFacts();

}  // namespace integr8scode
