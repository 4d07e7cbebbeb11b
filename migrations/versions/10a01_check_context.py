"""Face checks know their context only as kind, id and details

Revision ID: 10a01_check_context
Revises: 9a03_personal_data
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '10a01_check_context'
down_revision = '9a03_personal_data'
branch_labels = None
depends_on = None


LESSON_FK = 'fk_face_checks_lesson_id_lessons'


def upgrade():
    with op.batch_alter_table('face_checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context_details', sa.Text(), server_default='{}', nullable=False))
    _details_from_lessons()
    with op.batch_alter_table('face_checks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(LESSON_FK), type_='foreignkey')
        batch_op.drop_column('position')
        batch_op.drop_column('lesson_id')


def _details_from_lessons():
    """The lesson and video position a check was asked at become its details, as the player now
    writes them (lms/player/checks.py), with the lesson's and course's titles for display."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT face_checks.id, face_checks.lesson_id, face_checks.position, lessons.title, courses.title "
        "FROM face_checks LEFT JOIN lessons ON lessons.id = face_checks.lesson_id "
        "LEFT JOIN courses ON courses.id = lessons.course_id "
        "WHERE face_checks.lesson_id IS NOT NULL OR face_checks.position IS NOT NULL")).all()
    updates = [{"id": check_id, "details": _dumps({"lesson_id": lesson_id, "position": position,
                                                   **_shown(course_title, lesson_title, position)})}
               for check_id, lesson_id, position, lesson_title, course_title in rows]
    if updates:
        connection.execute(sa.text("UPDATE face_checks SET context_details = :details WHERE id = :id"), updates)


def _shown(course_title, lesson_title, position) -> dict:
    """As lms.player.checks.display_details wrote it when this migration was made (copied: a migration
    must not change when the application does)."""
    shown = {"title": f"{course_title} · {lesson_title}"} if lesson_title else {}
    if position is not None:
        shown["where"] = "{:d}:{:02d}".format(*divmod(int(position), 60))
    return shown


def _dumps(details):
    return json.dumps({key: value for key, value in details.items() if value is not None},
                      ensure_ascii=False, sort_keys=True)


def downgrade():
    with op.batch_alter_table('face_checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lesson_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('position', sa.Double(), nullable=True))
        batch_op.create_foreign_key(batch_op.f(LESSON_FK), 'lessons', ['lesson_id'], ['id'])
    _lessons_from_details()
    with op.batch_alter_table('face_checks', schema=None) as batch_op:
        batch_op.drop_column('context_details')


def _lessons_from_details():
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, context_details FROM face_checks WHERE context_details <> '{}'")).all()
    updates = []
    for check_id, text in rows:
        details = json.loads(text)
        lesson_id, position = details.get("lesson_id"), details.get("position")
        if lesson_id is not None or position is not None:
            updates.append({"id": check_id, "lesson_id": lesson_id, "position": position})
    if updates:
        # A lesson that no longer exists is not restored (the foreign key would refuse it).
        connection.execute(sa.text(
            "UPDATE face_checks SET lesson_id = (SELECT lessons.id FROM lessons WHERE lessons.id = :lesson_id), "
            "position = :position WHERE id = :id"), updates)
