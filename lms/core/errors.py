"""The one exception shape every business rule raises."""


class RuleViolation(ValueError):
    """A rule refused an action. ``code`` names the rule, so a view can say why in
    the user's language; ``details`` carries what the message needs."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details
