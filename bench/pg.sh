#!/bin/sh
# The benchmark's PostgreSQL cluster for data size N: bench/data/pg-N/ (gitignored), on 127.0.0.1.
#
#   sh bench/pg.sh up N       # initdb if needed, start (port: BENCH_PGPORT, else the last one if free, else a free
#                             # one; written to bench/data/pg-N/port), create the database "aftersales"
#   sh bench/pg.sh status N   # exit 0 when running; prints the port
#   sh bench/pg.sh down N     # stop, keep the data
#   sh bench/pg.sh rm N       # stop and remove bench/data/pg-N/
#
# As scripts/pg-up.sh: trust authentication for user postgres, run as postgres when called as root. Unlike it
# (a throwaway cluster for tests), fsync and full-page writes stay on; commits do not wait for their WAL flush
# (synchronous_commit=off), the same durability as the SQLite runs (WAL, synchronous=NORMAL).
# generate.py --db postgres and run.py --db postgres call `up` themselves and `down` again if they started it.
set -eu
CMD=${1:-}; N=${2:-}
if [ -z "$CMD" ] || [ -z "$N" ]; then
  echo "usage: sh bench/pg.sh up|status|down|rm N" >&2; exit 2
fi
BENCH=$(cd "$(dirname "$0")" && pwd)
DIR=$BENCH/data/pg-$N
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$PGBIN/initdb" ] || PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "PostgreSQL is not installed (as root: apt-get install -y postgresql)" >&2; exit 1
fi
if [ "$(id -u)" -eq 0 ]; then AS="runuser -u postgres --"; else AS=""; fi
DATABASE=aftersales
# Beyond the defaults: room for the 1M data set and its load (index builds, WAL between checkpoints).
SETTINGS="-c shared_buffers=512MB -c maintenance_work_mem=512MB -c max_wal_size=4GB -c synchronous_commit=off"

running() { [ -f "$DIR/data/PG_VERSION" ] && $AS "$PGBIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; }
port_free() {
  "$BENCH/../.venv/bin/python" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}
free_port() {
  "$BENCH/../.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$CMD" in
  up)
    if ! running; then
      if [ ! -f "$DIR/data/PG_VERSION" ]; then
        mkdir -p "$DIR"
        [ -z "$AS" ] || chown postgres:postgres "$DIR"
        chmod 700 "$DIR"
        $AS "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log"
      fi
      PORT=${BENCH_PGPORT:-}
      if [ -z "$PORT" ] && [ -f "$DIR/port" ] && port_free "$(cat "$DIR/port")"; then PORT=$(cat "$DIR/port"); fi
      [ -n "$PORT" ] || PORT=$(free_port)
      $AS "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR $SETTINGS" >/dev/null \
        || { echo "PostgreSQL did not start; its log:" >&2; tail -20 "$DIR/server.log" >&2; exit 1; }
      echo "$PORT" >"$DIR/port"
    fi
    PORT=$(cat "$DIR/port")
    if [ -z "$($PGBIN/psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]; then
      "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DATABASE"
    fi
    echo "PostgreSQL $($PGBIN/postgres --version | awk '{print $3}') on 127.0.0.1:$PORT, database $DATABASE ($DIR)"
    ;;
  status)
    if running; then cat "$DIR/port"; else echo "not running ($DIR)" >&2; exit 1; fi
    ;;
  down)
    if running; then $AS "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null; fi
    ;;
  rm)
    if running; then $AS "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null; fi
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: sh bench/pg.sh up|status|down|rm N" >&2; exit 2
    ;;
esac
