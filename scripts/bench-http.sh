#!/usr/bin/env bash
# The HTTP benchmark of docs/BENCHMARKS.md, on the release build, against a same-run reference:
# a bare Hummingbird route returning a constant string (Benchmarks/ReferenceServer).
#   scripts/bench-http.sh [DURATION_SECONDS]
# Needs wrk (apt-get install wrk). Everything listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
CONNECTIONS=64
SCRATCH=${SCRATCH:-.build-release}
AGORA_PORT=18080
REFERENCE_PORT=18081
UNCACHED_PORT=18082

swift build -c release --scratch-path "$SCRATCH" --product agora >/dev/null
swift build -c release --scratch-path "$SCRATCH" --product agora-reference >/dev/null
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)

DATA=$(mktemp -d /tmp/agora-bench.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$DATA"; }
trap cleanup EXIT

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
wait_for() { for _ in $(seq 1 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; echo "no answer from $1"; exit 1; }

echo "== seeding (users 1000, posts 10000, comments 30000)"
time "$BIN/agora" seed --data-dir "$DATA" --users 1000 --posts 10000 --comments 30000

"$BIN/agora-reference" $REFERENCE_PORT >/dev/null 2>&1 & PIDS+=($!)
"$BIN/agora" serve --data-dir "$DATA" --port $AGORA_PORT --log-level warning >/dev/null 2>&1 & AGORA_PID=$!; PIDS+=($AGORA_PID)
wait_for "http://127.0.0.1:$REFERENCE_PORT/"
wait_for "http://127.0.0.1:$AGORA_PORT/healthz"
sleep 1
echo "== idle resident memory of agora serve: $(rss_kb $AGORA_PID) kB ($(awk '/RssAnon/ {print $2}' /proc/$AGORA_PID/status) kB anonymous, the rest mapped code and libraries)"

PEAK_FILE="$DATA/peak"
echo 0 > "$PEAK_FILE"
( peak=0; while kill -0 $AGORA_PID 2>/dev/null; do r=$(rss_kb $AGORA_PID || echo 0); [ "$r" -gt "$peak" ] && peak=$r && echo $peak > "$PEAK_FILE"; sleep 0.2; done ) &
PIDS+=($!)

run_wrk() { # name, url, [script]
  local name=$1 url=$2 script=${3:-}
  echo "== $name"
  wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency ${script:+-s "$script"} "$url" | tee "$DATA/$name.txt" \
    | grep -E "Requests/sec|Non-2xx|Socket errors|^ +(50|99)%|Latency "
}

run_wrk reference "http://127.0.0.1:$REFERENCE_PORT/"
run_wrk get-post "http://127.0.0.1:$AGORA_PORT" scripts/wrk/get-random-post.lua

# The same read with the post cache off, from a second process on the same database: what every
# cache miss costs.
AGORA_POST_CACHE_ENTRIES=0 "$BIN/agora" serve --data-dir "$DATA" --port $UNCACHED_PORT --log-level warning >/dev/null 2>&1 &
UNCACHED_PID=$!; PIDS+=($UNCACHED_PID)
wait_for "http://127.0.0.1:$UNCACHED_PORT/healthz"
run_wrk get-post-uncached "http://127.0.0.1:$UNCACHED_PORT" scripts/wrk/get-random-post.lua
kill $UNCACHED_PID
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$AGORA_PORT/api/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"user1@example.com","password":"agora-demo-password"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
TOKEN=$TOKEN run_wrk create-post "http://127.0.0.1:$AGORA_PORT/api/posts" scripts/wrk/create-post.lua

rps() { awk '/Requests\/sec/ {print $2}' "$DATA/$1.txt"; }
p99() { awk '$1 == "99%" {print $2}' "$DATA/$1.txt"; }
echo
echo "== summary (wrk -t2 -c$CONNECTIONS -d${DURATION}s, release build, $(nproc) cores)"
echo "reference constant route : $(rps reference) req/s, p99 $(p99 reference)"
echo "GET /api/posts/{id}       : $(rps get-post) req/s, p99 $(p99 get-post), ratio $(awk "BEGIN {printf \"%.2f\", $(rps get-post) / $(rps reference)}")"
echo "  same, post cache off     : $(rps get-post-uncached) req/s, p99 $(p99 get-post-uncached), ratio $(awk "BEGIN {printf \"%.2f\", $(rps get-post-uncached) / $(rps reference)}")"
echo "POST /api/posts           : $(rps create-post) req/s, p99 $(p99 create-post), ratio $(awk "BEGIN {printf \"%.2f\", $(rps create-post) / $(rps reference)}")"
echo "peak resident memory      : $(( $(cat "$PEAK_FILE") / 1024 )) MiB"
