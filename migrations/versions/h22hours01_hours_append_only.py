"""hours_entries is append-only in the database too: triggers refuse UPDATE and DELETE

Revision ID: h22hours01_hours_append_only
Revises: h21c01_face_burst
Create Date: 2026-12-07 21:10:00

The app's session already refuses to change or delete a ledger row (lms.hours.models.guard_ledger);
these triggers refuse it to anyone with SQL access through the app's role, as audit_log's does on
PostgreSQL. On SQLite a trigger belongs to its table: a later batch migration that rebuilds
hours_entries must create these triggers again.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'h22hours01_hours_append_only'
down_revision = 'h21c01_face_burst'
branch_labels = None
depends_on = None

MESSAGE = "hours_entries is append-only"


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"""
            CREATE FUNCTION hours_entries_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER hours_entries_no_change BEFORE UPDATE OR DELETE ON hours_entries
            FOR EACH ROW EXECUTE FUNCTION hours_entries_append_only();
        """)
    elif dialect == "sqlite":  # one trigger per event
        for event in ("update", "delete"):
            op.execute(f"""
                CREATE TRIGGER hours_entries_no_{event} BEFORE {event.upper()} ON hours_entries
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
            """)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS hours_entries_no_change ON hours_entries;"
                   "DROP FUNCTION IF EXISTS hours_entries_append_only();")
    elif dialect == "sqlite":
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS hours_entries_no_{event}")
