#!/usr/bin/env bash
# Two integr8scode binaries (before and after a change) run the same programs through
# `integr8scode run`, interleaved (A B B A …) so that a loaded machine's drift hits both
# alike. Prints per program, for each binary: the median end to end, the median sandbox
# set-up (the init's build up to Ready, from the debug log) and the mean CPU time the
# run's cgroup was charged (the program and the kernel's work for it: the steadiest
# figure on a loaded machine), with the ratios after/before.
# A benchmark, not a test: it never fails on figures.
# Usage: bench/sandbox/ab.sh BEFORE AFTER [runs=40]   (root; both binaries built)
set -euo pipefail
cd "$(dirname "$0")/../.."
before=$1
after=$2
runs=${3:-40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "print('hi')" > "$work/hi.py"
# Many modules, so many path lookups under /usr (each through the sandbox's view of it).
cat > "$work/imports.py" <<'PY'
import argparse, asyncio, csv, dataclasses, datetime, decimal, email.mime.multipart
import fractions, http.client, json, logging, pathlib, sqlite3, statistics, typing
import unittest, urllib.request, uuid, xml.etree.ElementTree, zipfile, tomllib, ssl
import sys
print(len(sys.modules))
PY
# A compile: the compiler looks up hundreds of headers under /usr/include.
cat > "$work/hello.cpp" <<'CPP'
#include <iostream>
#include <map>
#include <string>
#include <vector>
int main() { std::map<std::string, std::vector<int>> m{{"hi", {1}}}; std::cout << m.size() << "\n"; }
CPP

python3 - "$before" "$after" "$runs" "$work" "$PWD/runtimes/catalog.toml" <<'PY'
import json, os, re, statistics, subprocess, sys, time
before, after, runs, work, catalog = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
env = dict(os.environ, INTEGR8SCODE_CATALOG=catalog, INTEGR8SCODE_LOGGING_LEVEL="debug")
programs = [("print('hi')", "hi.py", "python", "3.11"),
            ("22 imports", "imports.py", "python", "3.11"),
            ("C++ compile + run", "hello.cpp", "cpp", "12")]

def once(binary, file, lang, version):
    start = time.perf_counter()
    done = subprocess.run([binary, "run", f"{work}/{file}", "--lang", lang, "--version", version,
                           "--timeout", "30s", "--memory", "512M", "--json"], env=env,
                          capture_output=True, text=True)
    total = (time.perf_counter() - start) * 1000
    setup = re.search(r"setup_us=(\d+)", done.stderr)
    if done.returncode != 0 or setup is None:
        sys.exit(f"{binary} {file}: {done.returncode}\n{done.stdout}{done.stderr}")
    cpu = json.loads(done.stdout)["resource_usage"]["cpu_time_ms"]
    return total, int(setup.group(1)) / 1000, cpu

print(f"{runs} runs each, interleaved; ms (end to end and set-up: medians; CPU: means)")
print(f"{'program':18} {'before':>8} {'after':>8} {'ratio':>6} │ {'set-up':>6} {'after':>6} │ "
      f"{'CPU':>7} {'after':>7} {'ratio':>6}")
for name, file, lang, version in programs:
    results = {before: ([], [], []), after: ([], [], [])}
    for i in range(2):
        once(before, file, lang, version); once(after, file, lang, version)
    for i in range(runs):
        order = (before, after) if i % 2 == 0 else (after, before)
        for binary in order:
            for column, value in zip(results[binary], once(binary, file, lang, version)):
                column.append(value)
    b, a = (statistics.median(results[x][0]) for x in (before, after))
    sb, sa = (statistics.median(results[x][1]) for x in (before, after))
    cb, ca = (statistics.mean(results[x][2]) for x in (before, after))
    print(f"{name:18} {b:8.1f} {a:8.1f} {a / b:5.2f}x │ {sb:6.2f} {sa:6.2f} │ "
          f"{cb:7.1f} {ca:7.1f} {ca / cb:5.2f}x")
PY
