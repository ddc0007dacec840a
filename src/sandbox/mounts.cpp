#include "sandbox/mounts.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/try.hpp"
#include "common/unique_fd.hpp"
#include "domain/runtime.hpp"
#include "sandbox/host_information.hpp"
#include "sandbox/node_zygote/node_zygote.hpp"

namespace integr8scode {
namespace {

constexpr std::string_view kHome = "home/sandbox";

Status Mount(const char* source, const std::string& target, const char* type, unsigned long flags,
             const char* data, std::string_view what) {
  if (::mount(source, target.c_str(), type, flags, data) != 0) {
    const int saved = errno;
    return Fail(SystemError(saved, fmt::format("mount {} on {}", what, target)));
  }
  return {};
}

// mkdir -p relative to `dir`; components are ours (from the catalog), never the user's.
Status MakeDirs(int dir, std::string_view relative, mode_t mode) {
  std::string path;
  std::size_t pos = 0;
  while (pos <= relative.size()) {
    std::size_t end = relative.find('/', pos);
    if (end == std::string_view::npos) end = relative.size();
    if (end > pos) {
      if (!path.empty()) path += '/';
      path += relative.substr(pos, end - pos);
      if (::mkdirat(dir, path.c_str(), mode) != 0 && errno != EEXIST) {
        const int saved = errno;
        return Fail(SystemError(saved, "mkdir " + path));
      }
    }
    pos = end + 1;
  }
  return {};
}

Status WriteFileAt(int dir, const char* name, std::string_view content, mode_t mode) {
  UniqueFd fd(::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) {
    const int saved = errno;
    return Fail(SystemError(saved, fmt::format("create {}", name)));
  }
  while (!content.empty()) {
    const ssize_t n = ::write(fd.Get(), content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      return Fail(SystemError(saved, fmt::format("write {}", name)));
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fchmod(fd.Get(), mode) != 0) return Fail(SystemError("fchmod"));
  return {};
}

Status CopyFdInto(int dir, const char* name, int from, mode_t mode) {
  UniqueFd to(::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!to) {
    const int saved = errno;
    return Fail(SystemError(saved, fmt::format("create {}", name)));
  }
  struct stat st {};
  if (::fstat(from, &st) != 0) return Fail(SystemError("fstat source"));
  off_t offset = 0;
  while (offset < st.st_size) {
    const ssize_t n =
        ::sendfile(to.Get(), from, &offset, static_cast<std::size_t>(st.st_size - offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      return Fail(SystemError(saved, fmt::format("copy into {}", name)));
    }
    if (n == 0) break;
  }
  if (::fchmod(to.Get(), mode) != 0) return Fail(SystemError("fchmod"));
  return {};
}

// The host's directories and a runtime's tree are shared with the host and with every
// other run, and a lock (flock, fcntl, OFD) lives on an inode: on a plain bind, a run's
// lock is seen by every concurrent run and by the host. An overlay's inodes belong to
// its own superblock, so through an overlay of its own a run locks only its own
// (docs/sandbox.md, "Shared with the host"). Without an upper layer overlayfs needs two
// lower ones: the second is `empty_layer`. Read-only, nosuid, nodev; mounts below
// `host_dir` are not seen through it.
Status MountOwnView(const std::string& host_dir, const std::string& target,
                    const std::string& empty_layer) {
  // lowerdir separates layers with ':' and options with ','; '\' escapes both.
  const auto escaped = [](std::string_view path) {
    std::string out;
    for (const char c : path) {
      if (c == ':' || c == ',' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  const std::string options =
      fmt::format("lowerdir={}:{}", escaped(host_dir), escaped(empty_layer));
  return Mount("sandbox-ro", target, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, options.c_str(),
               fmt::format("an overlay of {}", host_dir));
}

// The sandbox's mount point gets a small tmpfs of its own holding `empty` (the second
// layer of every overlay: MountOwnView) and `root`, where the new root is built. The
// overlays keep what they need of it (they clone their layers' mounts); the rest goes
// with the old root at pivot_root. Returns the path of the new root.
Result<std::string> MountLayers(const LaunchSpec& spec) {
  const std::string& layers = spec.root_mount_point;
  I8C_TRY(Mount("sandbox-layers", layers, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "size=4k,nr_inodes=8,mode=0755", "layers tmpfs"));
  for (const char* dir : {"/empty", "/root"}) {
    if (::mkdir((layers + dir).c_str(), 0755) != 0) {
      const int saved = errno;
      return Fail(SystemError(saved, fmt::format("mkdir {}{}", layers, dir)));
    }
  }
  return layers + "/root";
}

std::string EmptyLayer(const LaunchSpec& spec) { return spec.root_mount_point + "/empty"; }

// The warm zygote's binary lives outside the new root (beside the service's binary), so
// the init opens it before pivot_root — through an overlay of its directory of this
// sandbox's own, as every host path is seen: the running zygote's executable
// (/proc/self/exe, which a program can lock) is then an inode of this run, not the
// host's file that every concurrent warm run executes. The overlay's mount point is in
// the layers tmpfs and goes away at pivot_root; the descriptor keeps the overlay alive
// for the execveat. Any failure only means no warm start (the run starts cold, counted).
UniqueFd OpenZygoteThroughOwnView(const LaunchSpec& spec) {
  const std::filesystem::path zygote(spec.warm.zygote);
  const std::string view = spec.root_mount_point + "/zygote";
  if (::mkdir(view.c_str(), 0755) != 0) return UniqueFd();
  if (!MountOwnView(zygote.parent_path().string(), view, EmptyLayer(spec))) return UniqueFd();
  const std::string path = view + "/" + zygote.filename().string();
  return UniqueFd(::open(path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW));
}

struct EtcFile {
  const char* name;
  std::string content;
};

// The /etc files every sandbox gets, whichever its root.
std::vector<EtcFile> SandboxEtcFiles(const LaunchSpec& spec) {
  const std::string passwd = fmt::format(
      "root:x:0:0:root:/root:/usr/sbin/nologin\n"
      "sandbox:x:{}:{}:sandbox:/{}:/usr/sbin/nologin\n"
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
      spec.uid, spec.gid, kHome);
  const std::string group = fmt::format("root:x:0:\nsandbox:x:{}:\nnogroup:x:65534:\n", spec.gid);
  const std::string hosts =
      fmt::format("127.0.0.1\tlocalhost {0}\n::1\tlocalhost {0}\n", spec.hostname);
  return {
      {"passwd", passwd},
      {"group", group},
      {"hosts", hosts},
      {"hostname", spec.hostname + "\n"},
      {"nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n"},
      {"resolv.conf", ""},
  };
}

Status MakeEtc(int root, const LaunchSpec& spec) {
  UniqueFd etc(::openat(root, "etc", O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!etc) return Fail(SystemError("open /etc"));
  for (const EtcFile& file : SandboxEtcFiles(spec)) {
    I8C_TRY(WriteFileAt(etc.Get(), file.name, file.content, 0644));
  }
  for (const std::string& host_file : spec.host_etc_files) {
    UniqueFd from(::open(host_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!from) continue;  // optional: copied when the host has it
    const std::string name = host_file.substr(host_file.rfind('/') + 1);
    I8C_TRY(CopyFdInto(etc.Get(), name.c_str(), from.Get(), 0644));
  }
  return {};
}

Status MakeDev(int root) {
  UniqueFd dev(::openat(root, "dev", O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!dev) return Fail(SystemError("open /dev"));
  const struct {
    const char* name;
    unsigned minor;
  } nodes[] = {{"null", 3}, {"zero", 5}, {"full", 7}, {"random", 8}, {"urandom", 9}};
  for (const auto& node : nodes) {
    if (::mknodat(dev.Get(), node.name, S_IFCHR | 0666, makedev(1, node.minor)) != 0) {
      const int saved = errno;
      return Fail(SystemError(saved, fmt::format("mknod /dev/{}", node.name)));
    }
    // mknod applies the umask; the nodes must be usable by the sandbox user.
    if (::fchmodat(dev.Get(), node.name, 0666, 0) != 0) return Fail(SystemError("chmod /dev node"));
  }
  const struct {
    const char* target;
    const char* name;
  } links[] = {{"/proc/self/fd", "fd"},
               {"/proc/self/fd/0", "stdin"},
               {"/proc/self/fd/1", "stdout"},
               {"/proc/self/fd/2", "stderr"},
               {"/tmp", "shm"}};  // POSIX shared memory and semaphores live in /tmp
  for (const auto& link : links) {
    if (::symlinkat(link.target, dev.Get(), link.name) != 0)
      return Fail(SystemError("symlink in /dev"));
  }
  return {};
}

// The scratch tmpfs at `staging` with its `home` (the run's uid) and `tmp` (sticky)
// directories; returns a descriptor of it. nr_inodes bounds the number of files (a
// file-creation flood) independently of size.
Result<UniqueFd> MountScratch(const std::string& staging, const LaunchSpec& spec) {
  const std::string options = fmt::format("size={},nr_inodes=16384,mode=0755", spec.tmpfs_bytes);
  I8C_TRY(Mount("sandbox-rw", staging, "tmpfs", MS_NOSUID | MS_NODEV, options.c_str(), "tmpfs"));
  UniqueFd rw(::open(staging.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!rw) return Fail(SystemError("open staging"));
  if (::mkdirat(rw.Get(), "home", 0755) != 0 ||
      ::fchownat(rw.Get(), "home", spec.uid, spec.gid, 0) != 0) {
    return Fail(SystemError("make home"));
  }
  if (::mkdirat(rw.Get(), "tmp", 0777) != 0 || ::fchmodat(rw.Get(), "tmp", 01777, 0) != 0) {
    return Fail(SystemError("make tmp"));
  }
  return rw;
}

// Binds the scratch tmpfs mounted at `staging` (MountScratch) as the working directory
// and /tmp of the root at `root_path`, then detaches the staging mount.
Status BindScratch(const std::string& staging, const std::string& root_path) {
  I8C_TRY(Mount((staging + "/home").c_str(), root_path + "/" + std::string(kHome), nullptr, MS_BIND,
                nullptr, "home"));
  I8C_TRY(Mount((staging + "/tmp").c_str(), root_path + "/tmp", nullptr, MS_BIND, nullptr, "tmp"));
  if (::umount2(staging.c_str(), MNT_DETACH) != 0) return Fail(SystemError("detach staging"));
  return {};
}

// One tmpfs for the working directory and /tmp, so that a single size limit covers
// both: mounted at a staging directory, bound twice, then the staging mount detached.
Status MakeWritableArea(int root, const std::string& root_path, const LaunchSpec& spec) {
  if (::mkdirat(root, ".rw", 0700) != 0) return Fail(SystemError("mkdir staging"));
  const std::string staging = root_path + "/.rw";
  I8C_TRY(MountScratch(staging, spec));
  I8C_TRY(BindScratch(staging, root_path));
  if (::unlinkat(root, ".rw", AT_REMOVEDIR) != 0) return Fail(SystemError("remove staging"));
  return {};
}

// Mounts /proc and makes `root_path` the root.
Status EnterRoot(const std::string& root_path) {
  // hidepid=2: the sandbox user cannot see the init (root) in /proc.
  if (auto s = Mount("proc", root_path + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "hidepid=2", "proc");
      !s) {
    return s;
  }
  I8C_TRY(MaskHostProcPaths(root_path + "/proc", root_path + "/dev/null"));
  UniqueFd root(::open(root_path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!root) return Fail(SystemError("open new root"));
  // pivot_root(".", ".") stacks the old root under the new one; detaching "." then
  // drops the old root entirely (pivot_root(2), "NOTES").
  if (::fchdir(root.Get()) != 0) return Fail(SystemError("chdir new root"));
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return Fail(SystemError("pivot_root"));
  if (::umount2(".", MNT_DETACH) != 0) return Fail(SystemError("detach old root"));
  if (::chdir("/") != 0) return Fail(SystemError("chdir /"));
  return {};
}

// A runtime's own root filesystem (runtimes/build-rootfs made its mount points and
// empty /etc files): seen read-only through an overlay of its own, then the per-run
// parts mounted over it. The tree's /run is the staging point of the writable area,
// whose tmpfs also holds the generated /etc files, each bound over the tree's empty one.
Status BuildTreeRoot(const LaunchSpec& spec, const std::string& root_path) {
  I8C_TRY(MountOwnView(spec.root_tree, root_path, EmptyLayer(spec)));
  UniqueFd root(::open(root_path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!root) return Fail(SystemError("open the runtime's root"));

  const std::string staging = root_path + "/run";
  {
    UniqueFd rw = I8C_TRY_VALUE(MountScratch(staging, spec));
    if (::mkdirat(rw.Get(), ".etc", 0755) != 0) return Fail(SystemError("make staged /etc"));
    UniqueFd etc(::openat(rw.Get(), ".etc", O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!etc) return Fail(SystemError("open staged /etc"));
    for (const EtcFile& file : SandboxEtcFiles(spec)) {
      I8C_TRY(WriteFileAt(etc.Get(), file.name, file.content, 0644));
    }
  }
  for (const EtcFile& file : SandboxEtcFiles(spec)) {
    const std::string from = fmt::format("{}/.etc/{}", staging, file.name);
    const std::string to = fmt::format("{}/etc/{}", root_path, file.name);
    // Root's files, 0644: the sandbox user cannot change them.
    I8C_TRY(Mount(from.c_str(), to, nullptr, MS_BIND, nullptr, file.name));
  }
  I8C_TRY(BindScratch(staging, root_path));

  // /dev's nodes need a filesystem without nodev; read-only once made.
  const std::string dev = root_path + "/dev";
  if (auto s = Mount("sandbox-dev", dev, "tmpfs", MS_NOSUID | MS_NOEXEC,
                     "size=64k,nr_inodes=64,mode=0755", "/dev tmpfs");
      !s) {
    return s;
  }
  I8C_TRY(MakeDev(root.Get()));
  if (auto s = Mount(nullptr, dev, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
                     "size=64k,nr_inodes=64,mode=0755", "/dev (read-only)");
      !s) {
    return s;
  }
  // The program is placed when the run is known; FinishRootFilesystem makes it read-only.
  return Mount("sandbox-scripts", root_path + "/scripts", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "size=16m,nr_inodes=16,mode=0755", "/scripts tmpfs");
}

}  // namespace

Status BuildRootFilesystem(const LaunchSpec& spec, UniqueFd* zygote) {
  // Nothing we mount may propagate back to the host's mount namespace.
  if (auto s = Mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr, "/ private"); !s)
    return s;
  const std::string root_path = I8C_TRY_VALUE(MountLayers(spec));
  if (zygote != nullptr && spec.prebuilt && !spec.warm.zygote.empty() && !spec.warm.zygote_inside) {
    *zygote = OpenZygoteThroughOwnView(spec);
  }
  if (!spec.root_tree.empty()) {
    I8C_TRY(BuildTreeRoot(spec, root_path));
    return EnterRoot(root_path);
  }
  // No MS_NODEV here: /dev's nodes live on this tmpfs. It becomes read-only below, so
  // no one can add nodes, and the writable area is nodev.
  if (auto s = Mount("sandbox-root", root_path, "tmpfs", MS_NOSUID,
                     "size=4m,nr_inodes=4096,mode=0755", "root tmpfs");
      !s) {
    return s;
  }
  UniqueFd root(::open(root_path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!root) return Fail(SystemError("open new root"));

  for (const char* dir : {"proc", "dev", "etc", "tmp", "home/sandbox", "scripts"}) {
    I8C_TRY(MakeDirs(root.Get(), dir, 0755));
  }
  for (const auto& [link, target] : spec.root_symlinks) {
    if (::symlinkat(target.c_str(), root.Get(), link.c_str()) != 0) {
      const int saved = errno;
      return Fail(SystemError(saved, "symlink /" + link));
    }
  }
  for (const std::string& host_path : spec.host_paths) {
    I8C_TRY(MakeDirs(root.Get(), host_path, 0755));
    I8C_TRY(MountOwnView(host_path, root_path + host_path, EmptyLayer(spec)));
  }
  if (!spec.zygote_dir.empty()) {
    I8C_TRY(MakeDirs(root.Get(), kNodeZygoteSandboxDir + 1, 0755));
    I8C_TRY(MountOwnView(spec.zygote_dir, root_path + std::string(kNodeZygoteSandboxDir),
                         EmptyLayer(spec)));
  }
  I8C_TRY(MakeEtc(root.Get(), spec));
  I8C_TRY(MakeDev(root.Get()));
  I8C_TRY(MakeWritableArea(root.Get(), root_path, spec));
  return EnterRoot(root_path);
}

Status FinishRootFilesystem(const LaunchSpec& spec, int source_fd,
                            std::uint64_t built_tmpfs_bytes) {
  // Still no user code has run here: the paths below are the init's own.
  {
    UniqueFd scripts(::open("/scripts", O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!scripts) return Fail(SystemError("open /scripts"));
    I8C_TRY(CopyFdInto(scripts.Get(), spec.source_name.c_str(), source_fd, 0444));
  }
  if (spec.tmpfs_bytes != built_tmpfs_bytes) {
    // A remount without MS_BIND reconfigures the tmpfs itself: both of its binds
    // (/tmp and /home/sandbox) get the new size.
    const std::string size = fmt::format("size={}", spec.tmpfs_bytes);
    if (auto s = Mount(nullptr, "/tmp", nullptr, MS_REMOUNT | MS_NOSUID | MS_NODEV, size.c_str(),
                       "the writable area (resize)");
        !s) {
      return s;
    }
  }
  if (!spec.root_tree.empty()) {
    // The tree is read-only already (and nodev, which a remount here would drop).
    return Mount(nullptr, "/scripts", nullptr,
                 MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr,
                 "/scripts read-only");
  }
  return Mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, nullptr,
               "/ read-only");
}

}  // namespace integr8scode
