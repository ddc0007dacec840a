#pragma once

#include <sys/types.h>

namespace integr8scode {

// Becomes uid/gid with no supplementary groups and no capabilities in any set
// (bounding and ambient included), then sets no_new_privs. Runs between clone and exec:
// async-signal-safe, no allocation. Returns 0 or the errno of the step that failed.
int DropPrivileges(uid_t uid, gid_t gid);

}  // namespace integr8scode
