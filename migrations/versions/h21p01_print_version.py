"""face fingerprints record how they were normalised (version 1: similarity, 2: affine)

Revision ID: h21p01_print_version
Revises: h21m01_mock_papers
Create Date: 2026-12-07 17:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h21p01_print_version'
down_revision = 'h21m01_mock_papers'
branch_labels = None
depends_on = None


def upgrade():
    # Rows already stored were made by the similarity-normalised print: version 1.
    with op.batch_alter_table('face_fingerprints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.SmallInteger(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('face_fingerprints', schema=None) as batch_op:
        batch_op.drop_column('version')
