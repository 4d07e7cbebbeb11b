"""Course-card extras: what other packages add to the player's pages of a course.

A course page says more than the player knows: lms.quiz adds the course test's state (for the
learner) and the question bank's (for staff), lms.hours the hours credited. Each registers a
function here in its init_app; the player's views ask for the extras and pass them to their
templates, so a template uses nothing it is not given and every such dependency shows as an import.
"""
from collections.abc import Callable
from datetime import datetime

_for_learner: dict[str, Callable] = {}
_for_staff: dict[str, Callable] = {}


def add_learner_extra(name: str, compute: Callable) -> None:
    """``compute(learner, course, now)`` gives what the learner's pages of the course show as ``name``.
    Registering the same name again (the tests build several apps) replaces it."""
    _for_learner[name] = compute


def add_staff_extra(name: str, compute: Callable) -> None:
    """``compute(course)`` gives what the staff page of the course shows as ``name``."""
    _for_staff[name] = compute


def learner_extras(learner, course, now: datetime) -> dict:
    return {name: compute(learner, course, now) for name, compute in _for_learner.items()}


def staff_extras(course) -> dict:
    return {name: compute(course) for name, compute in _for_staff.items()}
