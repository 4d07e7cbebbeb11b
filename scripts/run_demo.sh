#!/usr/bin/env bash
# One command: install what is missing, create the SQLite database, load demo data,
# print the demo logins and serve the platform on http://127.0.0.1:8000 under gunicorn,
# with the background worker that transcodes uploaded videos.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export FLASK_APP=wsgi.py
.venv/bin/flask db upgrade
.venv/bin/flask lms seed-reference
.venv/bin/flask lms seed-demo
.venv/bin/flask lms worker --once      # transcode the demo lessons before the first visitor
.venv/bin/flask lms publish-demo
.venv/bin/flask lms worker &           # later uploads are transcoded in the background
worker=$!
trap 'kill $worker 2>/dev/null' EXIT
echo "Serving on http://127.0.0.1:8000 (Ctrl+C to stop)"
# gunicorn.conf.py: 2 threaded workers, so that a learner's video download holds one thread and
# heartbeats go on being answered (the benchmarks start gunicorn with the same file).
.venv/bin/gunicorn -c gunicorn.conf.py --access-logfile - wsgi:app
