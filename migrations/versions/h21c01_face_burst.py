"""a camera challenge takes a dense burst of frames after the prompt

Revision ID: h21c01_face_burst
Revises: h21p01_print_version
Create Date: 2026-12-07 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h21c01_face_burst'
down_revision = 'h21p01_print_version'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('face_challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('burst_interval_ms', sa.Integer(), server_default='80', nullable=False))


def downgrade():
    with op.batch_alter_table('face_challenges', schema=None) as batch_op:
        batch_op.drop_column('burst_interval_ms')
