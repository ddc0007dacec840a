#include "load/profile_stats.hpp"

namespace integr8scode {

std::uint64_t ProfileStats::ErrorTotal() const {
  std::uint64_t total = 0;
  for (const auto* errors : {&http_errors, &transport_errors, &execution_errors}) {
    for (const auto& [kind, count] : *errors) total += count;
  }
  return total;
}

}  // namespace integr8scode
