"""Who is acting, from where: passed explicitly into operations that log."""
from dataclasses import dataclass

from flask import has_request_context, request
from flask_login import current_user


@dataclass(frozen=True)
class Actor:
    user: object | None  # lms.accounts.models.User
    ip: str = ""
    user_agent: str = ""


def current_actor() -> Actor:
    if not has_request_context():
        return Actor(None, "cli", "")
    user = current_user if current_user.is_authenticated else None
    return Actor(user, request.remote_addr or "", (request.user_agent.string or "")[:300])
