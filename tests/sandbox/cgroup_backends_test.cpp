// The cgroup v1 and v2 backends against fake cgroupfs trees of plain files: what they
// write for each limit, how they find their directories from /proc/self/{mountinfo,
// cgroup}, and how they read the counters back. (The real kernel interfaces are
// exercised by the integration and hostile suites.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sandbox/cgroup.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

class FakeCgroupFs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("fake-cgroupfs-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "proc");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  std::string Read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  CgroupOptions Options() {
    CgroupOptions options;
    options.proc_self = root_ / "proc";
    return options;
  }

  fs::path root_;
};

TEST_F(FakeCgroupFs, V1FindsEachHierarchyAndWritesLimits) {
  const fs::path cg = root_ / "cg";
  Write(root_ / "proc/mountinfo",
        "32 31 0:29 / " + (cg / "cpu").string() + " rw - cgroup cgroup rw,cpu\n" + "33 31 0:30 / " +
            (cg / "cpuacct").string() + " rw - cgroup cgroup rw,cpuacct\n" + "35 31 0:32 / " +
            (cg / "memory").string() + " rw - cgroup cgroup rw,memory\n" + "39 31 0:36 / " +
            (cg / "pids").string() + " rw - cgroup cgroup rw,pids\n");
  Write(root_ / "proc/cgroup", "4:memory:/job\n1:cpu:/\n2:cpuacct:/\n8:pids:/\n");
  const fs::path memory = cg / "memory/job/integr8scode/slot-0";
  const fs::path cpu = cg / "cpu/integr8scode/slot-0";
  const fs::path cpuacct = cg / "cpuacct/integr8scode/slot-0";
  const fs::path pids = cg / "pids/integr8scode/slot-0";
  for (const char* file :
       {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swappiness",
        "memory.max_usage_in_bytes", "cgroup.procs", "tasks"}) {
    Write(memory / file, "");
  }
  Write(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  for (const char* file : {"cpu.cfs_quota_us", "cpu.cfs_period_us", "cgroup.procs", "tasks"})
    Write(cpu / file, "");
  for (const char* file : {"cpuacct.usage", "cgroup.procs", "tasks"}) Write(cpuacct / file, "");
  for (const char* file : {"pids.max", "cgroup.procs", "tasks"}) Write(pids / file, "");
  Write(pids / "pids.events", "max 0\n");

  auto manager = OpenCgroupV1(Options());
  ASSERT_TRUE(manager.has_value()) << manager.error().Describe();
  EXPECT_EQ((*manager)->Version(), CgroupVersion::kV1);
  auto slot = (*manager)->CreateSlot("slot-0");
  ASSERT_TRUE(slot.has_value()) << slot.error().Describe();
  EXPECT_EQ(Read(cpu / "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(Read(memory / "memory.swappiness"), "0");

  Limits limits;
  limits.memory_bytes = 64ull << 20;
  limits.cpu_millicores = 500;
  limits.pids = 32;
  ASSERT_TRUE((*slot)->Apply(limits).has_value());
  EXPECT_EQ(Read(memory / "memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(Read(memory / "memory.memsw.limit_in_bytes"), "67108864");
  EXPECT_EQ(Read(cpu / "cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(Read(pids / "pids.max"), "33");  // the program's 32 and the sandbox's init

  ASSERT_TRUE((*slot)->BeginAccounting().has_value());
  EXPECT_EQ(Read(memory / "memory.max_usage_in_bytes"), "0");  // reset
  EXPECT_EQ(Read(cpuacct / "cpuacct.usage"), "0");
  // What the kernel would show after a run:
  Write(cpuacct / "cpuacct.usage", "25000000");
  Write(memory / "memory.max_usage_in_bytes", "9000000");
  Write(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  Write(pids / "pids.events", "max 4\n");
  auto usage = (*slot)->Read();
  ASSERT_TRUE(usage.has_value()) << usage.error().Describe();
  EXPECT_EQ(usage->cpu_time_us, 25000);
  EXPECT_EQ(usage->peak_memory_bytes, 9000000u);
  EXPECT_EQ(usage->oom_kills, 1u);  // counted from the snapshot, not since boot
  EXPECT_EQ(usage->pids_limit_hits, 4u);

  const auto& join = (*slot)->JoinFiles();
  ASSERT_EQ(join.size(), 4u);
  for (const std::string& file : join) EXPECT_TRUE(file.ends_with("/tasks")) << file;
  EXPECT_EQ((*slot)->CloneIntoFd(), -1);
  EXPECT_TRUE((*slot)->Empty());
}

TEST_F(FakeCgroupFs, V1MissingControllerIsExplained) {
  Write(root_ / "proc/mountinfo", "32 31 0:29 / /x/cpu rw - cgroup cgroup rw,cpu\n");
  Write(root_ / "proc/cgroup", "1:cpu:/\n");
  auto manager = OpenCgroupV1(Options());
  ASSERT_FALSE(manager.has_value());
  EXPECT_NE(manager.error().message.find("'memory' is not mounted"), std::string::npos)
      << manager.error().message;
}

TEST_F(FakeCgroupFs, V2EnablesControllersAndWritesLimits) {
  const fs::path cg = root_ / "cg2";
  Write(root_ / "proc/mountinfo", "41 31 0:38 / " + cg.string() + " rw - cgroup2 cgroup2 rw\n");
  Write(root_ / "proc/cgroup", "0::/\n");
  Write(cg / "cgroup.controllers", "cpuset cpu io memory pids\n");
  Write(cg / "cgroup.subtree_control", "");
  Write(cg / "integr8scode/cgroup.subtree_control", "cpu memory pids\n");
  const fs::path slot_dir = cg / "integr8scode/slot-3";
  for (const char* file :
       {"memory.max", "memory.swap.max", "cpu.max", "pids.max", "cgroup.procs"}) {
    Write(slot_dir / file, "");
  }
  Write(slot_dir / "cpu.stat", "usage_usec 1000\nuser_usec 600\nsystem_usec 400\n");
  Write(slot_dir / "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
  Write(slot_dir / "pids.events", "max 0\n");
  Write(slot_dir / "memory.peak", "123\n");
  Write(slot_dir / "cgroup.events", "populated 0\nfrozen 0\n");

  auto manager = OpenCgroupV2(Options());
  ASSERT_TRUE(manager.has_value()) << manager.error().Describe();
  EXPECT_EQ((*manager)->Version(), CgroupVersion::kV2);
  // The root's subtree_control got the three controllers (the last write wins in a
  // plain file; the kernel would accumulate them).
  EXPECT_NE(Read(cg / "cgroup.subtree_control").find("+"), std::string::npos);
  auto slot = (*manager)->CreateSlot("slot-3");
  ASSERT_TRUE(slot.has_value()) << slot.error().Describe();

  Limits limits;
  limits.memory_bytes = 256ull << 20;
  limits.cpu_millicores = 100;
  limits.pids = 16;
  ASSERT_TRUE((*slot)->Apply(limits).has_value());
  EXPECT_EQ(Read(slot_dir / "memory.max"), "268435456");
  EXPECT_EQ(Read(slot_dir / "memory.swap.max"), "0");
  EXPECT_EQ(Read(slot_dir / "cpu.max"), "10000 100000");
  EXPECT_EQ(Read(slot_dir / "pids.max"), "17");  // the program's 16 and the init

  ASSERT_TRUE((*slot)->BeginAccounting().has_value());
  Write(slot_dir / "cpu.stat", "usage_usec 26000\nuser_usec 1\nsystem_usec 1\n");
  Write(slot_dir / "memory.peak", "4096000\n");
  Write(slot_dir / "memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n");
  auto usage = (*slot)->Read();
  ASSERT_TRUE(usage.has_value()) << usage.error().Describe();
  EXPECT_EQ(usage->cpu_time_us, 25000);
  EXPECT_EQ(usage->peak_memory_bytes, 4096000u);
  EXPECT_EQ(usage->oom_kills, 1u);
  EXPECT_TRUE((*slot)->JoinFiles().empty());
  EXPECT_GE((*slot)->CloneIntoFd(), 0);  // sandboxes are cloned straight into the slot
  EXPECT_TRUE((*slot)->Empty());
}

TEST_F(FakeCgroupFs, V2RefusesAMemoryLimitBelowWhatTheSlotCannotReclaim) {
  const fs::path cg = root_ / "cg2";
  Write(root_ / "proc/mountinfo", "41 31 0:38 / " + cg.string() + " rw - cgroup2 cgroup2 rw\n");
  Write(root_ / "proc/cgroup", "0::/\n");
  Write(cg / "cgroup.controllers", "cpu memory pids\n");
  Write(cg / "cgroup.subtree_control", "");
  Write(cg / "integr8scode/cgroup.subtree_control", "cpu memory pids\n");
  const fs::path slot_dir = cg / "integr8scode/slot-1";
  for (const char* file : {"memory.max", "memory.high", "cpu.max", "pids.max", "cgroup.procs"}) {
    Write(slot_dir / file, "");
  }
  Write(slot_dir / "cpu.stat", "usage_usec 0\n");
  Write(slot_dir / "memory.events", "oom_kill 0\n");
  Write(slot_dir / "pids.events", "max 0\n");
  Write(slot_dir / "cgroup.events", "populated 0\n");
  // A 30 MiB program left on the tmpfs by the compile step.
  Write(slot_dir / "memory.current", "31457280\n");
  auto manager = OpenCgroupV2(Options());
  ASSERT_TRUE(manager.has_value()) << manager.error().Describe();
  auto slot = (*manager)->CreateSlot("slot-1");
  ASSERT_TRUE(slot.has_value()) << slot.error().Describe();

  Limits limits;
  limits.memory_bytes = 16ull << 20;
  auto applied = (*slot)->Apply(limits);
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().reason, kMemoryLimitBelowUsage);
  EXPECT_EQ(Read(slot_dir / "memory.max"), "");  // never written: no OOM kill in the write
  // The reclaim probe is undone ("max" written last; a plain file, unlike the kernel's,
  // keeps the tail of the longer value written before it).
  EXPECT_TRUE(Read(slot_dir / "memory.high").starts_with("max")) << Read(slot_dir / "memory.high");

  limits.memory_bytes = 64ull << 20;
  ASSERT_TRUE((*slot)->Apply(limits).has_value());
  EXPECT_EQ(Read(slot_dir / "memory.max"), "67108864");
}

TEST_F(FakeCgroupFs, V2WithoutTheMemoryControllerIsExplained) {
  const fs::path cg = root_ / "cg2";
  Write(root_ / "proc/mountinfo", "41 31 0:38 / " + cg.string() + " rw - cgroup2 cgroup2 rw\n");
  Write(root_ / "proc/cgroup", "0::/\n");
  Write(cg / "cgroup.controllers", "hugetlb\n");
  auto manager = OpenCgroupV2(Options());
  ASSERT_FALSE(manager.has_value());
  EXPECT_EQ(manager.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(manager.error().message.find("lacks the memory controller"), std::string::npos)
      << manager.error().message;
}

TEST_F(FakeCgroupFs, AutoPrefersV2AndFallsBackToV1) {
  CgroupOptions options = Options();
  options.mode = "v3";
  EXPECT_EQ(OpenCgroups(options).error().code, ErrorCode::kInvalidArgument);
  Write(root_ / "proc/mountinfo", "");
  Write(root_ / "proc/cgroup", "");
  options.mode = "auto";
  auto none = OpenCgroups(options);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("v2:"), std::string::npos);
  EXPECT_NE(none.error().message.find("v1:"), std::string::npos);
}

}  // namespace
}  // namespace integr8scode
