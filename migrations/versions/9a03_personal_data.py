"""personal data that rebuilds an ID number: birth date, gender, work unit and previous certificate
numbers encrypted, birth year kept for statistics, the operation log names learners by id

Revision ID: 9a03_personal_data
Revises: 9a02_sign_in_sessions
Create Date: 2026-11-23 19:20:00

"""
from datetime import date

from alembic import op
import sqlalchemy as sa

from lms.core.crypto import cipher


revision = '9a03_personal_data'
down_revision = '9a02_sign_in_sessions'
branch_labels = None
depends_on = None

BATCH = 500

# (table, column, plaintext type, nullable). Each becomes AES-GCM text (lms.core.types).
SEALED = (
    ('learners', 'birth_date', sa.Date(), True),
    ('learners', 'gender', sa.String(length=1), True),
    ('learners', 'work_unit', sa.String(length=128), False),
    ('applications', 'previous_certificate_no', sa.String(length=32), True),
)


def upgrade():
    secure_delete = _overwrite_deleted_content(True)
    op.add_column('learners', sa.Column('birth_year', sa.Integer(), nullable=True))
    for table, column, plain_type, nullable in SEALED:
        _replace_column(table, column, sa.Text(), nullable, _sealer(plain_type),
                        also=_birth_year if column == 'birth_date' else None)
    _name_learners_by_id_in_the_log()
    _overwrite_deleted_content(secure_delete)


def downgrade():
    # The operation log keeps "learner:<id>": the masked numbers it held are not brought back.
    for table, column, plain_type, nullable in reversed(SEALED):
        _replace_column(table, column, plain_type, nullable, _opener(plain_type))
    op.drop_column('learners', 'birth_year')


# --- one column at a time ------------------------------------------------------------------------
#
# Not op.batch_alter_table: on SQLite that copies the table, drops the original and renames the
# copy, and dropping "learners" fails while applications (and more) refer to it, since the app
# turns SQLite's foreign keys on. A new column, filled in batches, then DROP COLUMN and RENAME
# COLUMN works on SQLite (3.35+) and PostgreSQL alike and keeps memory bounded.

def _replace_column(table, column, new_type, nullable, convert, also=None):
    staging = f'{column}_new'
    # A NOT NULL column added to a table with rows needs a default: PostgreSQL drops it again below,
    # SQLite keeps it (removing it would mean copying the table; the models never rely on it).
    op.add_column(table, sa.Column(staging, new_type, nullable=nullable,
                                   server_default=None if nullable else ''))
    source = sa.table(table, sa.column('id', sa.Integer()), sa.column(column, _old_type(table, column)))
    target = sa.table(table, sa.column('id', sa.Integer()), sa.column(staging, new_type),
                      sa.column('birth_year', sa.Integer()))
    sets = {staging: sa.bindparam('b_value', type_=new_type)}
    if also is not None:
        sets['birth_year'] = sa.bindparam('b_year', type_=sa.Integer())
    statement = target.update().where(target.c.id == sa.bindparam('b_id')).values(sets)
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(sa.select(source.c.id, source.c[column]).where(source.c.id > last_id)
                                  .order_by(source.c.id).limit(BATCH)).all()
        if not rows:
            break
        connection.execute(statement, [{'b_id': row_id, 'b_value': convert(value),
                                        **(also(value) if also else {})} for row_id, value in rows])
        last_id = rows[-1][0]
    op.drop_column(table, column)
    op.execute(f'ALTER TABLE {table} RENAME COLUMN {staging} TO {column}')
    if not nullable and connection.dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT')


def _old_type(table, column):
    """The type the column has now: plaintext before the upgrade, ciphertext (text) after it."""
    inspector = sa.inspect(op.get_bind())
    found = next(c['type'] for c in inspector.get_columns(table) if c['name'] == column)
    return sa.Date() if isinstance(found, sa.Date) else sa.Text()


def _sealer(plain_type):
    def seal(value):
        if value is None:
            return None
        if isinstance(plain_type, sa.Date):
            value = _as_date(value).isoformat()  # as lms.core.types.EncryptedDate stores it
        return cipher().encrypt_text(str(value))
    return seal


def _opener(plain_type):
    def open_(value):
        if value is None:
            return None
        plain = cipher().decrypt_text(value)
        return date.fromisoformat(plain) if isinstance(plain_type, sa.Date) else plain
    return open_


def _birth_year(value):
    return {'b_year': None if value is None else _as_date(value).year}


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- the operation log ---------------------------------------------------------------------------

def _name_learners_by_id_in_the_log():
    """Learner rows named the actor by the masked ID number (first and last four digits), and a
    sign-in for an unknown account kept the first four characters typed (often an ID number).

    The ORM refuses to change AuditLog rows and PostgreSQL has a trigger that refuses it too; this
    one-off redaction by the schema owner is plain SQL with the trigger off for its duration."""
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change')
    op.execute("UPDATE audit_log SET actor = 'learner:' || CAST((SELECT learners.id FROM learners "
               "WHERE learners.user_id = audit_log.user_id) AS VARCHAR(20)) "
               "WHERE role = 'learner' AND user_id IN (SELECT user_id FROM learners)")
    op.execute("UPDATE audit_log SET target = 'unknown' WHERE action = 'login' AND detail = 'unknown_account'")
    if postgres:
        op.execute('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change')


def _overwrite_deleted_content(on):
    """SQLite keeps deleted values in free pages of the file; secure_delete zeroes them, so the
    plaintext replaced here does not stay readable in the database file. Returns the old setting."""
    connection = op.get_bind()
    if connection.dialect.name != 'sqlite':
        return None
    before = connection.exec_driver_sql('PRAGMA secure_delete').scalar()
    if on is not None:
        connection.exec_driver_sql(f'PRAGMA secure_delete = {int(bool(on))}')
    return before
