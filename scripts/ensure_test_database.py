"""Create the PostgreSQL test database if the server is reachable; exit 1 if it is not."""
import sys
from urllib.parse import urlsplit

import psycopg

url = sys.argv[1]
name = urlsplit(url).path.lstrip("/")
admin_url = url.rsplit("/", 1)[0] + "/postgres"
try:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
except psycopg.OperationalError as error:
    print(f"PostgreSQL not reachable at {admin_url}: {error}".strip(), file=sys.stderr)
    sys.exit(1)
