#!/bin/sh
# The whole suite, on every database named in TEST_DB (default: sqlite postgres).
# Installs what the tests need from Debian (PostgreSQL, chromium, CJK fonts) when missing, as root.
set -eu
cd "$(dirname "$0")/.."
TEST_DB=${TEST_DB:-sqlite postgres}
PYTEST=".venv/bin/pytest"

need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
[ -d /usr/share/fonts/opentype/noto ] || need="$need fonts-noto-cjk"
case " $TEST_DB " in *" postgres "*) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql" ;; esac
if [ -n "$need" ]; then
  echo "== installing Debian packages:$need"
  if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install:$need" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi

export AFTERSALES_DATA_DIR="${AFTERSALES_DATA_DIR:-$(mktemp -d)}"
status=0
for db in $TEST_DB; do
  case "$db" in
    sqlite)
      echo "== test suite on SQLite"
      AFTERSALES_DB=sqlite $PYTEST "$@" || status=$?
      ;;
    postgres)
      echo "== test suite on PostgreSQL"
      PGDIR=$(mktemp -d /tmp/aftersales-pg.XXXXXX)
      PGPORT=${AFTERSALES_TEST_PGPORT:-55432}
      sh scripts/pg-up.sh "$PGDIR" "$PGPORT"
      AFTERSALES_DB=postgres AFTERSALES_DB_PORT=$PGPORT $PYTEST "$@" || status=$?
      sh scripts/pg-down.sh "$PGDIR"
      ;;
    *) echo "unknown TEST_DB entry: $db (use sqlite and/or postgres)" >&2; exit 2 ;;
  esac
done
exit $status
