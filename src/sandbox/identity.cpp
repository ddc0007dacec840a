#include "sandbox/identity.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace integr8scode {

int DropPrivileges(uid_t uid, gid_t gid) {
  // Raw system calls: the caller shares its parent's memory (a vfork-style child), and
  // glibc's set*id wrappers may walk the thread list to apply the change to every thread.
  if (::syscall(SYS_setgroups, 0, nullptr) != 0) return errno;
  if (::syscall(SYS_setresgid, gid, gid, gid) != 0) return errno;
  // The bounding set caps what any later execve could grant; dropping needs
  // CAP_SETPCAP, so it happens before the uid change. EINVAL marks the end of the list.
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;
      return errno;
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return errno;
  // Leaving uid 0 clears the permitted and effective sets (no SECBIT_KEEP_CAPS)…
  if (::syscall(SYS_setresuid, uid, uid, uid) != 0) return errno;
  // …but not the inheritable set: clear it explicitly.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &header, data) != 0) return errno;
  // No execve can ever gain privileges again (setuid bits, file capabilities).
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  return 0;
}

}  // namespace integr8scode
