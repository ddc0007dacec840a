#include "sandbox/launch_spec.hpp"

#include <cstring>

namespace integr8scode {
namespace {

// A minimal length-prefixed encoding. Both ends are this binary, so there is no
// versioning; lengths are checked so a truncated message fails cleanly.
class Writer {
 public:
  void U64(std::uint64_t value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void Str(std::string_view text) {
    U64(text.size());
    out_.append(text);
  }
  void Strs(const std::vector<std::string>& list) {
    U64(list.size());
    for (const std::string& item : list) Str(item);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U64(std::uint64_t& value) {
    if (in_.size() < sizeof value) return false;
    std::memcpy(&value, in_.data(), sizeof value);
    in_.remove_prefix(sizeof value);
    return true;
  }
  bool Str(std::string& text) {
    std::uint64_t size = 0;
    if (!U64(size) || size > in_.size()) return false;
    text.assign(in_.substr(0, size));
    in_.remove_prefix(size);
    return true;
  }
  bool Strs(std::vector<std::string>& list) {
    std::uint64_t count = 0;
    if (!U64(count) || count > in_.size()) return false;
    list.resize(count);
    for (std::string& item : list) {
      if (!Str(item)) return false;
    }
    return true;
  }
  bool Done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

std::vector<int> LaunchFds::All() const {
  std::vector<int> fds;
  for (const int fd : {control, source, stdin_fd, cgroup_dir, netns}) {
    if (fd >= 0) fds.push_back(fd);
  }
  fds.insert(fds.end(), step_stdout.begin(), step_stdout.end());
  fds.insert(fds.end(), step_stderr.begin(), step_stderr.end());
  return fds;
}

std::string LaunchSpec::Serialize() const {
  Writer w;
  w.U64(uid);
  w.U64(gid);
  w.Str(root_mount_point);
  w.Strs(host_paths);
  w.Str(root_tree);
  w.U64(root_symlinks.size());
  for (const auto& [link, target] : root_symlinks) {
    w.Str(link);
    w.Str(target);
  }
  w.Strs(host_etc_files);
  w.Str(source_name);
  w.U64(tmpfs_bytes);
  w.Strs(cgroup_join_files);
  w.Str(hostname);
  w.Str(gvisor_runsc);
  w.Str(gvisor_platform);
  w.U64(prebuilt ? 1 : 0);
  w.Str(warm.zygote);
  w.U64(warm.zygote_inside ? 1 : 0);
  w.Strs(warm.zygote_argv);
  w.Strs(warm.argv);
  w.Strs(warm.env);
  w.Strs(warm.preload);
  w.U64(warm.control_fd);
  w.Str(zygote_dir);
  w.U64(steps.size());
  for (const StepSpec& step : steps) {
    w.Strs(step.argv);
    w.Strs(step.env);
    w.U64(step.file_size_bytes);
    w.U64(step.open_files);
    w.U64(step.processes);
    w.U64(step.cpu_seconds);
  }
  return w.Take();
}

Result<LaunchSpec> LaunchSpec::Deserialize(std::string_view bytes) {
  Reader r(bytes);
  LaunchSpec spec;
  std::uint64_t uid = 0, gid = 0, links = 0, steps = 0;
  bool ok = r.U64(uid) && r.U64(gid) && r.Str(spec.root_mount_point) && r.Strs(spec.host_paths) &&
            r.Str(spec.root_tree) && r.U64(links) && links <= bytes.size();
  for (std::uint64_t i = 0; ok && i < links; ++i) {
    std::string link, target;
    ok = r.Str(link) && r.Str(target);
    spec.root_symlinks.emplace_back(std::move(link), std::move(target));
  }
  std::uint64_t prebuilt = 0, inside = 0, control_fd = 0;
  ok = ok && r.Strs(spec.host_etc_files) && r.Str(spec.source_name) && r.U64(spec.tmpfs_bytes) &&
       r.Strs(spec.cgroup_join_files) && r.Str(spec.hostname) && r.Str(spec.gvisor_runsc) &&
       r.Str(spec.gvisor_platform) && r.U64(prebuilt) && r.Str(spec.warm.zygote) && r.U64(inside) &&
       r.Strs(spec.warm.zygote_argv) && r.Strs(spec.warm.argv) && r.Strs(spec.warm.env) &&
       r.Strs(spec.warm.preload) && r.U64(control_fd) && control_fd <= 1023 &&
       r.Str(spec.zygote_dir) && r.U64(steps) && steps <= bytes.size();
  spec.warm.control_fd = static_cast<std::uint32_t>(control_fd);
  spec.prebuilt = prebuilt != 0;
  spec.warm.zygote_inside = inside != 0;
  for (std::uint64_t i = 0; ok && i < steps; ++i) {
    StepSpec step;
    std::uint64_t open_files = 0, processes = 0, cpu_seconds = 0;
    ok = r.Strs(step.argv) && r.Strs(step.env) && r.U64(step.file_size_bytes) &&
         r.U64(open_files) && r.U64(processes) && r.U64(cpu_seconds);
    step.open_files = static_cast<std::uint32_t>(open_files);
    step.processes = static_cast<std::uint32_t>(processes);
    step.cpu_seconds = static_cast<std::uint32_t>(cpu_seconds);
    spec.steps.push_back(std::move(step));
  }
  if (!ok || !r.Done()) return Fail(ErrorCode::kInternal, "malformed launch spec");
  spec.uid = static_cast<uid_t>(uid);
  spec.gid = static_cast<gid_t>(gid);
  return spec;
}

bool LaunchSpec::Fits(const LaunchSpec& shape, const LaunchSpec& run) {
  return shape.uid == run.uid && shape.gid == run.gid &&
         shape.root_mount_point == run.root_mount_point && shape.host_paths == run.host_paths &&
         shape.zygote_dir == run.zygote_dir && shape.root_tree == run.root_tree &&
         shape.root_symlinks == run.root_symlinks && shape.host_etc_files == run.host_etc_files &&
         shape.cgroup_join_files == run.cgroup_join_files && shape.hostname == run.hostname &&
         shape.gvisor_runsc == run.gvisor_runsc && shape.gvisor_platform == run.gvisor_platform;
}

}  // namespace integr8scode
