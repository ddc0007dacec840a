#include "sandbox/launch_spec.hpp"

#include <gtest/gtest.h>

#include "sandbox/cgroup.hpp"
#include "sandbox/seccomp_policy.hpp"

namespace integr8scode {
namespace {

TEST(LaunchSpec, SerializationRoundTrips) {
  LaunchSpec spec;
  spec.uid = 61003;
  spec.gid = 61003;
  spec.root_mount_point = "/run/integr8scode/root";
  spec.host_paths = {"/usr", "/opt/runtime"};
  spec.root_tree = "/var/cache/integr8scode/runtimes/trixie-0123456789abcdef";
  spec.root_symlinks = {{"bin", "usr/bin"}, {"lib", "usr/lib"}};
  spec.host_etc_files = {"/etc/ld.so.cache"};
  spec.source_name = "main.c";
  spec.tmpfs_bytes = 64ull << 20;
  spec.cgroup_join_files = {"/sys/fs/cgroup/pids/x/tasks"};
  StepSpec step;
  step.argv = {"/usr/bin/gcc", "-o", "/home/sandbox/main", std::string("with\0nul", 8)};
  step.env = {"PATH=/usr/bin", "LANG=C.UTF-8"};
  step.file_size_bytes = 1 << 20;
  step.open_files = 64;
  step.processes = 32;
  step.cpu_seconds = 11;
  spec.steps = {step, step};
  spec.warm.zygote = "/opt/integr8scode/integr8scode-python-zygote";
  spec.warm.zygote_inside = true;
  spec.warm.zygote_argv = {"integr8scode-python-zygote", "3", "/usr/bin/python3.11"};
  spec.warm.argv = {"/usr/bin/python3.11", "-I", "-u", "/scripts/script.py"};
  spec.warm.env = {"PATH=/usr/bin"};
  spec.warm.preload = {"json", "xml.etree.ElementTree"};
  spec.warm.control_fd = 100;
  spec.zygote_dir = "/opt/integr8scode/integr8scode-node-zygote";
  auto back = LaunchSpec::Deserialize(spec.Serialize());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->uid, spec.uid);
  EXPECT_EQ(back->host_paths, spec.host_paths);
  EXPECT_EQ(back->root_tree, spec.root_tree);
  EXPECT_EQ(back->root_symlinks, spec.root_symlinks);
  EXPECT_EQ(back->source_name, spec.source_name);
  EXPECT_EQ(back->tmpfs_bytes, spec.tmpfs_bytes);
  EXPECT_EQ(back->cgroup_join_files, spec.cgroup_join_files);
  ASSERT_EQ(back->steps.size(), 2u);
  EXPECT_EQ(back->steps[1].argv, step.argv);
  EXPECT_EQ(back->steps[1].env, step.env);
  EXPECT_EQ(back->steps[1].cpu_seconds, 11u);
  EXPECT_EQ(back->warm.zygote, spec.warm.zygote);
  EXPECT_EQ(back->warm.zygote_inside, spec.warm.zygote_inside);
  EXPECT_EQ(back->warm.zygote_argv, spec.warm.zygote_argv);
  EXPECT_EQ(back->warm.argv, spec.warm.argv);
  EXPECT_EQ(back->warm.env, spec.warm.env);
  EXPECT_EQ(back->warm.preload, spec.warm.preload);
  EXPECT_EQ(back->warm.control_fd, 100u);
  EXPECT_EQ(back->zygote_dir, spec.zygote_dir);
}

// The Node zygote's directory is part of the mount table: a sandbox built with it does
// not serve a run without it, nor the other way round.
TEST(LaunchSpec, TheZygoteDirectoryIsPartOfTheShape) {
  LaunchSpec shape;
  shape.host_paths = {"/usr"};
  LaunchSpec run = shape;
  run.zygote_dir = "/opt/integr8scode/integr8scode-node-zygote";
  EXPECT_FALSE(LaunchSpec::Fits(shape, run));
  EXPECT_FALSE(LaunchSpec::Fits(run, shape));
  shape.zygote_dir = run.zygote_dir;
  EXPECT_TRUE(LaunchSpec::Fits(shape, run));
}

TEST(LaunchSpec, ASandboxBuiltOnOneRootDoesNotFitARunOnAnother) {
  LaunchSpec shape;
  shape.host_paths = {"/usr"};
  LaunchSpec run = shape;
  EXPECT_TRUE(LaunchSpec::Fits(shape, run));
  run.root_tree = "/var/cache/integr8scode/runtimes/trixie-0123456789abcdef";
  run.host_paths.clear();
  EXPECT_FALSE(LaunchSpec::Fits(shape, run));
  shape = run;
  EXPECT_TRUE(LaunchSpec::Fits(shape, run));
  run.root_tree = "/var/cache/integr8scode/runtimes/forky-0123456789abcdef";
  EXPECT_FALSE(LaunchSpec::Fits(shape, run));
}

TEST(LaunchSpec, TruncatedBytesAreRefused) {
  LaunchSpec spec;
  spec.steps.resize(1);
  spec.steps[0].argv = {"/bin/true"};
  const std::string bytes = spec.Serialize();
  for (std::size_t cut : {std::size_t{0}, std::size_t{7}, bytes.size() - 1}) {
    EXPECT_FALSE(LaunchSpec::Deserialize(bytes.substr(0, cut)).has_value()) << cut;
  }
  EXPECT_FALSE(LaunchSpec::Deserialize(bytes + "x").has_value());
}

TEST(CpuQuota, ScalesWithThePeriodAndHasAFloor) {
  EXPECT_EQ(CpuQuotaMicros(1000, 100000), 100000u);
  EXPECT_EQ(CpuQuotaMicros(100, 100000), 10000u);
  EXPECT_EQ(CpuQuotaMicros(2500, 100000), 250000u);
  EXPECT_EQ(CpuQuotaMicros(1, 100000), 1000u);
}

TEST(SeccompPolicy, CompilesToABpfProgram) {
  auto program = BuildSeccompProgram();
  ASSERT_TRUE(program.has_value()) << program.error().Describe();
  EXPECT_GT(program->instructions.size(), 50u);
  EXPECT_LT(program->instructions.size(), 4096u);
}

TEST(SeccompPolicy, TheEmbeddedProgramIsTheCurrentPolicy) {
  auto built = BuildSeccompProgram();
  ASSERT_TRUE(built.has_value());
  const SeccompProgram& embedded = EmbeddedSeccompProgram();
  ASSERT_EQ(embedded.instructions.size(), built->instructions.size());
  for (std::size_t i = 0; i < built->instructions.size(); ++i) {
    const sock_filter& a = embedded.instructions[i];
    const sock_filter& b = built->instructions[i];
    EXPECT_TRUE(a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k)
        << "instruction " << i;
  }
}

}  // namespace
}  // namespace integr8scode
