"""Flask extension instances, bound to the app in the factory."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Stable constraint names keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


def tune_sqlite(engine) -> None:
    """WAL lets readers work while one writer commits, and NORMAL sync skips an fsync
    per commit (still crash-safe in WAL mode); busy_timeout queues writers instead of failing."""
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# A pooled connection unused for this long is pinged before use (a database restart or a dropped
# network link shows there); one in steady use is not.
PING_AFTER_IDLE_SECONDS = 10.0


def ping_idle_connections(engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """pool_pre_ping, but only for connections idle longer than ``idle_seconds``.

    pool_pre_ping pings on every checkout: on PostgreSQL one more round trip on every request (a
    third of the signed-in no-op's, issue 22). A connection that went stale is one that sat idle;
    one handed back a moment ago is alive. A failed ping raises DisconnectionError, on which the
    pool discards the connection and opens a fresh one, as pool_pre_ping does. SQLite needs none."""
    import time

    from sqlalchemy import event, exc

    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "checkin")
    def _note_checkin(_dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        checked_in = record.info.get("checked_in_at")
        if checked_in is not None and time.monotonic() - checked_in < idle_seconds:
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        except Exception as error:  # whatever the driver raises for a dead connection
            raise exc.DisconnectionError() from error
        finally:
            try:
                cursor.close()
            except Exception:  # noqa: S110 - the cursor of a dead connection may refuse to close
                pass
