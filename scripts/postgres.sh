#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for the tests, the benchmarks and trying Agora by hand.
#   scripts/postgres.sh start DIR [PORT]   creates a cluster in DIR (once) and starts it on
#                                          127.0.0.1:PORT (default 54329); prints its URL
#   scripts/postgres.sh stop DIR           stops it
# Needs Debian's postgresql package (initdb and pg_ctl under /usr/lib/postgresql/*/bin). The
# server refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail
COMMAND=${1:?start or stop}
DIR=${2:?a directory for the cluster}
PORT=${3:-54329}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/initdb" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$COMMAND" in
start)
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    if [ ! -f "$DIR/PG_VERSION" ]; then
        as_owner "$BIN/initdb" -D "$DIR" -U agora --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
        # Tests create a database each and several servers connect at once; durability stays on.
        cat >> "$DIR/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
max_connections = 300
shared_buffers = 256MB
EOF
    fi
    as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 start >/dev/null
    echo "postgres://agora@127.0.0.1:$PORT/postgres"
    ;;
stop)
    as_owner "$BIN/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null
    ;;
*)
    echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2
    ;;
esac
