#!/bin/sh
# pg-down.sh DIR: stop and remove the cluster started by pg-up.sh.
set -u
DIR=$1
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
if [ "$(id -u)" -eq 0 ]; then AS="runuser -u postgres --"; else AS=""; fi
$AS "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1
rm -rf "$DIR"
