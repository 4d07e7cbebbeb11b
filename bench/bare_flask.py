"""The anchor of bench/heartbeat_bench.py: a bare Flask app with the platform's no-op JSON endpoint
and nothing else (no extension, no hook), served by gunicorn with the same gunicorn.conf.py.

    .venv/bin/gunicorn -c gunicorn.conf.py --pythonpath bench bare_flask:app
"""
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/api/ping")
def ping():
    return jsonify(ok=True)
