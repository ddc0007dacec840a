#include "metrics/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace integr8scode {
namespace {

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return {std::move(name), std::move(help), type, {metric}};
}

// Seconds since the epoch at boot: "btime" of /proc/stat (proc(5)).
double BootTime() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> CollectProcessMetrics() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));

  // /proc/self/stat (proc(5)): the command name (field 2) may hold spaces and parentheses,
  // so the fields are counted from its last ')'. utime, stime: 14, 15; starttime: 22;
  // vsize: 23; rss (pages): 24.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  if (const auto paren = stat.rfind(')'); paren != std::string::npos) {
    std::istringstream fields(stat.substr(paren + 2));
    std::string field;
    double value[25] = {};
    for (int index = 3; index <= 24 && fields >> field; ++index) {
      value[index] = std::strtod(field.c_str(), nullptr);
    }
    families.push_back(Family("process_cpu_seconds_total", "User and system CPU time in seconds.",
                              MetricType::Counter, (value[14] + value[15]) / ticks));
    families.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, value[23]));
    families.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge, value[24] * page));
    if (const double boot = BootTime(); boot > 0) {
      families.push_back(Family("process_start_time_seconds",
                                "Start time of the process since the Unix epoch in seconds.",
                                MetricType::Gauge, boot + value[22] / ticks));
    }
  }

  std::error_code ec;
  double open = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++open;
  }
  if (!ec) {
    families.push_back(
        Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, open));
  }
  if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    families.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  return families;
}

}  // namespace integr8scode
