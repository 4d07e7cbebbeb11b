"""The hours ledger, study-hours certificates with an offline-verifiable signature, and exports."""


def init_app(app) -> None:
    """Follow the events that can change a learner's hours: a test result (lms.quiz), and study time
    voided, confirmed or given back after a person decided a face check (lms.player); and add the
    hours credited to the learner's course cards (lms.player.cards). The ledger's
    append-only guard is put on this app's session (db.session), not on every SQLAlchemy session
    of the process. Imported here so that importing lms.hours loads nothing else."""
    from ..extensions import db
    from ..player import cards
    from ..player.signals import study_time_changed
    from ..quiz.signals import result_changed
    from .models import guard_ledger
    from .progress import credited_hours
    from .receivers import on_result_changed, on_study_time_changed
    result_changed.connect(on_result_changed)
    study_time_changed.connect(on_study_time_changed)
    guard_ledger(db.session)
    cards.add_learner_extra("hours_credited", credited_hours)
