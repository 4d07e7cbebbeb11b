"""A server challenge (nonce, action, deadline) per face-check attempt

Revision ID: 10a03_face_challenges
Revises: 10a02_face_fingerprints
"""
from alembic import op
import sqlalchemy as sa

revision = '10a03_face_challenges'
down_revision = '10a02_face_fingerprints'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'face_challenges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('check_id', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('prompt_frame', sa.Integer(), nullable=False),
        sa.Column('frame_count', sa.Integer(), nullable=False),
        sa.Column('reaction_frames', sa.Integer(), nullable=False),
        sa.Column('interval_ms', sa.Integer(), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('deadline', sa.DateTime(), nullable=False),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['check_id'], ['face_checks.id'], name=op.f('fk_face_challenges_check_id_face_checks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_face_challenges')),
        sa.UniqueConstraint('nonce', name=op.f('uq_face_challenges_nonce')),
    )
    with op.batch_alter_table('face_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_challenges_check_id'), ['check_id'], unique=False)
    with op.batch_alter_table('face_check_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('challenge_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_face_check_attempts_challenge_id_face_challenges'),
                                    'face_challenges', ['challenge_id'], ['id'])


def downgrade():
    with op.batch_alter_table('face_check_attempts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_face_check_attempts_challenge_id_face_challenges'), type_='foreignkey')
        batch_op.drop_column('challenge_id')
    with op.batch_alter_table('face_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_face_challenges_check_id'))
    op.drop_table('face_challenges')
