"""personal data encrypted (placeholder, filled by the privacy work)

Revision ID: 9a03_personal_data
Revises: 9a02_sign_in_sessions
Create Date: 2026-11-23 19:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9a03_personal_data'
down_revision = '9a02_sign_in_sessions'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
