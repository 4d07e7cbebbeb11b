"""Per-course question banks, papers, the timed course test with face checks, and practice."""


def init_app(app) -> None:
    """Connect the quiz to the face checks it asks for (test attempts) and to course publishing
    (the bank-size rule), and add the test's state and the bank's to the player's course pages.
    Imported here so that importing lms.quiz loads nothing else."""
    from ..player import cards
    from ..player.signals import course_publishing
    from ..proctor.signals import check_changed
    from .attempts import CONTEXT, on_check_changed, test_status
    from .bank import on_course_publishing
    from .cards import bank_status
    check_changed.connect(on_check_changed, sender=CONTEXT)
    course_publishing.connect(on_course_publishing)
    cards.add_learner_extra("test", test_status)
    cards.add_staff_extra("bank_status", bank_status)
