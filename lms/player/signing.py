"""Short-lived signed URLs for video renditions, bound to one user.

Signed with itsdangerous, as the rest of the platform signs, under a salt of their own (a media
signature is worth nothing anywhere else). The lifetime is fixed when the link is made: the expiry
time is part of the URL and of what is signed."""
import hashlib
from datetime import datetime, timedelta

from flask import current_app, url_for
from itsdangerous import Signer

from ..core.clock import epoch_seconds, utcnow

MEDIA_SALT = "lms.player.media-url"


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=MEDIA_SALT, digest_method=hashlib.sha256)


def _message(rendition_id: int, user_id: int, expires: int) -> str:
    return f"{rendition_id}:{user_id}:{expires}"


def signed_url(rendition_id: int, user_id: int, now: datetime | None = None) -> str:
    expires = epoch_seconds((now or utcnow()) + timedelta(seconds=int(current_app.config["LMS_MEDIA_URL_SECONDS"])))
    signature = _signer().get_signature(_message(rendition_id, user_id, expires)).decode("ascii")
    return url_for("player.media", rendition_id=rendition_id, expires=expires, signature=signature)


def signature_valid(rendition_id: int, user_id: int, expires: int, signature: str, now: datetime) -> bool:
    """Whether ``signature`` was made by signed_url for this rendition, user and expiry, and has not expired."""
    if expires < epoch_seconds(now):
        return False
    return _signer().verify_signature(_message(rendition_id, user_id, expires), signature or "")
