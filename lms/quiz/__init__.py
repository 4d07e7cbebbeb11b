"""Per-course question banks, papers, the timed course test with face checks, and practice."""


def init_app(app) -> None:
    """Connect the quiz to the face checks it asks for (test attempts) and to course publishing
    (the bank-size rule). Imported here so that importing lms.quiz loads nothing else. (Its template
    helpers, quiz_summary and quiz_bank_status, come with the blueprint's views.)"""
    from ..player.signals import course_publishing
    from ..proctor.signals import check_changed
    from .attempts import CONTEXT, on_check_changed
    from .bank import on_course_publishing
    check_changed.connect(on_check_changed, sender=CONTEXT)
    course_publishing.connect(on_course_publishing)
