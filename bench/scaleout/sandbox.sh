#!/usr/bin/env bash
# The scale-out run through the real sandbox (docs/scale-out.md): N Python `print`
# executions submitted at once through an api replica, run by 1, 2 or 4 worker processes,
# against `serve --role all` on SQLite and on PostgreSQL, on the same cores, in one run.
# Prints executions/s and submit→claim latency (created_at → started_at in the store).
# A benchmark: it prints figures, it never passes or fails. Run as root.
#
#   bench/scaleout/sandbox.sh POSTGRES_URL [N]
set -euo pipefail

url=${1:?usage: bench/scaleout/sandbox.sh POSTGRES_URL [N]}
n=${2:-200}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${INTEGR8SCODE_BIN:-$root/build/ci/src/app/integr8scode}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export INTEGR8SCODE_AUTH_JWT_SECRET=bench-secret-0123456789abcdef0123456789abcdef
cores=$(nproc)

start() {  # role port data-dir database-url slots
  "$bin" --catalog "$root/runtimes/catalog.toml" serve --role "$1" --listen "127.0.0.1:$2" \
    --data-dir "$3" --set database.url="$4" --set sandbox.slots="$5" \
    --set rate_limits.enabled=false --set logging.level=warn >"$3.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do
    curl -sf "127.0.0.1:$2/api/v1/health/ready" >/dev/null && return 0
    sleep 0.05
  done
  echo "the $1 process on port $2 did not become ready:" >&2
  cat "$3.log" >&2
  exit 1
}

stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

submit() {  # port
  seq "$n" | xargs -P 16 -I{} curl -s -o /dev/null -X POST "127.0.0.1:$1/api/v1/execute" \
    -H 'content-type: application/json' \
    -d '{"lang":"python","lang_version":"3.11","script":"print({})"}'
}

report() {  # label query-command
  local label=$1
  shift
  # One line: executions/s, p50 and p99 submit→claim in ms.
  "$@" | awk -v label="$label" -v n="$n" '{ printf "%-28s %8.1f exec/s   submit->claim p50 %5d ms  p99 %5d ms\n", label, n / ($1 / 1000), $2, $3 }'
}

stats_sql="SELECT max(finished_at) - min(created_at),
  (SELECT started_at - created_at FROM executions ORDER BY started_at - created_at
     LIMIT 1 OFFSET (SELECT count(*) * 50 / 100 FROM executions)),
  (SELECT started_at - created_at FROM executions ORDER BY started_at - created_at
     LIMIT 1 OFFSET (SELECT count(*) * 99 / 100 FROM executions))
  FROM executions"

wait_done() {  # count-command
  for _ in $(seq 6000); do
    [[ $("$@") == 0 ]] && return 0
    sleep 0.05
  done
  echo "executions did not finish" >&2
  exit 1
}

echo "$n executions of print(i) in python 3.11; $cores cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# A: all on SQLite (today's single process).
db=$work/all.db
start all 18300 "$work/all-sqlite" "sqlite://$db" "$cores"
submit 18300
wait_done sqlite3 "$db" "SELECT count(*) FROM executions WHERE status IN ('queued','running')"
report "all, SQLite" sqlite3 -separator ' ' "$db" "$stats_sql"
stop_all

# B: all on PostgreSQL, then api + 1, 2, 4 workers (same total sandbox slots where it fits).
run_pg() {  # label workers
  local schema="bench_sandbox_$$_$2_${1//[^a-z]/}"
  psql -q "$url" -c "CREATE SCHEMA $schema" >/dev/null
  local db_url="$url?options=-csearch_path%3D$schema"
  if [[ $2 == 0 ]]; then
    start all 18310 "$work/all-pg" "$db_url" "$cores"
  else
    start api 18310 "$work/api-$2" "$db_url" "$cores"
    local slots=$((cores / $2))
    ((slots > 0)) || slots=1
    for i in $(seq "$2"); do
      start worker $((18310 + i)) "$work/worker-$2-$i" "$db_url" "$slots"
    done
  fi
  submit 18310
  wait_done psql -qtA "$db_url" -c "SELECT count(*) FROM executions WHERE status IN ('queued','running')"
  report "$1" psql -qtA -F ' ' "$db_url" -c "$stats_sql"
  stop_all
  PGOPTIONS=--client-min-messages=warning psql -q "$url" -c "DROP SCHEMA $schema CASCADE"
}
run_pg "all, PostgreSQL" 0
run_pg "api + 1 worker" 1
run_pg "api + 2 workers" 2
run_pg "api + 4 workers" 4
