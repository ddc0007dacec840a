// Locks on files a run shares with the host and with other runs: the host's /usr and a
// runtime's root-filesystem tree. A lock lives on an inode; a run that could lock the
// host's inodes had a covert channel to every concurrent run and held locks the host
// sees (and may wait on). Each run now sees those trees through an overlay of its own
// (docs/sandbox.md), so its locks are its own. Also the neighbours: what else two
// concurrent runs could meet in (abstract sockets, SysV IPC, POSIX shared memory and
// queues) and what the host tells through sysinfo(2).
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "catalog/probe.hpp"
#include "common/cancel.hpp"
#include "common/unique_fd.hpp"
#include "hostile/hostile_fixture.hpp"
#include "sandbox/local_executor.hpp"

namespace integr8scode {
namespace {

using testing::RecordingSink;
using testing::RunOptions;

// The files one run locks, each with one kind of lock, and the others then probe.
struct LockedFiles {
  std::string flock_path;  // flock(LOCK_EX)
  std::string posix_path;  // fcntl(F_SETLK, F_RDLCK): a read-only descriptor allows no more
  std::string ofd_path;    // fcntl(F_OFD_SETLK, F_RDLCK)
};

// Python that works on 3.9 and later; F_OFD_* by number (x86_64, asm-generic).
constexpr std::string_view kLockPrelude = R"py(
import fcntl, struct
F_OFD_GETLK, F_OFD_SETLK = 36, 37
def flock_struct(kind):
    return struct.pack("hhqqi4x", kind, 0, 0, 0, 0)
FLOCK, POSIX, OFD = "{}", "{}", "{}"
)py";

std::string HolderProgram(const LockedFiles& files) {
  return fmt::format(kLockPrelude, files.flock_path, files.posix_path, files.ofd_path) + R"py(
import time
a = open(FLOCK, "rb")
fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
b = open(POSIX, "rb")
fcntl.fcntl(b, fcntl.F_SETLK, flock_struct(fcntl.F_RDLCK))
c = open(OFD, "rb")
try:
    fcntl.fcntl(c, F_OFD_SETLK, flock_struct(fcntl.F_RDLCK))
except OSError as e:  # gVisor's Sentry has no OFD locks
    print("no OFD locks", e.errno)
print("held", flush=True)
time.sleep(60)
)py";
}

std::string ProbeProgram(const LockedFiles& files) {
  return fmt::format(kLockPrelude, files.flock_path, files.posix_path, files.ofd_path) + R"py(
def conflicting(path, command):
    with open(path, "rb") as f:
        try:
            answer = fcntl.fcntl(f, command, flock_struct(fcntl.F_WRLCK))
        except OSError as e:
            return "unsupported (%d)" % e.errno
    return "free" if struct.unpack("hhqqi4x", answer)[0] == fcntl.F_UNLCK else "LOCKED"
with open(FLOCK, "rb") as f:
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("flock free")
    except BlockingIOError:
        print("flock HELD")
print("F_GETLK", conflicting(POSIX, fcntl.F_GETLK))
print("F_OFD_GETLK", conflicting(OFD, F_OFD_GETLK))
)py";
}

// The same probes from the host, on the host's own path of each file.
std::string ProbeFromTheHost(const LockedFiles& files) {
  std::string answer;
  {
    UniqueFd fd(::open(files.flock_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return "cannot open " + files.flock_path;
    const bool free = ::flock(fd.Get(), LOCK_EX | LOCK_NB) == 0;
    answer += free ? "flock free\n" : "flock HELD\n";
  }
  const auto conflicting = [](const std::string& path, int command) -> std::string {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return "cannot open " + path;
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (::fcntl(fd.Get(), command, &lock) != 0) return "error";
    return lock.l_type == F_UNLCK ? "free" : "LOCKED";
  };
  answer += "F_GETLK " + conflicting(files.posix_path, F_GETLK) + "\n";
  answer += "F_OFD_GETLK " + conflicting(files.ofd_path, F_OFD_GETLK) + "\n";
  return answer;
}

// Blocks until `sink` shows `text` or the holder's run is over.
bool WaitForOutput(const RecordingSink& sink, std::string_view text,
                   const std::atomic<bool>& holder_done) {
  while (sink.MillisUntilStdoutContains(text) < 0) {
    if (holder_done) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

struct Observed {
  RunResult holder;
  std::string from_another_run;
  StartKind another_run_start = StartKind::kCold;
  std::string from_the_host;
};

LockedFiles Prefixed(const LockedFiles& files, const std::string& prefix) {
  return {prefix + files.flock_path, prefix + files.posix_path, prefix + files.ofd_path};
}

// One run takes the locks of `files` (paths inside the sandbox) and holds them; while
// it does, the host probes the same files at `host_files`, and a second run of the same
// runtime probes them in its own sandbox. Then the holder is cancelled.
Observed LockWhileOthersLook(std::string_view language, std::string_view version,
                             const LockedFiles& files, const LockedFiles& host_files,
                             Executor* executor = nullptr) {
  Observed observed;
  RecordingSink sink;
  CancelToken cancel;
  std::atomic<bool> holder_done{false};
  std::thread holder([&] {
    RunOptions options;
    options.sink = &sink;
    options.cancel = &cancel;
    options.limits.timeout = std::chrono::seconds(30);
    options.executor = executor;
    observed.holder = testing::RunCode(language, version, HolderProgram(files), options);
    holder_done = true;
  });
  if (WaitForOutput(sink, "held\n", holder_done)) {
    observed.from_the_host = ProbeFromTheHost(host_files);
    RunOptions options;
    options.executor = executor;
    const RunResult probe = testing::RunCode(language, version, ProbeProgram(files), options);
    observed.from_another_run = probe.stdout_text + probe.stderr_text;
    observed.another_run_start = probe.start;
  }
  cancel.Cancel();
  holder.join();
  return observed;
}

constexpr std::string_view kAllFree = "flock free\nF_GETLK free\nF_OFD_GETLK free\n";

const LockedFiles kHostPython{"/usr/bin/python3.11", "/usr/lib/python3.11/os.py",
                              "/usr/lib/python3.11/abc.py"};

TEST_F(Hostile, LocksOnTheHostsUsrStayInTheRun) {
  const Observed observed = LockWhileOthersLook("python", "3.11", kHostPython, kHostPython);
  ASSERT_EQ(observed.holder.stdout_text, "held\n")
      << observed.holder.message << observed.holder.stderr_text;
  EXPECT_EQ(observed.holder.status, ExecutionStatus::kCancelled);
  EXPECT_EQ(observed.from_another_run, kAllFree) << "a concurrent run saw the locks";
  EXPECT_EQ(observed.from_the_host, kAllFree) << "the host saw the run's locks";
}

// Warm (hostile_warm): every slot's last run `language`, then two zygotes waiting; a run
// locks /proc/self/exe while another warm run and the host (on `host_exe`) look.
void ExpectWarmExeLocksStayInTheRun(const char* language, const char* version,
                                    const std::string& host_exe) {
  testing::SharedExecutor();
  std::vector<std::thread> warmers;
  for (std::size_t i = 0; i < testing::kSharedExecutorSlots; ++i) {
    warmers.emplace_back([&] { testing::RunCode(language, version, "pass\n"); });
  }
  for (std::thread& warmer : warmers) warmer.join();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (testing::TakeHostSnapshot().waiting_zygotes < 2 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const LockedFiles exe{"/proc/self/exe", "/proc/self/exe", "/proc/self/exe"};
  const Observed observed =
      LockWhileOthersLook(language, version, exe, LockedFiles{host_exe, host_exe, host_exe});
  ASSERT_EQ(observed.holder.stdout_text, "held\n")
      << observed.holder.message << observed.holder.stderr_text;
  EXPECT_EQ(observed.holder.start, StartKind::kWarm) << "the holder started cold";
  EXPECT_EQ(observed.another_run_start, StartKind::kWarm) << "the probe started cold";
  EXPECT_EQ(observed.from_another_run, kAllFree) << "a concurrent warm run saw the locks";
  EXPECT_EQ(observed.from_the_host, kAllFree) << "the host saw the run's locks";
}

// A warm CPython run's executable is the zygote, a file outside the sandbox's /usr that
// every warm run executes. It is opened through an overlay of its own too, so
// /proc/self/exe is the run's inode: a lock on it is the run's.
TEST_F(Hostile, LocksOnTheWarmZygoteStayInTheRun) {
  const char* zygote = std::getenv("INTEGR8SCODE_TEST_WARM_ZYGOTE");
  if (zygote == nullptr)
    GTEST_SKIP() << "runs warm only with INTEGR8SCODE_TEST_WARM_ZYGOTE (ctest: hostile_warm)";
  ExpectWarmExeLocksStayInTheRun("python", "3.11", zygote);
}

// Warm PyPy: its zygote is the interpreter itself, exec'd by its path in the sandbox
// built ahead, so its executable is an inode of that sandbox's own overlay of /usr, as a
// cold run's is: a lock on /proc/self/exe is the run's.
TEST_F(Hostile, LocksOnAWarmPypyStayInTheRun) {
  if (std::getenv("INTEGR8SCODE_TEST_WARM_ZYGOTE") == nullptr)
    GTEST_SKIP() << "runs warm only with INTEGR8SCODE_TEST_WARM_ZYGOTE (ctest: hostile_warm)";
  constexpr const char* kPypy = "/usr/bin/pypy3.9";
  if (::access(kPypy, X_OK) != 0) GTEST_SKIP() << "needs " << kPypy;
  ExpectWarmExeLocksStayInTheRun("pypy", "3.9", kPypy);
}

TEST_F(Hostile, LocksOnARuntimesTreeStayInTheRun) {
  const Runtime& runtime = testing::RuntimeFor("python", "3.9");
  ASSERT_FALSE(runtime.root_tree.empty()) << "python 3.9 has a root filesystem of its own";
  if (const RuntimeAvailability state = ProbeRuntime(runtime); !state.available) {
    GTEST_SKIP() << runtime.Slug() << " is not usable: " << state.reason;
  }
  const LockedFiles files{"/usr/bin/python3.9", "/usr/lib/python3.9/os.py",
                          "/usr/lib/python3.9/abc.py"};
  const Observed observed =
      LockWhileOthersLook("python", "3.9", files, Prefixed(files, runtime.root_tree));
  ASSERT_EQ(observed.holder.stdout_text, "held\n")
      << observed.holder.message << observed.holder.stderr_text;
  EXPECT_EQ(observed.holder.status, ExecutionStatus::kCancelled);
  EXPECT_EQ(observed.from_another_run, kAllFree) << "a concurrent run saw the locks";
  EXPECT_EQ(observed.from_the_host, kAllFree) << "the host saw the run's locks";
}

TEST_F(Hostile, LocksUnderGvisorStayInTheRun) {
  // The program's locks are the Sentry's own (runsc 2022 has no OFD locks: EINVAL);
  // runsc's gofer, which opens the host's files, opens them through the overlay too.
  constexpr const char* kRunsc = "/usr/bin/runsc";
  if (::access(kRunsc, X_OK) != 0) GTEST_SKIP() << "gVisor's runsc is not installed";
  SandboxOptions options;
  options.slots = 2;
  options.isolation = "gvisor";
  options.gvisor_runsc = kRunsc;
  auto executor = CreateLocalExecutor(options);
  ASSERT_TRUE(executor) << executor.error().Describe();
  const Observed observed =
      LockWhileOthersLook("python", "3.11", kHostPython, kHostPython, executor->get());
  ASSERT_EQ(observed.holder.stdout_text, "no OFD locks 22\nheld\n")
      << observed.holder.message << observed.holder.stderr_text;
  EXPECT_EQ(observed.holder.status, ExecutionStatus::kCancelled);
  EXPECT_EQ(observed.from_another_run, "flock free\nF_GETLK free\nF_OFD_GETLK unsupported (22)\n")
      << "a concurrent run saw the locks";
  EXPECT_EQ(observed.from_the_host, kAllFree) << "the host saw the run's locks";
}

// Where else two concurrent runs could meet: each kind of rendezvous is made by one
// run, which holds it, and looked for by a second run and by the host. The IPC and
// network namespaces are per sandbox, /dev/shm is the run's own /tmp.
constexpr std::string_view kRendezvousPrelude = R"(
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#define KEY 0x18121812
static struct sockaddr_un abstract_address(socklen_t* length) {
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  const char name[] = "integr8scode-rendezvous";
  memcpy(address.sun_path + 1, name, sizeof name - 1);
  *length = offsetof(struct sockaddr_un, sun_path) + 1 + sizeof name - 1;
  return address;
}
)";

std::string RendezvousMaker() {
  return std::string(kRendezvousPrelude) + R"(
#define TRY(name, call) do { errno = 0; if ((long)(call) < 0) printf("%s %s\n", name, strerrorname_np(errno)); } while (0)
int main(void) {
  socklen_t length;
  struct sockaddr_un address = abstract_address(&length);
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  TRY("bind", bind(listener, (struct sockaddr*)&address, length));
  TRY("listen", listen(listener, 1));
  TRY("shmget", shmget(KEY, 4096, IPC_CREAT | 0666));
  TRY("msgget", msgget(KEY, IPC_CREAT | 0666));
  TRY("semget", semget(KEY, 1, IPC_CREAT | 0666));
  TRY("shm_open", shm_open("/integr8scode-rendezvous", O_CREAT | O_RDWR, 0666));
  struct mq_attr attributes = {.mq_maxmsg = 1, .mq_msgsize = 1};
  mqd_t queue = mq_open("/integr8scode-rendezvous", O_CREAT | O_RDWR, 0666, &attributes);
  if (queue == (mqd_t)-1) printf("mq_open %s\n", strerrorname_np(errno));
  printf("made\n");
  fflush(stdout);
  sleep(60);
  return 0;
})";
}

std::string RendezvousSeeker() {
  return std::string(kRendezvousPrelude) + R"(
#define SEEK(name, call) do { errno = 0; long rc = (long)(call); printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "FOUND"); } while (0)
int main(void) {
  socklen_t length;
  struct sockaddr_un address = abstract_address(&length);
  SEEK("abstract", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr*)&address, length));
  SEEK("shmget", shmget(KEY, 0, 0));
  SEEK("msgget", msgget(KEY, 0));
  SEEK("semget", semget(KEY, 0, 0));
  SEEK("shm_open", shm_open("/integr8scode-rendezvous", O_RDONLY, 0));
  SEEK("mq_open", (long)mq_open("/integr8scode-rendezvous", O_RDONLY));
  return 0;
})";
}

constexpr std::string_view kNothingFound =
    "abstract ECONNREFUSED\nshmget ENOENT\nmsgget ENOENT\nsemget ENOENT\nshm_open ENOENT\n"
    "mq_open ENOENT\n";

TEST_F(Hostile, ConcurrentRunsHaveNoPlaceToMeet) {
  RecordingSink sink;
  CancelToken cancel;
  std::atomic<bool> maker_done{false};
  RunResult maker;
  std::thread thread([&] {
    RunOptions options;
    options.sink = &sink;
    options.cancel = &cancel;
    options.limits.timeout = std::chrono::seconds(30);
    maker = C(RendezvousMaker(), options);
    maker_done = true;
  });
  RunResult seeker;
  bool from_the_host = false;
  if (WaitForOutput(sink, "made\n", maker_done)) {
    seeker = C(RendezvousSeeker());
    // The host's own namespaces: nothing of the run's there either.
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string_view name = "integr8scode-rendezvous";
    name.copy(address.sun_path + 1, name.size());
    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    from_the_host =
        ::connect(socket.Get(), reinterpret_cast<const sockaddr*>(&address), length) == 0 ||
        ::access("/dev/shm/integr8scode-rendezvous", F_OK) == 0;
  }
  cancel.Cancel();
  thread.join();
  // The maker may not make a POSIX queue at all (RLIMIT_MSGQUEUE is 0): it says so.
  EXPECT_EQ(maker.stdout_text, "mq_open EMFILE\nmade\n") << maker.message << maker.stderr_text;
  EXPECT_EQ(maker.status, ExecutionStatus::kCancelled);
  EXPECT_EQ(seeker.stdout_text, kNothingFound) << seeker.message << seeker.stderr_text;
  EXPECT_FALSE(from_the_host) << "the host found the run's socket or shared memory";
}

}  // namespace
}  // namespace integr8scode
