"""Who may see or change what: each package keeps its rules in its own ``permissions.py``.

A rule is a plain function ``can_<verb>(user, *targets) -> bool`` (or a query filter) that views,
services and templates call alike. Templates reach them through ``can("proctor.decide_check", check)``,
which passes the signed-in user first.
"""
import importlib

from flask_login import current_user


def can(rule: str, *targets) -> bool:
    """Template helper: ``can("learners.act_for_learner", learner)`` -> lms.learners.permissions."""
    package, _, name = rule.partition(".")
    module = importlib.import_module(f"lms.{package}.permissions")
    user = current_user if current_user.is_authenticated else None
    return user is not None and getattr(module, f"can_{name}")(user, *targets)


def is_role(user, *roles) -> bool:
    return user is not None and getattr(user, "role", None) in roles
