"""Password-policy messages, shared by every form that sets a password."""
from flask_babel import gettext as _

from .services import password_problems


def password_errors(password: str, forbidden: tuple[str, ...] = ()) -> list[str]:
    messages = {
        "length": _("At least 8 characters."),
        "classes": _("Use at least three of: lower-case letters, upper-case letters, digits, symbols."),
        "personal": _("Must not contain your username or ID number."),
    }
    return [messages[code] for code in password_problems(password, forbidden)]
