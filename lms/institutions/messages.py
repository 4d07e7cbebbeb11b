"""User-facing reasons for refused enrolment actions."""
from flask_babel import gettext as _

from ..core.labels import label


def enrolment_error(error) -> str:
    messages = {
        "not_published": lambda: _("This class is not open for applications."),
        "not_open_yet": lambda: _("Enrolment for this class has not opened yet."),
        "closed": lambda: _("Enrolment for this class has closed."),
        "full": lambda: _("This class is full."),
        "materials_missing": lambda: _("Please upload these materials first: %(kinds)s.", kinds="、".join(
            label("material", kind) for kind in error.details.get("missing", []))),
        "certificate_required": lambda: _("Re-training needs your existing certificate number (6 to 32 letters or digits)."),
        "already_applied": lambda: _("You have already applied to this class."),
        "forbidden": lambda: _("This application belongs to another institution."),
        "not_pending": lambda: _("This application has already been decided."),
        "reason_required": lambda: _("Please give a reason."),
        "already_published": lambda: _("This class is already published."),
        "enrol_window": lambda: _("Enrolment must close on or after the day it opens."),
        "train_window": lambda: _("Training must end on or after the day it starts."),
        "train_before_enrol": lambda: _("Training cannot end before enrolment opens."),
        "capacity": lambda: _("Capacity must be at least 1."),
        "online_hours": lambda: _("Online hours must be between 1 and the total hours."),
        "no_hours_rule": lambda: _("No hours rule covers this qualification and training type. Ask the platform admin to add one."),
    }
    return messages.get(error.code, lambda: error.code)()
