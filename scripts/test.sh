#!/usr/bin/env bash
# One command: install what is missing, then run the whole test suite on SQLite and,
# where a PostgreSQL server is reachable, again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

PG_URL=${LMS_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/lms_test}
pg_ready=0
if .venv/bin/python scripts/ensure_test_database.py "$PG_URL"; then
  pg_ready=1
elif [ "${CI:-}" = "true" ]; then
  echo "CI expects PostgreSQL at $PG_URL, but it is not reachable." >&2
  exit 1
fi

run_suite() {
  local label=$1; shift
  echo "=== test suite on $label ==="
  set +e
  "$@" .venv/bin/python -m pytest "${PYTEST_ARGS[@]}"
  local status=$?
  set -e
  if [ $status -eq 5 ]; then
    echo "No tests ran on $label: treating as a failure." >&2
    exit 1
  fi
  [ $status -eq 0 ] || exit $status
}

PYTEST_ARGS=("$@")
run_suite SQLite env LMS_TEST_DATABASE_URL=
if [ $pg_ready -eq 1 ]; then
  run_suite PostgreSQL env LMS_TEST_DATABASE_URL="$PG_URL"
fi
