#!/usr/bin/env bash
# The container image, built and run: scripts/image builds it (base images cached, see
# docs/deploy.md), then a container runs `serve` with the sandbox's privileges and the test
# checks, through the API on loopback: /health/ready; the catalog's examples (the original's
# samples) on both Python versions; the hostile basics contained (no network, a fork bomb,
# memory) with the server still healthy after; and the image's unprivileged user.
# Needs root and podman (runc). CTest label `container`.
set -euo pipefail
cd "$(dirname "$0")/../.."

start=$(date +%s)
image=$(scripts/image | tail -1)
built=$(date +%s)
echo "image: $image (built or found in $((built - start)) s)"

podman_opts=(--runtime runc)
run_opts=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
name="integr8scode-image-test-$$"
cleanup() { podman "${podman_opts[@]}" rm -f -t 5 "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; podman "${podman_opts[@]}" logs --tail 30 "$name" >&2 || true; exit 1; }

# The api role's user: the image runs as uid 10001 by default, with a read-only root.
podman "${podman_opts[@]}" run --rm "${run_opts[@]}" --network none --read-only --cap-drop ALL \
  "$image" runtimes >/tmp/"$name".runtimes || fail "integr8scode runtimes as the image's user"
grep -q 'python.*3.11' /tmp/"$name".runtimes || fail "python 3.11 missing: $(cat /tmp/"$name".runtimes)"
[[ "$(podman "${podman_opts[@]}" image inspect --format '{{.Config.User}}' "$image")" == 10001:10001 ]] ||
  fail "the image's default user is not 10001"
rm -f /tmp/"$name".runtimes

# Root refuses the volume's directory (uid 10001, the image's; src/common/private_files.cpp),
# so the root roles keep their data in a subdirectory the server creates as root.
# `serve` with every role and the minimal privileges docs/deploy.md names (override with
# INTEGR8SCODE_IMAGE_TEST_PRIVILEGES, e.g. --privileged). Host networking so the test
# reaches it on loopback; each run still gets its own empty network namespace.
# With the test PostgreSQL (scripts/test sets INTEGR8SCODE_TEST_POSTGRES_URL), the server
# keeps its state there, in a schema of its own, as the api and worker roles do; else SQLite.
database=()
schema=""
if [[ -n "${INTEGR8SCODE_TEST_POSTGRES_URL:-}" ]]; then
  schema="image_test_$$"
  psql -q "$INTEGR8SCODE_TEST_POSTGRES_URL" -c "CREATE SCHEMA $schema" || fail "cannot create schema $schema"
  separator='?'; [[ "$INTEGR8SCODE_TEST_POSTGRES_URL" == *\?* ]] && separator='&'
  database=(-e "INTEGR8SCODE_DATABASE_URL=${INTEGR8SCODE_TEST_POSTGRES_URL}${separator}options=-csearch_path%3D$schema")
  trap 'cleanup; psql -q "$INTEGR8SCODE_TEST_POSTGRES_URL" -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true' EXIT
fi
podman "${podman_opts[@]}" run -d --name "$name" "${run_opts[@]}" --network host "${database[@]}" \
  --user 0:0 ${INTEGR8SCODE_IMAGE_TEST_PRIVILEGES:---cap-add SYS_ADMIN,MKNOD,SYS_TIME -v /sys/fs/cgroup:/sys/fs/cgroup:rw} \
  -e INTEGR8SCODE_SERVER_LISTEN="127.0.0.1:$port" -e INTEGR8SCODE_AUTH_ARGON2=min \
  -e INTEGR8SCODE_SERVER_DATA_DIR=/var/lib/integr8scode/root \
  "$image" serve >/dev/null

api="http://127.0.0.1:$port/api/v1"
for _ in $(seq 1 300); do
  curl -fsS "$api/health/ready" >/dev/null 2>&1 && break
  [[ "$(podman "${podman_opts[@]}" inspect --format '{{.State.Running}}' "$name")" == true ]] ||
    fail "the container stopped"
  sleep 0.2
done
curl -fsS "$api/health/ready" >/dev/null || fail "/health/ready never answered 200"
echo "serve: ready after $(($(date +%s) - built)) s"

# execute LANG VERSION SCRIPT [LIMITS-JSON]: prints the execution object (waits for it).
execute() {
  python3 - "$api" "$@" <<'EOF'
import json, sys, urllib.request
api, lang, version, script = sys.argv[1:5]
body = {"lang": lang, "lang_version": version, "script": script}
if len(sys.argv) > 5:
    body["limits"] = json.loads(sys.argv[5])
request = urllib.request.Request(f"{api}/execute?wait=true", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
print(urllib.request.urlopen(request, timeout=120).read().decode())
EOF
}
field() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }

# Both Pythons of the image: CPython 3.11 and PyPy (Python 3.9), from its own packages.
for runtime in "python 3.11" "pypy 3.9"; do
  lang=${runtime% *} version=${runtime#* }
  result=$(execute "$lang" "$version" "$(cat "runtimes/examples/python-$version.py")")
  [[ "$(field status <<<"$result")" == completed ]] || fail "$lang $version example: $result"
  expected=$(python3 "runtimes/examples/python-$version.py" 2>/dev/null || true)
  if [[ "$version" == 3.11 ]]; then
    [[ "$(field stdout <<<"$result")" == "$expected"* ]] || fail "python 3.11 output differs: $result"
  fi
  echo "$lang $version example: completed"
done

# No network: the server listens on the container's (host's) loopback, yet a run reaches
# nothing — its network namespace has only a down lo.
result=$(execute python 3.11 "import socket
s = socket.socket()
s.settimeout(2)
try:
    s.connect(('127.0.0.1', $port))
    print('CONNECTED')
except OSError as e:
    print('blocked', e.errno)")
[[ "$(field stdout <<<"$result")" == blocked* ]] || fail "network not contained: $result"
echo "network: contained"

# A fork bomb ends within its limits; the server answers afterwards.
result=$(execute python 3.11 "import os
while True:
    try:
        os.fork()
    except OSError:
        pass" '{"timeout_ms": 2000}')
status=$(field status <<<"$result")
[[ "$status" == timed_out || "$status" == failed ]] || fail "fork bomb: $result"
echo "fork bomb: $status"

result=$(execute python 3.11 "x = bytearray(512 * 1024 * 1024)
print(len(x))" '{"memory_bytes": 67108864}')
[[ "$(field status <<<"$result")" == memory_exceeded ]] || fail "memory: $result"
echo "memory: memory_exceeded"

curl -fsS "$api/health/ready" >/dev/null || fail "unhealthy after the hostile runs"
result=$(execute python 3.11 "print('still here')")
[[ "$(field stdout <<<"$result")" == "still here"* ]] || fail "no run after the hostile ones: $result"
if [[ -n "$schema" ]]; then
  kept=$(psql -tA "$INTEGR8SCODE_TEST_POSTGRES_URL" -c "SELECT count(*) FROM $schema.executions")
  ((kept >= 6)) || fail "PostgreSQL schema $schema holds $kept executions, expected the 6 runs"
  echo "PostgreSQL: $kept executions stored in schema $schema"
fi
echo "image test: passed in $(($(date +%s) - start)) s"
