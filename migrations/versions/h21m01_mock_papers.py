"""a mock exam paper is recorded once

Revision ID: h21m01_mock_papers
Revises: h21b01_link_browser
Create Date: 2026-12-07 14:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h21m01_mock_papers'
down_revision = 'h21b01_link_browser'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quiz_mock_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('paper_digest', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('fallback', sa.Boolean(), nullable=False),
    sa.Column('rows', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_quiz_mock_submissions_course_id_courses')),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'],
                            name=op.f('fk_quiz_mock_submissions_learner_id_learners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_mock_submissions')),
    sa.UniqueConstraint('paper_digest', name=op.f('uq_quiz_mock_submissions_paper_digest'))
    )
    with op.batch_alter_table('quiz_mock_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_mock_submissions_learner_id'), ['learner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('quiz_mock_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_mock_submissions_learner_id'))
    op.drop_table('quiz_mock_submissions')
