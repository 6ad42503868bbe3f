#!/bin/sh
# The whole suite, on every database named in TEST_DB (default: sqlite postgres). Extra arguments go to pytest.
# Installs what the tests need from Debian (PostgreSQL, chromium, CJK fonts, Pango, poppler) when missing, as root.
# The PostgreSQL pass starts a throwaway cluster on a free port of 127.0.0.1 (or AFTERSALES_TEST_PGPORT)
# and always stops and removes it, whatever happens to the tests.
set -eu
cd "$(dirname "$0")/.."
TEST_DB=${TEST_DB:-sqlite postgres}
PYTHON=".venv/bin/python"
PYTEST=".venv/bin/pytest"

passes=0
for db in $TEST_DB; do
  case "$db" in
    sqlite|postgres) passes=$((passes + 1)) ;;
    *) echo "unknown TEST_DB entry: $db (use sqlite and/or postgres)" >&2; exit 2 ;;
  esac
done
if [ "$passes" -eq 0 ]; then echo "TEST_DB names no database (use sqlite and/or postgres)" >&2; exit 2; fi

installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"            # the browser tests launch /usr/bin/chromium
installed fonts-noto-cjk || need="$need fonts-noto-cjk"      # without it Chinese renders as tofu in screenshots
installed libatomic1 || need="$need libatomic1"              # Playwright's bundled node driver links it; chromium doesn't pull it in
installed poppler-utils || need="$need poppler-utils"        # the PDF tests read text (pdftotext) and draw pages (pdftoppm)
for lib in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do  # WeasyPrint's system libraries (the PDF forms)
  installed $lib || need="$need $lib"
done
case " $TEST_DB " in *" postgres "*) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql" ;; esac
if [ -n "$need" ]; then
  echo "== installing Debian packages:$need"
  if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install:$need" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

# Everything this run creates outside the work tree goes away on exit, also on failure or Ctrl-C.
CREATED_DATA_DIR=""
if [ -z "${AFTERSALES_DATA_DIR:-}" ]; then
  CREATED_DATA_DIR=$(mktemp -d /tmp/aftersales-test-data.XXXXXX)
  AFTERSALES_DATA_DIR=$CREATED_DATA_DIR
fi
export AFTERSALES_DATA_DIR
PGDIR=""
cleanup() {
  if [ -n "$PGDIR" ]; then sh scripts/pg-down.sh "$PGDIR"; PGDIR=""; fi
  if [ -n "$CREATED_DATA_DIR" ]; then rm -rf "$CREATED_DATA_DIR"; CREATED_DATA_DIR=""; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  $PYTHON -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A throwaway cluster in PGDIR on PG_PORT: AFTERSALES_TEST_PGPORT if set, else a free port
# (one that was free a moment ago may be taken by the time PostgreSQL binds it: then try another).
start_postgres() {
  PGDIR=$(mktemp -d /tmp/aftersales-pg.XXXXXX)
  tries=1
  while :; do
    PG_PORT=${AFTERSALES_TEST_PGPORT:-$(free_port)}
    if sh scripts/pg-up.sh "$PGDIR" "$PG_PORT"; then return 0; fi
    if [ -n "${AFTERSALES_TEST_PGPORT:-}" ] || [ "$tries" -ge 3 ]; then
      echo "could not start PostgreSQL on 127.0.0.1:$PG_PORT; its log:" >&2
      cat "$PGDIR/server.log" >&2 || true
      return 1
    fi
    tries=$((tries + 1))
    sh scripts/pg-down.sh "$PGDIR"  # stops whatever started and empties the directory for the next try
  done
}

# pytest exits 5 when it ran no tests (none collected, or all deselected); the run fails then, it must not pass.
run_pytest() {
  output="test-results/$1"; shift
  rc=0
  "$PYTEST" --output "$output" "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then echo "== pytest ran no tests (exit 5): that is a failure" >&2; fi
  return "$rc"
}

status=0
for db in $TEST_DB; do
  started=$(date +%s)
  case "$db" in
    sqlite)
      echo "== test suite on SQLite"
      export AFTERSALES_DB=sqlite
      run_pytest sqlite "$@" || status=$?
      unset AFTERSALES_DB
      ;;
    postgres)
      echo "== test suite on PostgreSQL"
      start_postgres
      export AFTERSALES_DB=postgres AFTERSALES_DB_HOST=127.0.0.1 AFTERSALES_DB_PORT=$PG_PORT AFTERSALES_DB_USER=postgres
      # Show what the suite really talks to, through Django's own settings (and fail early if it can't connect).
      # The "postgres" maintenance database, as pytest-django does before it creates test_<NAME>.
      DJANGO_SETTINGS_MODULE=aftersales.settings $PYTHON -c '
import django; django.setup()
import psycopg
from django.db import connection
db = connection.settings_dict
with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname="postgres") as pg:
    version = pg.execute("SELECT version()").fetchone()[0].split(" on ")[0]
print("== Django database: %s (%s) at %s:%s, tests use test_%s" % (connection.vendor, version, db["HOST"], db["PORT"], db["NAME"]))
'
      run_pytest postgres "$@" || status=$?
      unset AFTERSALES_DB AFTERSALES_DB_HOST AFTERSALES_DB_PORT AFTERSALES_DB_USER
      sh scripts/pg-down.sh "$PGDIR"; PGDIR=""
      ;;
  esac
  echo "== $db pass: $(( $(date +%s) - started )) s"
done
exit $status
