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
  for (const char* file :
       {"cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares", "cgroup.procs", "tasks"})
    Write(cpu / file, "");
  Write(cpu.parent_path() / "cpu.shares", "");
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
  // The default weight, 100 (v2 units), as shares: the parent competes with the service,
  // the slot with its siblings.
  EXPECT_EQ(Read(cpu.parent_path() / "cpu.shares"), "1024");
  EXPECT_EQ(Read(cpu / "cpu.shares"), "1024");

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
       {"memory.max", "memory.swap.max", "cpu.max", "cpu.weight", "pids.max", "cgroup.procs"}) {
    Write(slot_dir / file, "");
  }
  Write(cg / "integr8scode/cpu.weight", "");
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
  EXPECT_EQ(Read(cg / "integr8scode/cpu.weight"), "100");  // the default weight
  EXPECT_EQ(Read(slot_dir / "cpu.weight"), "100");

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
  for (const char* file :
       {"memory.max", "memory.high", "cpu.max", "cpu.weight", "pids.max", "cgroup.procs"}) {
    Write(slot_dir / file, "");
  }
  Write(cg / "integr8scode/cpu.weight", "");
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

TEST_F(FakeCgroupFs, CpuWeightIsValidatedAndMappedToV1Shares) {
  // The kernel's own scale: weight 100 is a nice-0 process's 1024 shares.
  EXPECT_EQ(CpuSharesForWeight(100), 1024u);
  EXPECT_EQ(CpuSharesForWeight(10), 102u);
  EXPECT_EQ(CpuSharesForWeight(1), 10u);
  EXPECT_EQ(CpuSharesForWeight(10000), 102400u);
  for (const std::uint32_t weight : {0u, 10001u}) {
    CgroupOptions options = Options();
    options.cpu_weight = weight;
    for (auto* open : {+[](const CgroupOptions& o) { return OpenCgroupV1(o, {}); },
                       +[](const CgroupOptions& o) { return OpenCgroupV2(o, {}); }}) {
      auto manager = open(options);
      ASSERT_FALSE(manager.has_value());
      EXPECT_EQ(manager.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(manager.error().message.find("sandbox.cpu_weight"), std::string::npos)
          << manager.error().message;
    }
  }
}

TEST_F(FakeCgroupFs, CpuWeightReachesParentAndSlotOnBothVersions) {
  const fs::path v1 = root_ / "cg";
  const fs::path v2 = root_ / "cg2";
  Write(root_ / "proc/mountinfo",
        "32 31 0:29 / " + (v1 / "cpu").string() + " rw - cgroup cgroup rw,cpu,cpuacct\n" +
            "35 31 0:32 / " + (v1 / "memory").string() + " rw - cgroup cgroup rw,memory\n" +
            "39 31 0:36 / " + (v1 / "pids").string() + " rw - cgroup cgroup rw,pids\n" +
            "41 31 0:38 / " + v2.string() + " rw - cgroup2 cgroup2 rw\n");
  Write(root_ / "proc/cgroup", "4:memory:/\n1:cpu,cpuacct:/\n8:pids:/\n0::/\n");
  const fs::path cpu = v1 / "cpu/integr8scode/slot-0";
  for (const char* file : {"cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares", "cpuacct.usage",
                           "cgroup.procs", "tasks"})
    Write(cpu / file, "");
  Write(v1 / "cpu/integr8scode/cpu.shares", "");
  for (const char* file : {"memory.limit_in_bytes", "memory.max_usage_in_bytes",
                           "memory.oom_control", "cgroup.procs", "tasks"})
    Write(v1 / "memory/integr8scode/slot-0" / file, "");
  for (const char* file : {"pids.max", "cgroup.procs", "tasks"})
    Write(v1 / "pids/integr8scode/slot-0" / file, "");
  Write(v2 / "cgroup.controllers", "cpu memory pids\n");
  Write(v2 / "cgroup.subtree_control", "cpu memory pids\n");
  Write(v2 / "integr8scode/cgroup.subtree_control", "cpu memory pids\n");
  Write(v2 / "integr8scode/cpu.weight", "");
  for (const char* file : {"memory.max", "cpu.max", "cpu.weight", "pids.max", "cgroup.procs"})
    Write(v2 / "integr8scode/slot-0" / file, "");
  Write(v2 / "integr8scode/slot-0/cpu.stat", "usage_usec 0\n");
  Write(v2 / "integr8scode/slot-0/memory.events", "oom_kill 0\n");
  Write(v2 / "integr8scode/slot-0/pids.events", "max 0\n");
  Write(v2 / "integr8scode/slot-0/cgroup.events", "populated 0\n");

  CgroupOptions options = Options();
  options.cpu_weight = 250;
  auto manager_v1 = OpenCgroupV1(options);
  ASSERT_TRUE(manager_v1.has_value()) << manager_v1.error().Describe();
  auto slot_v1 = (*manager_v1)->CreateSlot("slot-0");
  ASSERT_TRUE(slot_v1.has_value()) << slot_v1.error().Describe();
  EXPECT_EQ(Read(v1 / "cpu/integr8scode/cpu.shares"), "2560");
  EXPECT_EQ(Read(cpu / "cpu.shares"), "2560");

  auto manager_v2 = OpenCgroupV2(options);
  ASSERT_TRUE(manager_v2.has_value()) << manager_v2.error().Describe();
  auto slot_v2 = (*manager_v2)->CreateSlot("slot-0");
  ASSERT_TRUE(slot_v2.has_value()) << slot_v2.error().Describe();
  EXPECT_EQ(Read(v2 / "integr8scode/cpu.weight"), "250");
  EXPECT_EQ(Read(v2 / "integr8scode/slot-0/cpu.weight"), "250");

  // Without the cpu controller's files the v2 slot fails, naming the file, unless
  // missing controllers are allowed (a hybrid host's empty v2 mount).
  slot_v2->reset();
  fs::remove(v2 / "integr8scode/slot-0/cpu.weight");
  auto refused = (*manager_v2)->CreateSlot("slot-0");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().Describe().find("cpu.weight"), std::string::npos)
      << refused.error().Describe();
  options.allow_missing_controllers = true;
  auto lenient = OpenCgroupV2(options);
  ASSERT_TRUE(lenient.has_value()) << lenient.error().Describe();
  EXPECT_TRUE((*lenient)->CreateSlot("slot-0").has_value());
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
