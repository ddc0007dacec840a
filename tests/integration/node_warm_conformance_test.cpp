// Warm-start conformance of the Node.js zygote, outside the sandbox (docs/warm-starts.md,
// "A warm Node.js"): every sample runs through a cold `/usr/bin/node script.js` and
// through the zygote — `/usr/bin/node --require <boot> script.js`, started with
// placeholder descriptors and its control socket on kNodeZygoteControlFd, then handed the
// run's stdin, stdout and stderr — in the same directory with the same environment;
// stdout, stderr and the wait status must be identical.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "sandbox/node_zygote/node_zygote.hpp"
#include "sandbox/zygote_protocol.hpp"
#include "support/sandbox_environment.hpp"
#include "zygote_conformance_support.hpp"

namespace integr8scode::testing {
namespace {

using Directory = ScratchDirectory;

constexpr const char* kNode = "/usr/bin/node";

std::string Boot() {
  return std::string(INTEGR8SCODE_NODE_ZYGOTE_DIR) + "/" + integr8scode::kNodeZygoteBoot;
}

Outcome RunCold(const Directory& dir, const std::string& script, const std::string& stdin_path,
                bool merged, bool flags_after_exit = false) {
  return RunColdProcess({kNode, script}, dir.path(), stdin_path, merged, SandboxEnvironment(),
                        flags_after_exit);
}

// Starts a zygote on `script` (its control socket on kNodeZygoteControlFd) and waits for
// its ready report.
Zygote StartZygote(const Directory& dir, const std::string& script) {
  return StartZygoteProcess({kNode, "--require", Boot(), script}, dir.path(),
                            integr8scode::kNodeZygoteControlFd, SandboxEnvironment());
}

Outcome RunWarm(const Directory& dir, const std::string& script, const std::string& stdin_path,
                bool merged) {
  return Go(StartZygote(dir, script), stdin_path, merged);
}

struct Sample {
  const char* name;
  const char* source;
  const char* stdin_text = "";
  bool merged = false;  // stdout and stderr into one pipe: their interleaving
  const char* file = "script.js";
  const char* sibling = nullptr;  // lib.js beside the script, when set
  bool stdin_dev_null = false;    // the sandbox's stdin for a run without one
};

void PrintTo(const Sample& sample, std::ostream* os) { *os << sample.name; }

class NodeWarmConformance : public ::testing::TestWithParam<Sample> {};

TEST_P(NodeWarmConformance, BehavesAsColdStart) {
  const Sample& sample = GetParam();
  Directory dir;
  ASSERT_FALSE(dir.path().empty());
  dir.Write(sample.file, sample.source);
  if (sample.sibling != nullptr) dir.Write("lib.js", sample.sibling);
  const std::string stdin_path =
      sample.stdin_dev_null ? "/dev/null" : dir.Write("stdin.txt", sample.stdin_text);
  const Outcome cold = RunCold(dir, sample.file, stdin_path, sample.merged);
  const Outcome warm = RunWarm(dir, sample.file, stdin_path, sample.merged);
  ExpectSameAsCold(warm, cold);
}

const Sample kSamples[] = {
    // What the program can see of its start, taken before anything creates process.stdout.
    {"Identity",
     "const loaded = process.moduleLoadList.slice();\n"
     "const fs = require('fs');\n"
     "const fds = fs.readdirSync('/proc/self/fd').map((fd) => {\n"
     "  try { return fd + '=' + fs.readlinkSync('/proc/self/fd/' + fd).replace(/\\d+/g, 'N'); }\n"
     "  catch (e) { return fd + '=' + e.code; }\n"
     "});\n"
     "const opened = fs.openSync(__filename, 'r');\n"
     "console.log(process.argv, process.argv0, process.execPath, process.execArgv,\n"
     "            process.title, process.cwd(), opened);\n"
     "console.log(__filename, __dirname, require.main === module, module.id, module.paths,\n"
     "            module.parent, module.children.length, module.loaded);\n"
     "const Module = require('module');\n"
     "console.log(Object.keys(require.cache), Object.keys(Module._pathCache),\n"
     "            Object.keys(Module), Object.keys(Module._extensions), Module.isPreloading);\n"
     "console.log(loaded.join(' '));\n"
     "console.log(fds.join(' '));\n"
     "console.log(Object.getOwnPropertyNames(globalThis).sort().join(' '));\n"
     "console.log(Object.getOwnPropertyNames(process).sort().join(' '));\n"
     "console.log(JSON.stringify(process.env), process.umask());\n"
     "console.log(process.stdout.isTTY, process.stdout.constructor.name,\n"
     "            process.stdout._type, process.stdout.writableHighWaterMark,\n"
     "            process.stdin.constructor.name, process.stdin.fd);\n"},
    // SigQ is left out: it counts the signals queued to the whole uid.
    {"SignalDispositions",
     "const status = require('fs').readFileSync('/proc/self/status', 'utf8');\n"
     "console.log(status.split('\\n').filter((l) => "
     "/^(Sig(Pnd|Blk|Ign|Cgt)|ShdPnd|NoNewPrivs)/.test(l)).join("
     "'\\n'));\n"
     "console.log(process.listenerCount('SIGINT'), process.listenerCount('SIGTERM'));\n"},
    {"UnbufferedInterleaving",
     "for (let i = 0; i < 200; i++) {\n"
     "  console.log('out', i);\n"
     "  console.error('err', i);\n"
     "}\n"
     "process.stdout.write('no newline at the end');\n",
     "", true},
    {"LargeOutput",
     "process.stdout.write('x'.repeat(1 << 20));\n"
     "console.log('\\ndone');\n"},
    {"StdinRead",
     "const text = require('fs').readFileSync(0, 'utf8');\n"
     "console.log(JSON.stringify(text), text.length);\n",
     "line one\nsecond\nthird ✓\n"},
    {"StdinStream",
     "let data = '';\n"
     "process.stdin.setEncoding('utf8');\n"
     "process.stdin.on('data', (chunk) => { data += chunk; });\n"
     "process.stdin.on('end', () => console.log(data.split('\\n'), "
     "process.stdin.constructor.name));\n",
     "a\nb\nc ✓\n"},
    {"StdinEmpty", "console.log(JSON.stringify(require('fs').readFileSync(0, 'utf8')));\n"},
    {"StdinDevNull",
     "process.stdin.on('data', (chunk) => console.log('data', chunk.length));\n"
     "process.stdin.on('end', () => console.log('end', process.stdin.constructor.name));\n",
     "", false, "script.js", nullptr, true},
    {"ExitCode", "console.log('before');\nprocess.exit(3);\nconsole.log('after');\n"},
    {"ExitCodeProperty",
     "process.exitCode = 4;\n"
     "process.on('beforeExit', () => console.log('beforeExit'));\n"
     "process.on('exit', (code) => console.log('exit', code));\n"},
    {"UncaughtException",
     "function inner(x) {\n"
     "  if (x === 0) throw new TypeError('x must not be zero');\n"
     "  return 1 / x;\n"
     "}\n"
     "\n"
     "function outer() {\n"
     "  return inner(0);\n"
     "}\n"
     "\n"
     "console.log('running');\n"
     "outer();\n"},
    // The main module runs from Node's own start-up: the same frames below it.
    {"TopLevelStack", "console.log(new Error('where am I').stack);\n"},
    {"ThrowInTimer", "setTimeout(() => {\n  null.property;\n}, 5);\n"},
    {"SyntaxError", "console.log('never');\nfunction f( {\n  return 1;\n}\n"},
    {"ImportInCommonJs", "import fs from 'fs';\nconsole.log(fs);\n"},
    {"UnhandledRejection",
     "Promise.reject(new Error('nobody caught me'));\n"
     "setTimeout(() => console.log('never'), 20);\n"},
    // The loop's clock is read afresh, not left at the zygote's start (a 50 ms timer
    // would fire at once); 40: Date.now and the loop's monotonic clock round apart.
    {"EventLoop",
     "const order = [];\n"
     "const started = Date.now();\n"
     "setTimeout(() => {\n"
     "  order.push('timeout');\n"
     "  console.log(order.join(' '), Date.now() - started >= 40);\n"
     "}, 50);\n"
     "setImmediate(() => order.push('immediate'));\n"
     "process.nextTick(() => order.push('nextTick'));\n"
     "Promise.resolve().then(() => order.push('promise'));\n"
     "queueMicrotask(() => order.push('microtask'));\n"
     "order.push('sync');\n"},
    {"ChildProcesses",
     "const cp = require('child_process');\n"
     "console.log(cp.execSync('echo from a shell', { encoding: 'utf8' }).trim());\n"
     "const code = 'console.log(process.execArgv, process.argv.length, "
     "Object.keys(require.cache))';\n"
     "const r = cp.spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });\n"
     "console.log(r.status, r.stdout.trim(), JSON.stringify(r.stderr));\n"},
    {"Fork",
     "const { fork } = require('child_process');\n"
     "if (process.argv[2] === 'child') {\n"
     "  process.send({ execArgv: process.execArgv, argv: process.argv.slice(1),\n"
     "                 cache: Object.keys(require.cache) });\n"
     "} else {\n"
     "  const child = fork(__filename, ['child']);\n"
     "  child.on('message', (m) => console.log('child said', m));\n"
     "  child.on('exit', (code) => console.log('child exit', code));\n"
     "}\n"},
    // A worker preloads the boot again (it inherits Node's options): it must see what a
    // cold worker sees.
    {"WorkerThreads",
     "const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');\n"
     "if (isMainThread) {\n"
     "  const worker = new Worker(__filename, { workerData: 21 });\n"
     "  worker.on('message', (m) => console.log('from the worker', m));\n"
     "  worker.on('exit', (code) => console.log('worker exit', code));\n"
     "} else {\n"
     "  parentPort.postMessage({ doubled: workerData * 2, execArgv: process.execArgv,\n"
     "    argv: process.argv, cache: Object.keys(require.cache),\n"
     "    paths: Object.keys(require('module')._pathCache),\n"
     "    loaded: process.moduleLoadList.join(' ') });\n"
     "}\n"},
    {"UncaughtExceptionHandler",
     "process.on('uncaughtException', (e, origin) => {\n"
     "  console.log('handled', e.message, origin);\n"
     "  process.exitCode = 9;\n"
     "});\n"
     "setTimeout(() => { throw new Error('in a timer'); }, 1);\n"
     "throw new Error('at the top');\n"},
    {"ThrowInWorker",
     "const { Worker, isMainThread } = require('worker_threads');\n"
     "if (isMainThread) {\n"
     "  const worker = new Worker(__filename);\n"
     "  worker.on('error', (e) => console.log('worker error', e.message, "
     "e.stack.split('\\n')[1]));\n"
     "  worker.on('exit', (code) => console.log('worker exit', code));\n"
     "} else {\n"
     "  throw new RangeError('from the worker');\n"
     "}\n"},
    {"KilledBySignal",
     "console.log('x');\n"
     "process.kill(process.pid, 'SIGTERM');\n"
     "setTimeout(() => console.log('not reached'), 5000);\n"},
    {"SignalHandler",
     "process.on('SIGINT', () => {\n"
     "  console.log('caught SIGINT');\n"
     "  process.exit(7);\n"
     "});\n"
     "process.kill(process.pid, 'SIGINT');\n"
     "setTimeout(() => console.log('not reached'), 5000);\n"},
    {"EsModule",
     "import { argv } from 'node:process';\n"
     "import path from 'node:path';\n"
     "console.log(argv, path.basename(import.meta.url), typeof require, typeof module);\n"
     "const os = await import('node:os');\n"
     "console.log(typeof os.cpus);\n"
     "throw new Error('from the top level of a module');\n",
     "", false, "script.mjs"},
    {"DynamicImport",
     "import('./lib.js').then((lib) => console.log(Object.keys(lib), lib.default.name));\n"
     "import('no-such-package').catch((e) => console.log(e.code));\n",
     "", false, "script.js", "module.exports = { name: 'lib' };\n"},
    {"ModuleResolution",
     "const lib = require('./lib');\n"
     "console.log(lib, require.resolve('./lib'), Object.keys(require.cache));\n"
     "require('no-such-module');\n",
     "", false, "script.js",
     "module.exports = { file: __filename, parent: module.parent && module.parent.id };\n"},
    {"Recursion", "function f(n) {\n  return f(n + 1);\n}\nf(0);\n"},
    {"OwnSource", "console.log(require('fs').readFileSync(__filename, 'utf8').split('\\n'));\n"},
    {"Unicode", "console.log('héllo ✓ 日本', Buffer.from('✓').length);\n"},
};

INSTANTIATE_TEST_SUITE_P(Samples, NodeWarmConformance, ::testing::ValuesIn(kSamples),
                         [](const auto& sample) { return std::string(sample.param.name); });

// Each run is its own process, started ahead: V8's Math.random seed and the CSPRNG are its
// own, unlike children forked from one initialised Node.
TEST(NodeWarmZygote, EveryRunHasItsOwnRandomState) {
  Directory dir;
  dir.Write("script.js", "console.log(Math.random(), require('crypto').randomBytes(8))\n");
  const std::string stdin_path = dir.Write("stdin.txt", "");
  const Outcome first = RunWarm(dir, "script.js", stdin_path, false);
  const Outcome second = RunWarm(dir, "script.js", stdin_path, false);
  ExpectThreeOwnDraws(first, second, RunCold(dir, "script.js", stdin_path, false));
}

// The zygote waits before Node resolves the main script: a script written after it
// reported ready (as the sandbox writes /scripts/script.js) is the one that runs.
TEST(NodeWarmZygote, OpensTheScriptOnlyAfterTheGo) {
  Directory dir;
  const std::string stdin_path = dir.Write("stdin.txt", "");
  Zygote zygote = StartZygote(dir, "script.js");
  EXPECT_GT(zygote.ready.cpu_us, 0);  // it reported its start-up's CPU time
  dir.Write("script.js", "console.log('written after the zygote started')\n");
  const Outcome warm = Go(std::move(zygote), stdin_path, false);
  EXPECT_EQ(warm.out, "written after the zygote started\n");
  EXPECT_EQ(warm.err, "");
  EXPECT_TRUE(WIFEXITED(warm.wait_status) && WEXITSTATUS(warm.wait_status) == 0);
}

// The go's limits are set before the first line of the run.
TEST(NodeWarmZygote, AppliesTheLimitsOfTheGo) {
  Directory dir;
  dir.Write("script.js",
            "const limits = require('fs').readFileSync('/proc/self/limits', 'utf8');\n"
            "console.log(limits.split('\\n').filter((l) => /^Max (open files|processes|"
            "file size|cpu time|core)/.test(l)).map((l) => l.split(/\\s{2,}/).slice(0, 3)"
            ".join('|')).join('\\n'));\n");
  const std::string stdin_path = dir.Write("stdin.txt", "");
  integr8scode::ZygoteGo go;
  go.apply_limits = 1;
  go.file_size_bytes = 1 << 20;
  go.open_files = 64;
  go.processes = 4096;
  go.cpu_seconds = 7;
  const Outcome warm = Go(StartZygote(dir, "script.js"), stdin_path, false, go);
  EXPECT_EQ(warm.out,
            "Max cpu time|7|8\n"
            "Max file size|1048576|1048576\n"
            "Max core file size|0|0\n"
            "Max processes|4096|4096\n"
            "Max open files|64|64\n");
  EXPECT_EQ(warm.err, "");
}

// Node makes its stdout pipe non-blocking while it runs and puts the flags back at exit;
// the pipe's open file description is shared with whoever passed it.
TEST(NodeWarmZygote, LeavesTheStdoutFlagsAsAColdStartDoes) {
  for (const char* source : {"console.log('hi')\n", "console.log('hi');\nprocess.exit(2);\n"}) {
    Directory dir;
    dir.Write("script.js", source);
    const std::string stdin_path = dir.Write("stdin.txt", "");
    const Outcome cold = RunCold(dir, "script.js", stdin_path, false, true);
    const Outcome warm =
        Go(StartZygote(dir, "script.js"), stdin_path, false, integr8scode::ZygoteGo{}, true);
    EXPECT_EQ(warm.out, cold.out);
    EXPECT_NE(cold.stdout_flags_after_exit, -1);
    EXPECT_EQ(cold.stdout_flags_after_exit & O_NONBLOCK, 0) << source;
    EXPECT_EQ(warm.stdout_flags_after_exit, cold.stdout_flags_after_exit) << source;
  }
}

// A zygote whose run never comes ends quietly, having run nothing.
TEST(NodeWarmZygote, HangUpEndsItWithoutRunning) {
  Directory dir;
  dir.Write("script.js", "require('fs').writeFileSync('ran', 'yes')\n");
  EXPECT_EQ(WEXITSTATUS(EndWithoutRun(StartZygote(dir, "script.js"), dir, false)), 0);
}

// A go without the three descriptors is refused: the zygote runs nothing.
TEST(NodeWarmZygote, MalformedGoRunsNothing) {
  Directory dir;
  dir.Write("script.js", "require('fs').writeFileSync('ran', 'yes')\n");
  EndWithoutRun(StartZygote(dir, "script.js"), dir, true);
}

}  // namespace
}  // namespace integr8scode::testing
