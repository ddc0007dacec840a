#include "sandbox/gvisor_bundle.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/json_escape.hpp"

namespace integr8scode {
namespace {

std::string Quoted(const std::string& text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

std::string QuotedList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + Quoted(items[i]);
  return out + "]";
}

std::string Rlimit(const char* type, std::uint64_t value) {
  const std::string v = std::to_string(value);
  return std::string("{\"type\":\"") + type + "\",\"hard\":" + v + ",\"soft\":" + v + "}";
}

std::string WritableBind(const char* path) {
  return std::string("{\"destination\":\"") + path + "\",\"type\":\"bind\",\"source\":\"" + path +
         "\",\"options\":[\"rbind\",\"rw\",\"nosuid\",\"nodev\"]}";
}

}  // namespace

std::string GvisorConfigJson(const LaunchSpec& spec, const StepSpec& step) {
  std::string json = "{\"ociVersion\":\"1.0.2\",\"process\":{";
  json += "\"user\":{\"uid\":" + std::to_string(spec.uid) + ",\"gid\":" + std::to_string(spec.gid) +
          "},";
  json += "\"args\":" + QuotedList(step.argv) + ",";
  json += "\"env\":" + QuotedList(step.env) + ",";
  json += "\"cwd\":\"/home/sandbox\",\"noNewPrivileges\":true,";
  // No capability in any set: the program is an ordinary user inside the Sentry too.
  json +=
      "\"capabilities\":{\"bounding\":[],\"effective\":[],\"inheritable\":[],"
      "\"permitted\":[],\"ambient\":[]},";
  // The native step's rlimits, enforced by the Sentry on the program. NPROC is not
  // (gVisor ignores it); the host's pids.max bounds processes instead: under the
  // ptrace platform every guest address space is a host stub process in the slot.
  json += "\"rlimits\":[" + Rlimit("RLIMIT_FSIZE", step.file_size_bytes) + "," +
          Rlimit("RLIMIT_NOFILE", step.open_files) + "," + Rlimit("RLIMIT_NPROC", step.processes) +
          "," + Rlimit("RLIMIT_CPU", step.cpu_seconds) + "," + Rlimit("RLIMIT_CORE", 0) + "]},";
  // The sandbox's root as built for the native path: /usr read-only, /etc, /scripts.
  json += "\"root\":{\"path\":\"/\",\"readonly\":true},";
  json += "\"hostname\":" + Quoted(spec.hostname) + ",";
  json +=
      "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
      "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},";
  json += std::string("{\"destination\":\"") + kGvisorDir +
          "\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"ro\",\"size=4k\"]},";
  json += WritableBind("/home/sandbox") + "," + WritableBind("/tmp") + "],";
  // Namespaces inside the Sentry; no cgroupsPath: runsc leaves cgroups alone, the
  // slot's (which runsc runs in) limit and account it all.
  json +=
      "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
      "{\"type\":\"uts\"},{\"type\":\"mount\"}]}}";
  return json;
}

std::vector<std::string> GvisorArgv(const LaunchSpec& spec) {
  return {spec.gvisor_runsc, std::string("--root=") + kGvisorDir + "/state",
          "--platform=" + spec.gvisor_platform, "--network=none", "--ignore-cgroups",
          "--host-uds=none",
          // The scratch tmpfs is the only writable host filesystem and is the slot's
          // alone: the Sentry may cache it (exclusive is runsc's default; said aloud).
          "--file-access=exclusive", "run", std::string("--bundle=") + kGvisorDir, "i8c"};
}

int GvisorWaitStatus(int runsc_status) {
  if (!WIFEXITED(runsc_status)) return runsc_status;
  const int code = WEXITSTATUS(runsc_status);
  if (code > 128 && code < 128 + NSIG) return code - 128;  // WIFSIGNALED, no core
  return runsc_status;
}

int PrepareGvisorBundle(const std::string& config) {
  // A mount namespace of the step's own: the changes below reach neither the init nor a
  // later step.
  if (::unshare(CLONE_NEWNS) != 0) return errno;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno;
  // The root was made read-only for the program; runsc (root, trusted) needs a place
  // for the bundle and its state. The program sees the root read-only again, inside.
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_NOSUID, nullptr) != 0) return errno;
  // runsc reads /proc/meminfo and friends, which the native sandbox masks: a fresh
  // procfs of this PID namespace serves runsc; the program gets gVisor's own /proc.
  if (::umount2("/proc", MNT_DETACH) != 0) return errno;
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return errno;
  if (::mkdir(kGvisorDir, 0700) != 0 && errno != EEXIST) return errno;
  const int fd = ::open(kGvisorConfigPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  std::size_t written = 0;
  while (written < config.size()) {
    const ssize_t n = ::write(fd, config.data() + written, config.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = n < 0 ? errno : EIO;
      ::close(fd);
      return saved;
    }
    written += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0 ? 0 : errno;
}

}  // namespace integr8scode
