#!/usr/bin/env bash
# GET /api/posts/{id} on PostgreSQL against the same on the embedded SQLite, in one run (issue 6;
# docs/BENCHMARKS.md). Same seed, same wrk script as scripts/bench-http.sh; the two servers run
# side by side and wrk alternates between them, ROUNDS times, so both see the same machine.
#   scripts/bench-http-postgres.sh POSTGRES_SERVER_URL [DURATION_SECONDS] [ROUNDS]
# e.g.  URL=$(bash scripts/postgres.sh start /tmp/agora-pg-bench 54351)
#       bash scripts/bench-http-postgres.sh "$URL" 20 2
# The server URL names any database the user may create databases from; the script creates a
# fresh one (agora_bench_http_*) and drops it at the end. Needs wrk and psql. SKIP_BUILD=1 uses
# the release binaries as they are. Everything listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER_URL=${1:?usage: $0 POSTGRES_SERVER_URL [DURATION_SECONDS] [ROUNDS]}
DURATION=${2:-20}
ROUNDS=${3:-2}
CONNECTIONS=64
SCRATCH=${SCRATCH:-.build-release}
REFERENCE_PORT=18090
SQLITE_PORT=18091
POSTGRES_PORT=18092
SQLITE_UNCACHED_PORT=18093
POSTGRES_UNCACHED_PORT=18094

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  swift build -c release --scratch-path "$SCRATCH" --product agora >/dev/null
  swift build -c release --scratch-path "$SCRATCH" --product agora-reference >/dev/null
fi
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)

DATABASE=agora_bench_http_$$_$RANDOM
BASE=${SERVER_URL%%\?*}
POSTGRES_URL=${BASE%/*}/$DATABASE
SQLITE_DATA=$(mktemp -d /tmp/agora-bench-sqlite.XXXXXX)
POSTGRES_DATA=$(mktemp -d /tmp/agora-bench-postgres.XXXXXX)
OUT=$(mktemp -d /tmp/agora-bench-out.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql -q "$SERVER_URL" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$SQLITE_DATA" "$POSTGRES_DATA" "$OUT"
}
trap cleanup EXIT

wait_for() { for _ in $(seq 1 300); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; echo "no answer from $1"; exit 1; }
# CPU ticks (user + system) of one process; and of the PostgreSQL server: its postmaster, the
# children it waited for (cutime + cstime: ended backends, parallel workers) and the live ones.
ticks_of() { awk '{ sub(/^.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
POSTMASTER=$(head -1 "$(psql -At "$SERVER_URL" -c 'SHOW data_directory')/postmaster.pid" 2>/dev/null || true)
postgres_ticks() {
  [ -n "$POSTMASTER" ] || { echo 0; return; }
  local total t child
  total=$(awk '{ sub(/^.*\) /, ""); split($0, f, " "); print f[12] + f[13] + f[14] + f[15] }' "/proc/$POSTMASTER/stat")
  for child in $(ps --ppid "$POSTMASTER" -o pid= 2>/dev/null); do
    t=$(ticks_of "$child" 2>/dev/null || echo 0)
    total=$((total + ${t:-0}))
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)
# Busy ticks of the whole machine (user, nice, system, irq, softirq, steal), every core.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

echo "== PostgreSQL database $DATABASE on ${BASE%/*}"
psql -q "$SERVER_URL" -c "CREATE DATABASE $DATABASE" >/dev/null
echo "== seeding both (users 1000, posts 10000, comments 30000)"
( time "$BIN/agora" seed --data-dir "$SQLITE_DATA" --users 1000 --posts 10000 --comments 30000 ) 2>&1 | grep -E "Seeded|real"
( time "$BIN/agora" seed --data-dir "$POSTGRES_DATA" --database-url "$POSTGRES_URL" --users 1000 --posts 10000 --comments 30000 ) 2>&1 | grep -E "Seeded|real"
psql -q "$POSTGRES_URL" -c "VACUUM ANALYZE" >/dev/null

start_server() { # port, data dir, [database url], [extra env]
  local port=$1 data=$2 url=${3:-} env=${4:-}
  env $env "$BIN/agora" serve --data-dir "$data" ${url:+--database-url "$url"} --port "$port" --log-level warning \
    >>"$OUT/server-$port.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$port=$!"
  wait_for "http://127.0.0.1:$port/healthz"
}
"$BIN/agora-reference" $REFERENCE_PORT >/dev/null 2>&1 & PIDS+=($!)
wait_for "http://127.0.0.1:$REFERENCE_PORT/"
start_server $SQLITE_PORT "$SQLITE_DATA"
start_server $POSTGRES_PORT "$POSTGRES_DATA" "$POSTGRES_URL"
sleep 1

run_wrk() { # name, port, [script]
  local name=$1 port=$2 script=${3:-}
  local pid_var=PID_$port pid before_server before_pg before_machine
  pid=${!pid_var:-}
  before_server=$([ -n "$pid" ] && ticks_of "$pid" || echo 0)
  before_pg=$(postgres_ticks)
  before_machine=$(machine_ticks)
  wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency ${script:+-s "$script"} "http://127.0.0.1:$port/" > "$OUT/$name.txt"
  local server_cores pg_cores machine_cores
  server_cores=$([ -n "$pid" ] && awk "BEGIN {printf \"%.2f\", ($(ticks_of "$pid") - $before_server) / $HZ / $DURATION}" || echo "-")
  pg_cores=$(awk "BEGIN {printf \"%.2f\", ($(postgres_ticks) - $before_pg) / $HZ / $DURATION}")
  machine_cores=$(awk "BEGIN {printf \"%.2f\", ($(machine_ticks) - $before_machine) / $HZ / $DURATION}")
  printf '%-22s %10s req/s  p50 %8s  p99 %8s  non-2xx %s  cores: agora %s, postgres %s, whole machine %s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' "$OUT/$name.txt")" "$(awk '$1 == "50%" {print $2}' "$OUT/$name.txt")" \
    "$(awk '$1 == "99%" {print $2}' "$OUT/$name.txt")" "$(awk '/Non-2xx/ {print $5}' "$OUT/$name.txt" | grep . || echo 0)" \
    "$server_cores" "$pg_cores" "$machine_cores"
}

# A warm-up of each, not counted: first reads of every page, and the post cache filled (on
# PostgreSQL the 10,000 misses alone take about 7 s at its uncached rate).
DURATION_SAVED=$DURATION; DURATION=15
run_wrk warmup-sqlite $SQLITE_PORT scripts/wrk/get-random-post.lua >/dev/null
run_wrk warmup-postgres $POSTGRES_PORT scripts/wrk/get-random-post.lua >/dev/null
DURATION=$DURATION_SAVED

echo "== GET /api/posts/{random id}, wrk -t2 -c$CONNECTIONS -d${DURATION}s, alternating, $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  run_wrk reference-$round $REFERENCE_PORT
  run_wrk sqlite-$round $SQLITE_PORT scripts/wrk/get-random-post.lua
  run_wrk postgres-$round $POSTGRES_PORT scripts/wrk/get-random-post.lua
done

echo "== the same with the post cache off (AGORA_POST_CACHE_ENTRIES=0): every GET reads the database"
start_server $SQLITE_UNCACHED_PORT "$SQLITE_DATA" "" AGORA_POST_CACHE_ENTRIES=0
start_server $POSTGRES_UNCACHED_PORT "$POSTGRES_DATA" "$POSTGRES_URL" AGORA_POST_CACHE_ENTRIES=0
DURATION=5
run_wrk warmup-sqlite-uncached $SQLITE_UNCACHED_PORT scripts/wrk/get-random-post.lua >/dev/null
run_wrk warmup-postgres-uncached $POSTGRES_UNCACHED_PORT scripts/wrk/get-random-post.lua >/dev/null
DURATION=$DURATION_SAVED
for round in $(seq 1 "$ROUNDS"); do
  run_wrk sqlite-uncached-$round $SQLITE_UNCACHED_PORT scripts/wrk/get-random-post.lua
  run_wrk postgres-uncached-$round $POSTGRES_UNCACHED_PORT scripts/wrk/get-random-post.lua
done

rps() { awk '/Requests\/sec/ {print $2}' "$OUT/$1.txt"; }
sum_rps() { local prefix=$1 total=0; for round in $(seq 1 "$ROUNDS"); do total=$(awk "BEGIN {print $total + $(rps $prefix-$round)}"); done; echo "$total"; }
echo
echo "== summary (wrk -t2 -c$CONNECTIONS -d${DURATION}s × $ROUNDS rounds, release build, $(nproc) cores; PostgreSQL on the same machine)"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round: reference $(rps reference-$round), SQLite $(rps sqlite-$round), PostgreSQL $(rps postgres-$round) req/s:" \
    "PostgreSQL / SQLite $(awk "BEGIN {printf \"%.2f\", $(rps postgres-$round) / $(rps sqlite-$round)}");" \
    "uncached SQLite $(rps sqlite-uncached-$round), PostgreSQL $(rps postgres-uncached-$round):" \
    "$(awk "BEGIN {printf \"%.2f\", $(rps postgres-uncached-$round) / $(rps sqlite-uncached-$round)}")"
done
echo "GET, post cache on (the default): PostgreSQL / SQLite = $(awk "BEGIN {printf \"%.2f\", $(sum_rps postgres) / $(sum_rps sqlite)}") (target ≥ 0.70)"
echo "GET, post cache off             : PostgreSQL / SQLite = $(awk "BEGIN {printf \"%.2f\", $(sum_rps postgres-uncached) / $(sum_rps sqlite-uncached)}")"
