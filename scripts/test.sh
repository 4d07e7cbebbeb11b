#!/usr/bin/env bash
# One command: install what is missing, lint, then run the whole test suite on SQLite and, where a
# PostgreSQL server is reachable, again on PostgreSQL without the browser tests (they test the page; the
# service and HTTP tests cover both databases). The two passes run at the same time, on pytest-xdist workers
# that steal work from each other: 3 on SQLite, whose browser tests mostly wait on the clock, and 2 on
# PostgreSQL; LMS_TEST_WORKERS sets both. Extra arguments go to pytest, e.g. `bash scripts/test.sh -k audit`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

echo "=== ruff ==="
.venv/bin/ruff check .

PG_URL=${LMS_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/lms_test}
pg_name=$(.venv/bin/python -c 'import sys; from sqlalchemy.engine import make_url; print(make_url(sys.argv[1]).database or "")' "$PG_URL")
if [[ "$pg_name" != *_test ]]; then
  echo "LMS_TEST_POSTGRES_URL names the database '$pg_name': the tests drop and recreate its schema, so its" \
       "name must end in _test." >&2
  exit 1
fi
pg_ready=0
if .venv/bin/python scripts/ensure_test_database.py "$PG_URL"; then
  pg_ready=1
elif [ "${CI:-}" = "true" ]; then
  echo "CI expects PostgreSQL at $PG_URL, but it is not reachable." >&2
  exit 1
fi

judge() {
  local label=$1 status=$2
  if [ "$status" -eq 5 ]; then
    echo "No tests ran on $label: treating as a failure." >&2
    return 1
  fi
  [ "$status" -eq 0 ] || echo "The test suite failed on $label (pytest exit status $status)." >&2
  return "$status"
}

PYTEST=(.venv/bin/python -m pytest --dist worksteal --durations=15)
pg_status=0
if [ $pg_ready -eq 1 ]; then
  # The PostgreSQL pass runs alongside the SQLite pass, whose browser tests mostly wait; at a lower priority,
  # so that a browser test gets the CPU when its page and fake camera need it. Its output follows.
  pg_log=$(mktemp)
  echo "PostgreSQL: every worker drops and recreates the schema of its database ${pg_name}_gw<N>_test" \
       "(made from $PG_URL; only names ending in _test are used). It runs now; its output follows SQLite's."
  nice -n 10 env LMS_TEST_DATABASE_URL="$PG_URL" "${PYTEST[@]}" -n "${LMS_TEST_WORKERS:-2}" -m "not browser" "$@" \
    > "$pg_log" 2>&1 &
  pg_pid=$!
  trap 'kill $pg_pid 2>/dev/null || true; rm -f "$pg_log"' EXIT
fi

echo "=== test suite on SQLite ==="
set +e
env LMS_TEST_DATABASE_URL= "${PYTEST[@]}" -n "${LMS_TEST_WORKERS:-3}" "$@"
sqlite_status=$?
if [ $pg_ready -eq 1 ]; then
  wait $pg_pid
  pg_status=$?
  echo "=== test suite on PostgreSQL (without the browser tests) ==="
  cat "$pg_log"
fi
set -e
judge SQLite $sqlite_status && sqlite_ok=1 || sqlite_ok=0
if [ $pg_ready -eq 1 ]; then judge PostgreSQL $pg_status && pg_ok=1 || pg_ok=0; else pg_ok=1; fi
[ $sqlite_ok -eq 1 ] && [ $pg_ok -eq 1 ]
