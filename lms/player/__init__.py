"""Video lessons and server-authoritative effective study time."""


def init_app(app) -> None:
    """Connect the player to the outcome of the face checks it asks for (learning sessions).
    Called by the app factory; connecting again (the tests build several apps) keeps one connection,
    since blinker identifies a receiver by the function. Imported here, not at module level, so that
    importing any lms.player module does not load the proctor."""
    from ..proctor.signals import check_changed
    from .checks import CONTEXT, on_check_changed
    check_changed.connect(on_check_changed, sender=CONTEXT)
