"""Per-course question banks, papers, the timed course test with face checks, and practice."""


def init_app(app) -> None:
    """Connect the quiz to the face checks it asks for (test attempts) and to course publishing
    (the bank-size rule). Imported here so that importing lms.quiz loads nothing else."""
    from ..player.signals import course_publishing
    from ..proctor.signals import check_changed
    from .attempts import CONTEXT, on_check_changed
    from .bank import on_course_publishing
    check_changed.connect(on_check_changed, sender=CONTEXT)
    course_publishing.connect(on_course_publishing)
    app.context_processor(_template_helpers)


def _template_helpers():
    from .views import course_test_summary
    return {"quiz_summary": course_test_summary}
