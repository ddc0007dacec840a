#pragma once

// The warm Node.js zygote's contract with whoever starts it (docs/warm-starts.md, "A warm
// Node.js"). Node itself is the zygote: it is started as
//
//   /usr/bin/node --require <dir>/integr8scode-node-zygote.js <the run's arguments>
//
// with the control socket on kNodeZygoteControlFd, placeholders of the run's kinds on 0–2,
// and the run's environment and working directory. The boot (a preload, which Node runs
// before it resolves the main script) loads the addon beside it, removes its own traces,
// and blocks in the addon: ZygoteReady, then the go of zygote_protocol.hpp. The boot must
// stay readable for the process's life: every worker thread preloads it again (and does
// nothing there).
namespace integr8scode {

// Above every descriptor Node opens while it starts (3–18 here), so that its own ones get
// the numbers they get in a cold start and the run's first open() the same number too.
inline constexpr int kNodeZygoteControlFd = 100;

inline constexpr const char* kNodeZygoteDirectory = "integr8scode-node-zygote";
inline constexpr const char* kNodeZygoteBoot = "integr8scode-node-zygote.js";
inline constexpr const char* kNodeZygoteAddon = "integr8scode-node-zygote.node";
// Where a sandbox sees the directory (LaunchSpec::zygote_dir): one fixed path, read-only,
// for the whole run (Node takes the realpath of a preload, so no /proc/self/fd path does).
inline constexpr const char* kNodeZygoteSandboxDir = "/opt/integr8scode-node-zygote";

}  // namespace integr8scode
