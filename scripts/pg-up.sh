#!/bin/sh
# pg-up.sh DIR PORT: a disposable PostgreSQL cluster on 127.0.0.1:PORT (run as root or as postgres).
set -eu
DIR=$1; PORT=$2
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$DIR"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$DIR"; chmod 700 "$DIR"
  AS="runuser -u postgres --"
else
  AS=""
fi
$AS "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 -N >"$DIR/initdb.log"
$AS "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
echo "PostgreSQL $($PGBIN/postgres --version | awk '{print $3}') on 127.0.0.1:$PORT"
