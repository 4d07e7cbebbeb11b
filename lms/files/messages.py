"""User-facing reasons for refused uploads."""
from flask import current_app
from flask_babel import gettext as _


def upload_error(code: str) -> str:
    limit_mb = current_app.config["LMS_MAX_UPLOAD_BYTES"] / (1024 * 1024)
    messages = {
        "empty": _("Please choose a file."),
        "too_large": _("The file is larger than %(limit).0f MB.", limit=limit_mb),
        "type": _("Only JPEG or PNG images are accepted."),
        "corrupt": _("This file is not a complete JPEG or PNG image (it may be damaged, or another type of file renamed)."),
        "dimensions": _("The image must be between 100 and 8000 pixels on each side."),
    }
    return messages.get(code, messages["corrupt"])
