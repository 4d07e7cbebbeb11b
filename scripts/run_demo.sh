#!/usr/bin/env bash
# One command: install what is missing, create the SQLite database, load demo data,
# print the demo logins and serve the platform on http://127.0.0.1:8000 under gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export FLASK_APP=wsgi.py
.venv/bin/flask db upgrade
.venv/bin/flask lms seed-reference
.venv/bin/flask lms seed-demo
echo "Serving on http://127.0.0.1:8000 (Ctrl+C to stop)"
exec .venv/bin/gunicorn --workers 2 --bind 127.0.0.1:8000 --access-logfile - wsgi:app
