"""The hours ledger, study-hours certificates with an offline-verifiable signature, and exports."""


def init_app(app) -> None:
    """Follow the events that can change a learner's hours: a test result (lms.quiz), and a person
    changing a face check's outcome after review (time voided or given back, lms.proctor). Imported
    here so that importing lms.hours loads nothing else."""
    from ..proctor.signals import check_changed
    from ..quiz.signals import result_changed
    from .receivers import on_check_reviewed, on_result_changed
    result_changed.connect(on_result_changed)
    check_changed.connect(on_check_reviewed)
