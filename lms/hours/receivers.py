"""Signal receivers: the ledger follows the quiz's results and the player's study time.

Each receiver brings the ledger up to date at once, inside the sender's transaction, so that the
sender's commit writes its change and the hours it earns (or takes back) together, or neither. The
chain is explicit: lms.quiz.attempts.finish (or a pass taken away) sends quiz.signals.result_changed;
lms.player.checks.on_check_changed, once it has voided, confirmed or given back study time, sends
player.signals.study_time_changed; both arrive here, then ledger.sync_course, which may issue or
revoke a certificate (certificates.reconcile). A failure there fails the sender's request: hours and
certificates never fall out of step with the results behind them. Connected in lms.hours.init_app.
"""
from datetime import datetime

from . import ledger


def on_result_changed(attempt, *, now: datetime) -> None:
    """An attempt ended or lost its pass: the course's hours follow."""
    ledger.sync_learner(attempt.learner_id, now, {attempt.course_id})


def on_study_time_changed(learner_id: int, *, now: datetime) -> None:
    """A person's decision voided, confirmed or gave back study time, which can change whether a
    course's lessons are confirmed: every course the learner passed or was credited for follows."""
    ledger.sync_learner(learner_id, now)
