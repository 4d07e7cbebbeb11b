"""face_checks.owner_institution_id: the institution whose context asked for the check

Revision ID: 9a01_face_check_owner
Revises: 47aac7323dff
Create Date: 2026-11-23 19:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9a01_face_check_owner'
down_revision = '47aac7323dff'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('face_checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_institution_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_face_checks_owner_institution_id'), ['owner_institution_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_face_checks_owner_institution_id_institutions'),
                                    'institutions', ['owner_institution_id'], ['id'])
    # Checks asked for by the player belong to the institution of the lesson's course.
    op.execute("UPDATE face_checks SET owner_institution_id = (SELECT courses.institution_id FROM lessons "
               "JOIN courses ON courses.id = lessons.course_id WHERE lessons.id = face_checks.lesson_id) "
               "WHERE lesson_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('face_checks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_face_checks_owner_institution_id_institutions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_face_checks_owner_institution_id'))
        batch_op.drop_column('owner_institution_id')
