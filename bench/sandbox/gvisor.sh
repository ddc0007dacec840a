#!/usr/bin/env bash
# What sandbox.isolation = "gvisor" costs per run against the native sandbox: the same
# scripts through `integr8scode run --isolation native|gvisor`, side by side. Prints the
# medians of the end-to-end time (hyperfine) and of what the run itself reports (wall,
# CPU and peak memory from the slot's cgroup). A benchmark, not a test: it never fails
# on figures. Usage: bench/sandbox/gvisor.sh [runs] (root, hyperfine, runsc;
# scripts/setup --test). BINARY=… measures another build (default: the release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-20}
if [[ -z "${BINARY:-}" ]]; then
  scripts/build release >/dev/null
  BINARY=$PWD/build/release/src/app/integr8scode
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "print('hi')" > "$work/hello.py"
# CPU-bound: no system calls in the loop, the platform should not matter.
echo "print(sum(i * i for i in range(3_000_000)))" > "$work/compute.py"
# System-call-bound: every call is a trip through the Sentry (ptrace: four context
# switches per call).
cat > "$work/syscalls.py" <<'PY'
import os
for i in range(20000):
    os.stat("/tmp")
with open("/tmp/f", "wb") as f:
    for i in range(2000):
        f.write(b"x" * 4096)
print("done")
PY
# Many small processes: each is a new address space (a ptrace stub process).
echo 'import subprocess
for i in range(20): subprocess.run(["/bin/true"])
print("done")' > "$work/spawn.py"

for script in hello compute syscalls spawn; do
  echo "== $script.py: $runs runs each (hyperfine, end to end)"
  hyperfine -N -i --warmup 2 --runs "$runs" --export-json "$work/$script.json" \
    -n native "$BINARY run $work/$script.py --lang python --version 3.11 --timeout 30s --isolation native" \
    -n gvisor "$BINARY run $work/$script.py --lang python --version 3.11 --timeout 30s --isolation gvisor" \
    >/dev/null
  for isolation in native gvisor; do
    for _ in $(seq "$runs"); do
      "$BINARY" run "$work/$script.py" --lang python --version 3.11 --timeout 30s \
        --isolation "$isolation" --json
      echo
    done > "$work/$script-$isolation.jsonl"
  done
  python3 - "$work" "$script" <<'PY'
import json, statistics, sys
work, script = sys.argv[1:]
e2e = {r["command"]: statistics.median(r["times"]) * 1000
       for r in json.load(open(f"{work}/{script}.json"))["results"]}
print(f"{'':8} {'end-to-end':>11} {'wall':>8} {'cpu':>8} {'peak mem':>9} status")
for isolation in ("native", "gvisor"):
    rows = [json.loads(l) for l in open(f"{work}/{script}-{isolation}.jsonl") if l.strip()]
    usage = lambda k: statistics.median(r["resource_usage"][k] for r in rows)
    statuses = sorted({r["status"] for r in rows})
    print(f"{isolation:8} {e2e[isolation]:9.1f}ms {usage('wall_time_ms'):6.0f}ms "
          f"{usage('cpu_time_ms'):6.0f}ms {usage('peak_memory_bytes') / 2**20:7.1f}Mi "
          f"{','.join(statuses)}")
PY
done
