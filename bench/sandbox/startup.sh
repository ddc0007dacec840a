#!/usr/bin/env bash
# Sandbox start-up cost: print('hi') through `integr8scode run` against bare python3 and
# bubblewrap with comparable isolation, side by side, plus throughput with every core
# busy. Prints medians and ratios; writes the raw figures to $OUT (default
# build/bench/sandbox-startup.json). A benchmark, not a test: it never fails on figures.
# Usage: bench/sandbox/startup.sh [runs] (needs root, hyperfine and bwrap; scripts/setup --test)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-40}
out=${OUT:-build/bench/sandbox-startup.json}
mkdir -p "$(dirname "$out")"
scripts/build release >/dev/null
binary=$PWD/build/release/src/app/integr8scode
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "print('hi')" > "$work/hi.py"

# bubblewrap as close to our isolation as its flags allow: every namespace, a tmpfs
# root with /usr read-only, new /proc and /dev, a private /tmp, no capabilities.
bwrap_cmd="bwrap --unshare-all --die-with-parent --new-session --cap-drop ALL \
  --tmpfs / --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \
  --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp \
  --ro-bind $work/hi.py /scripts/script.py --chdir /tmp \
  /usr/bin/python3.11 -I -u /scripts/script.py"
ours="$binary run $work/hi.py --lang python --version 3.11"
bare="/usr/bin/python3 $work/hi.py"

echo "== start-up: $runs runs each, hyperfine (median, ms)"
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/startup.json" \
  -n bare "$bare" -n integr8scode "$ours" -n bubblewrap "$bwrap_cmd" >/dev/null

throughput() {  # command, jobs, count → runs per second
  local start end
  start=$(date +%s.%N)
  seq "$3" | xargs -P "$2" -I{} sh -c "$1 >/dev/null 2>&1"
  end=$(date +%s.%N)
  python3 -c "print(round($3 / ($end - $start), 1))"
}
cores=$(nproc)
count=$((100 * cores))
echo "== throughput: $count runs, $cores at a time"
tp_bare=$(throughput "$bare" "$cores" "$count")
tp_ours=$(throughput "$ours" "$cores" "$count")
tp_bwrap=$(throughput "$bwrap_cmd" "$cores" "$count")

python3 - "$work/startup.json" "$out" "$tp_bare" "$tp_ours" "$tp_bwrap" "$cores" <<'PY'
import json, statistics, sys, platform, os
data = json.load(open(sys.argv[1]))
tp = dict(zip(["bare", "integr8scode", "bubblewrap"], map(float, sys.argv[3:6])))
rows = {}
for result in data["results"]:
    times = [t * 1000 for t in result["times"]]
    rows[result["command"]] = {"median_ms": statistics.median(times), "mean_ms": statistics.mean(times),
                               "stdev_ms": statistics.stdev(times), "min_ms": min(times), "runs": len(times)}
base = rows["bare"]["median_ms"]
print(f"{'':14} {'median':>9} {'mean':>9} {'min':>8} {'ratio':>7} {'runs/s':>8}")
for name, row in rows.items():
    row["ratio_to_bare"] = row["median_ms"] / base
    row["runs_per_second"] = tp[name]
    print(f"{name:14} {row['median_ms']:8.2f}ms {row['mean_ms']:8.2f}ms {row['min_ms']:7.2f}ms "
          f"{row['ratio_to_bare']:6.2f}x {tp[name]:8.1f}")
print(f"\nthroughput, sandboxed vs bare: {tp['integr8scode'] / tp['bare']:.2f}x of bare with {sys.argv[6]} cores busy")
json.dump({"machine": {"cores": int(sys.argv[6]), "kernel": platform.release()}, "startup": rows},
          open(sys.argv[2], "w"), indent=2)
PY
echo "figures: $out"
