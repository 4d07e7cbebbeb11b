"""learners.birth_year dropped: with the district and the last characters a certificate shows, a
readable birth year narrowed an ID number to about 30 candidates. The year is read from the
encrypted birth date instead.

Revision ID: h21d01_no_plain_birth_year
Revises: 14a01_hours
Create Date: 2026-12-07 14:40:00

"""
from datetime import date

from alembic import op
import sqlalchemy as sa

from lms.core.crypto import cipher


revision = 'h21d01_no_plain_birth_year'
down_revision = '14a01_hours'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    secure_delete = _overwrite_deleted_content(True)
    # DROP COLUMN (SQLite 3.35+ and PostgreSQL), not batch_alter_table: see 9a03_personal_data.
    op.drop_column('learners', 'birth_year')
    _overwrite_deleted_content(secure_delete)


def downgrade():
    """The readable year comes back, from the encrypted birth dates."""
    op.add_column('learners', sa.Column('birth_year', sa.Integer(), nullable=True))
    learners = sa.table('learners', sa.column('id', sa.Integer()), sa.column('birth_date', sa.Text()),
                        sa.column('birth_year', sa.Integer()))
    statement = learners.update().where(learners.c.id == sa.bindparam('b_id')).values(
        birth_year=sa.bindparam('b_year'))
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(sa.select(learners.c.id, learners.c.birth_date).where(learners.c.id > last_id)
                                  .order_by(learners.c.id).limit(BATCH)).all()
        if not rows:
            break
        updates = [{'b_id': row_id, 'b_year': date.fromisoformat(cipher().decrypt_text(sealed)).year}
                   for row_id, sealed in rows if sealed is not None]
        if updates:
            connection.execute(statement, updates)
        last_id = rows[-1][0]


def _overwrite_deleted_content(on):
    """SQLite keeps dropped values in free pages of the file; secure_delete zeroes them (see 9a03).
    Returns the old setting."""
    connection = op.get_bind()
    if connection.dialect.name != 'sqlite':
        return None
    before = connection.exec_driver_sql('PRAGMA secure_delete').scalar()
    if on is not None:
        connection.exec_driver_sql(f'PRAGMA secure_delete = {int(bool(on))}')
    return before
