"""sessions and sign-in (placeholder, filled by the sign-in work)

Revision ID: 9a02_sign_in_sessions
Revises: 9a01_face_check_owner
Create Date: 2026-11-23 19:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9a02_sign_in_sessions'
down_revision = '9a01_face_check_owner'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
