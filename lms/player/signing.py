"""Short-lived signed URLs for video renditions, bound to one user."""
import hashlib
import hmac
from datetime import datetime

from flask import current_app, url_for

from ..core.clock import utcnow


def _signature(rendition_id: int, user_id: int, expires: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"rendition:{rendition_id}:{user_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def signed_url(rendition_id: int, user_id: int, now: datetime | None = None) -> str:
    now = now or utcnow()
    expires = int(now.timestamp()) + int(current_app.config["LMS_MEDIA_URL_SECONDS"])
    return url_for("player.media", rendition_id=rendition_id, expires=expires,
                   signature=_signature(rendition_id, user_id, expires))


def signature_valid(rendition_id: int, user_id: int, expires: int, signature: str, now: datetime) -> bool:
    if expires < int(now.timestamp()):
        return False
    return hmac.compare_digest(_signature(rendition_id, user_id, expires), signature or "")
