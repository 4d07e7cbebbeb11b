"""A one-time link is bound to the browser that opened it first

Revision ID: h21b01_link_browser
Revises: h21d01_no_plain_birth_year
"""
from alembic import op
import sqlalchemy as sa

revision = 'h21b01_link_browser'
down_revision = 'h21d01_no_plain_birth_year'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('one_time_tokens') as batch:
        batch.add_column(sa.Column('opened_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('opened_by_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('one_time_tokens') as batch:
        batch.drop_column('opened_by_hash')
        batch.drop_column('opened_at')
