"""One live learning session per learner, kept by a partial unique index

Revision ID: 11a01_one_live_session
Revises: 10a03_face_challenges
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '11a01_one_live_session'
down_revision = '10a03_face_challenges'
branch_labels = None
depends_on = None


INDEX = 'uq_study_sessions_one_live_per_learner'
LIVE = sa.text('ended_at IS NULL')


def upgrade():
    _end_duplicate_live_sessions()
    op.create_index(INDEX, 'study_sessions', ['learner_id'], unique=True, sqlite_where=LIVE, postgresql_where=LIVE)


def _end_duplicate_live_sessions():
    """Two starts at the same moment could leave a learner with two live sessions; the index allows
    one. The newest stays live; each older one ends as "superseded" when it was last used, and its
    players stop counting, as lms.player.sessions.close_session would do (without an audit row: the
    migration is no one's action). Its face check still due is closed without the consequences of a
    real miss (sign-out everywhere, voided time): that is the harm the index is there to prevent, and
    the time in question is settled by the kept session's next check."""
    connection = op.get_bind()
    orphans = connection.execute(sa.text(
        "SELECT id, open_check_id FROM study_sessions AS older WHERE ended_at IS NULL AND id < ("
        "SELECT MAX(newer.id) FROM study_sessions AS newer "
        "WHERE newer.learner_id = older.learner_id AND newer.ended_at IS NULL)")).all()
    if not orphans:
        return
    sessions = [{"id": session_id} for session_id, _ in orphans]
    connection.execute(sa.text(
        "UPDATE study_sessions SET ended_at = last_interaction_at, end_reason = 'superseded' WHERE id = :id"),
        sessions)
    connection.execute(sa.text("UPDATE playbacks SET active = :inactive WHERE session_id = :id"),
                       [{**session, "inactive": False} for session in sessions])
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # naive UTC, as lms.core.clock.utcnow
    checks = [{"id": check_id, "now": now} for _, check_id in orphans if check_id is not None]
    if checks:
        connection.execute(sa.text(
            "UPDATE face_checks SET status = 'missed', reason = 'superseded', decided_at = :now "
            "WHERE id = :id AND status = 'open'"), checks)


def downgrade():
    op.drop_index(INDEX, table_name='study_sessions', sqlite_where=LIVE, postgresql_where=LIVE)
