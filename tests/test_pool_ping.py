"""Pooled connections on PostgreSQL are pinged before use only after sitting idle
(lms.extensions.ping_idle_connections): a connection whose server process went away meanwhile is
replaced, not handed to a request."""
import pytest
from sqlalchemy import create_engine, text

from lms.extensions import ping_idle_connections


@pytest.fixture()
def engine(app):
    from lms.extensions import db
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() != "postgresql":
        pytest.skip("pings are for a database across a connection (SQLite needs none)")
    made = create_engine(url, pool_size=1, max_overflow=0)
    yield made
    made.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(engine, pid: int) -> None:
    with engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_an_idle_connection_whose_server_process_died_is_replaced(engine):
    ping_idle_connections(engine, idle_seconds=0)
    before = _backend_pid(engine)
    killer = create_engine(engine.url)
    try:
        _terminate(killer, before)
    finally:
        killer.dispose()
    assert _backend_pid(engine) != before  # the ping failed, the pool opened a fresh connection


def test_a_connection_in_steady_use_is_not_pinged(engine):
    ping_idle_connections(engine, idle_seconds=60)
    from psycopg.pq import TransactionStatus
    _backend_pid(engine)  # opened (and pinged once, being new), then handed back
    with engine.connect() as connection:
        status = connection.connection.dbapi_connection.info.transaction_status
    assert status == TransactionStatus.IDLE  # a ping (SELECT 1) would have opened a transaction
