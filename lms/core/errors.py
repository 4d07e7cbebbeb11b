"""The one exception shape every business rule raises."""


class RuleViolation(ValueError):
    """A rule refused an action. ``code`` names the rule, so a view can say why in
    the user's language; ``details`` carries what the message needs."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


class ApiError(Exception):
    """A JSON endpoint's refusal. lms/errors.py answers it with ``status`` and the one JSON error
    body of the platform, ``{"error": message, "code": code}``, plus ``extra`` fields where a page
    needs more (README, "JSON errors")."""

    def __init__(self, status: int, code: str, message: str, /, **extra):  # extra may hold a "message"
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = str(message)
        self.extra = extra
