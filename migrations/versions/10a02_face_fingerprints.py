"""Fingerprints of captured frames and photos, to refuse replays

Revision ID: 10a02_face_fingerprints
Revises: 10a01_check_context
"""
from alembic import op
import sqlalchemy as sa

revision = '10a02_face_fingerprints'
down_revision = '10a01_check_context'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('face_fingerprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('phash', sa.BigInteger(), nullable=False),
    sa.Column('patch', sa.LargeBinary(), nullable=False),
    sa.Column('geometry', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['face_check_attempts.id'],
                            name=op.f('fk_face_fingerprints_attempt_id_face_check_attempts')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['face_enrolments.id'],
                            name=op.f('fk_face_fingerprints_enrolment_id_face_enrolments')),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_face_fingerprints_learner_id_learners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_face_fingerprints'))
    )
    with op.batch_alter_table('face_fingerprints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_fingerprints_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_fingerprints_digest'), ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_fingerprints_learner_id'), ['learner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('face_fingerprints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_face_fingerprints_learner_id'))
        batch_op.drop_index(batch_op.f('ix_face_fingerprints_digest'))
        batch_op.drop_index(batch_op.f('ix_face_fingerprints_created_at'))
    op.drop_table('face_fingerprints')
