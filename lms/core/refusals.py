"""A refused action on a page: the rule's reason flashed, the view carries on to its redirect."""
from contextlib import contextmanager
from typing import Callable

from flask import flash

from ..extensions import db
from .errors import RuleViolation


@contextmanager
def flash_refusal(kind: type[RuleViolation], text: Callable[[RuleViolation], str]):
    """Run the block; if it raises ``kind``, undo what it wrote and flash ``text(error)`` as an error.
    Code after the ``with`` runs either way (typically the redirect); code inside it only on success.

        with flash_refusal(StudyError, study_error):
            services.enrol(...)
            flash(_("Enrolled."), "success")
        return redirect(url_for(...))
    """
    try:
        yield
    except kind as error:
        db.session.rollback()
        flash(text(error), "error")
