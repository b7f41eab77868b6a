#!/usr/bin/env bash
# Several Agora instances on one PostgreSQL behind nginx, on loopback, for trying it by hand.
#   deploy/cluster.sh start DIR [N] [PORT]   starts a PostgreSQL cluster in DIR/postgres (on
#                                            $POSTGRES_PORT, default 54330), N instances of
#                                            `agora serve` (default 3) on 127.0.0.1:PORT+1…PORT+N
#                                            sharing DIR/data and the database, and nginx
#                                            (deploy/nginx.conf) on 127.0.0.1:PORT (default 8080);
#                                            prints nginx's URL
#   deploy/cluster.sh stop DIR               stops the processes it started (their PIDs are in
#                                            DIR/pids, nothing else is signalled), then PostgreSQL
# The binary is $AGORA_BIN, else .build/release/agora, else .build/debug/agora (build it first:
# `swift build -c release --product agora`). Needs nginx and Debian's postgresql package
# (apt-get install nginx postgresql). Logs: DIR/agora-K.log, DIR/nginx/error.log and access.log
# (which instance answered each request); AGORA_* variables reach every instance. As root,
# nginx's workers run as nobody and PostgreSQL as postgres (scripts/postgres.sh).
set -euo pipefail
COMMAND=${1:?start or stop}
DIR=${2:?a directory for the cluster}
COUNT=${3:-3}
PORT=${4:-8080}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mkdir -p "$DIR" && cd "$DIR" && pwd)
PIDS="$DIR/pids"

# Stops the processes listed in DIR/pids (lines "name pid"), each only if it is still the
# program that was started (a PID may have been reused since).
stop_recorded() {
    [ -f "$PIDS" ] || return 0
    local name pid waited
    # nginx first, so that no request reaches an instance that is stopping.
    for name in nginx agora; do
        while read -r kind pid; do
            [ "${kind%%-*}" = "$name" ] || continue
            grep -q "$name" "/proc/$pid/cmdline" 2>/dev/null || continue
            # SIGTERM: nginx stops at once; Agora drains requests and lets running jobs finish (AGORA_WORKER_SHUTDOWN_GRACE_MILLIS).
            kill -TERM "$pid" 2>/dev/null || continue
        done < "$PIDS"
        while read -r kind pid; do
            [ "${kind%%-*}" = "$name" ] || continue
            for waited in $(seq 1 300); do
                grep -q "$name" "/proc/$pid/cmdline" 2>/dev/null || break
                sleep 0.1
            done
            if grep -q "$name" "/proc/$pid/cmdline" 2>/dev/null; then
                echo "$kind ($pid) did not stop in 30 s: SIGKILL" >&2
                kill -KILL "$pid" 2>/dev/null || true
            fi
        done < "$PIDS"
    done
    rm -f "$PIDS"
}

# Waits up to 60 s for `agora serve` to print its URL into LOG; fails if the process exits first.
wait_listening() {
    local pid=$1 log=$2
    for _ in $(seq 1 600); do
        grep -q "listening on http://" "$log" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { echo "agora ($pid) exited; see $log:" >&2; tail -5 "$log" >&2; return 1; }
        sleep 0.1
    done
    echo "agora ($pid) did not listen within 60 s; see $log" >&2
    return 1
}

case "$COMMAND" in
start)
    [ "$COUNT" -ge 1 ] || { echo "N must be at least 1" >&2; exit 2; }
    [ -f "$PIDS" ] && { echo "$DIR/pids exists: the cluster is running (deploy/cluster.sh stop $DIR)" >&2; exit 1; }
    BIN=${AGORA_BIN:-}
    for candidate in "$ROOT/.build/release/agora" "$ROOT/.build/debug/agora"; do
        [ -n "$BIN" ] || [ ! -x "$candidate" ] || BIN=$candidate
    done
    [ -n "$BIN" ] && [ -x "$BIN" ] || { echo "no agora binary: set AGORA_BIN or run swift build -c release --product agora" >&2; exit 1; }
    NGINX=$(PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v nginx) || { echo "nginx is not installed (apt-get install nginx)" >&2; exit 1; }

    URL=$(bash "$ROOT/scripts/postgres.sh" start "$DIR/postgres" "${POSTGRES_PORT:-54330}")
    # Whatever fails from here on, nothing is left running.
    STARTED=no
    trap '[ "$STARTED" = yes ] || { stop_recorded; bash "$ROOT/scripts/postgres.sh" stop "$DIR/postgres" || true; }' EXIT
    mkdir -p "$DIR/data" "$DIR/nginx"
    : > "$PIDS"
    # All at once: migrations take an advisory lock, the key files in the data directory are
    # created by whichever instance comes first.
    for k in $(seq 1 "$COUNT"); do
        AGORA_TRUST_FORWARDED_FOR=${AGORA_TRUST_FORWARDED_FOR:-true} \
            "$BIN" serve --host 127.0.0.1 --port $((PORT + k)) --data-dir "$DIR/data" --database-url "$URL" \
            < /dev/null > "$DIR/agora-$k.log" 2>&1 &
        echo "agora-$k $!" >> "$PIDS"
    done
    while read -r kind pid; do wait_listening "$pid" "$DIR/${kind}.log"; done < "$PIDS"

    cp "$ROOT/deploy/nginx.conf" "$DIR/nginx/nginx.conf"
    for k in $(seq 1 "$COUNT"); do echo "server 127.0.0.1:$((PORT + k)) max_fails=1 fail_timeout=5s;"; done > "$DIR/nginx/upstreams.conf"
    echo "listen 127.0.0.1:$PORT;" > "$DIR/nginx/listen.conf"
    "$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/error.log" -g 'daemon off;' \
        < /dev/null >> "$DIR/nginx/error.log" 2>&1 &
    echo "nginx $!" >> "$PIDS"
    NGINX_PID=$!
    for waited in $(seq 0 300); do
        curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break
        kill -0 "$NGINX_PID" 2>/dev/null || { echo "nginx exited; see $DIR/nginx/error.log:" >&2; tail -5 "$DIR/nginx/error.log" >&2; exit 1; }
        [ "$waited" -lt 300 ] || { echo "no answer through nginx on 127.0.0.1:$PORT within 30 s" >&2; exit 1; }
        sleep 0.1
    done
    STARTED=yes
    echo "$COUNT instances on 127.0.0.1:$((PORT + 1))-$((PORT + COUNT)), PostgreSQL at $URL, logs in $DIR" >&2
    echo "http://127.0.0.1:$PORT"
    ;;
stop)
    stop_recorded
    if [ -f "$DIR/postgres/postmaster.pid" ]; then bash "$ROOT/scripts/postgres.sh" stop "$DIR/postgres"; fi
    ;;
*)
    echo "usage: $0 start|stop DIR [N] [PORT]" >&2; exit 2
    ;;
esac
