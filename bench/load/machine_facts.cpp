#include "load/machine_facts.hpp"

#include <sched.h>
#include <sys/utsname.h>

#include <charconv>
#include <fstream>
#include <string>

namespace integr8scode {
namespace {

// The value after "key<spaces>:" on the first line that starts with key.
std::string FieldOf(const char* path, const std::string& key) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::size_t start = colon + 1;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    return line.substr(start);
  }
  return {};
}

}  // namespace

MachineFacts ReadMachineFacts() {
  MachineFacts facts;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0)
    facts.cpus = static_cast<unsigned>(CPU_COUNT(&set));
  facts.cpu_model = FieldOf("/proc/cpuinfo", "model name");
  const std::string memory = FieldOf("/proc/meminfo", "MemTotal");  // "24684212 kB"
  std::uint64_t kilobytes = 0;
  if (std::from_chars(memory.data(), memory.data() + memory.size(), kilobytes).ec == std::errc()) {
    facts.memory_bytes = kilobytes * 1024;
  }
  utsname names{};
  if (::uname(&names) == 0) facts.kernel = names.release;
  return facts;
}

}  // namespace integr8scode
