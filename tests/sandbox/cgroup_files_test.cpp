#include "sandbox/cgroup_files.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

TEST(CgroupFiles, KeyedValues) {
  const std::string events = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
  EXPECT_EQ(ParseKeyedValue(events, "oom_kill"), 2u);
  EXPECT_EQ(ParseKeyedValue(events, "oom"), 3u);  // not confused with oom_kill
  EXPECT_EQ(ParseKeyedValue(events, "max"), 12u);
  EXPECT_FALSE(ParseKeyedValue(events, "missing").has_value());
  EXPECT_EQ(ParseKeyedValue("usage_usec 123456\nuser_usec 1", "usage_usec"), 123456u);
  EXPECT_FALSE(ParseKeyedValue("populated x\n", "populated").has_value());
}

TEST(CgroupFiles, SingleValues) {
  EXPECT_EQ(ParseSingleValue("134217728\n"), 134217728u);
  EXPECT_FALSE(ParseSingleValue("max\n").has_value());
  EXPECT_FALSE(ParseSingleValue("").has_value());
}

TEST(CgroupFiles, PidList) {
  EXPECT_EQ(ParsePidList("12\n345\n\n7\n"), (std::vector<int>{12, 345, 7}));
  EXPECT_TRUE(ParsePidList("").empty());
}

TEST(CgroupFiles, MountinfoOfAHybridHost) {
  const std::string mountinfo =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup "
      "rw,cpu,cpuacct\n"
      "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
      "50 1 8:1 / / rw - ext4 /dev/sda1 rw\n";
  const auto mounts = ParseCgroupMounts(mountinfo);
  ASSERT_EQ(mounts.size(), 5u);
  EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(mounts[0].controllers, std::vector<std::string>{"cpu"});
  EXPECT_EQ(mounts[1].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(mounts[2].root, "/docker/abc");
  EXPECT_TRUE(mounts[3].controllers.empty());  // name=systemd is not a controller
  EXPECT_TRUE(mounts[4].v2);
}

TEST(CgroupFiles, ProcCgroup) {
  const auto lines =
      ParseProcCgroup("4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/user.slice\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].controllers, std::vector<std::string>{"memory"});
  EXPECT_EQ(lines[0].path, "/process_api/abc");
  EXPECT_EQ(lines[1].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(lines[2].hierarchy_id, 0);
  EXPECT_TRUE(lines[2].controllers.empty());
  EXPECT_EQ(lines[2].path, "/user.slice");
}

}  // namespace
}  // namespace integr8scode
