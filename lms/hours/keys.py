"""The platform's Ed25519 signing keys: the active one signs, every one ever used is published."""
import base64
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..core.context import Actor
from ..extensions import db
from .models import SigningKey

_RAW = dict(encoding=serialization.Encoding.Raw)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _new_row(key_id: str, now: datetime) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    return SigningKey(
        key_id=key_id, created_at=now,
        public_key=_b64(private.public_key().public_bytes(format=serialization.PublicFormat.Raw, **_RAW)),
        private_key=_b64(private.private_bytes(format=serialization.PrivateFormat.Raw,
                                               encryption_algorithm=serialization.NoEncryption(), **_RAW)))


def _next_key_id() -> str:
    count = db.session.scalar(select(db.func.count(SigningKey.id))) or 0
    return f"h{count + 1}"


def active_row() -> SigningKey | None:
    return db.session.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None))
                             .order_by(SigningKey.created_at.desc(), SigningKey.id.desc()).limit(1))


def signing_key(now: datetime) -> tuple[str, Ed25519PrivateKey]:
    """(key id, private key) of the key that signs now; the first key is made on first use. Two
    processes making it at once collide on the key id: the loser reads the winner's."""
    row = active_row()
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(_new_row(_next_key_id(), now))
        except IntegrityError:
            pass
        row = active_row()
    return row.key_id, Ed25519PrivateKey.from_private_bytes(base64.b64decode(row.private_key))


def rotate(now: datetime, actor: Actor) -> SigningKey:
    """Retire the active key for signing (it stays published) and make a new one. Logged, committed."""
    old = active_row()
    new = _new_row(_next_key_id(), now)
    if old is not None:
        old.retired_at = now
    db.session.add(new)
    record(actor, "hours_key_rotate", now, target=f"key:{new.key_id}",
           detail=f"retired {old.key_id}" if old else "first key")
    db.session.commit()
    current_app.logger.info("hours signing key rotated: %s -> %s", old.key_id if old else None, new.key_id)
    return new


def published() -> list[SigningKey]:
    """Every key, oldest first: what /hours/keys.json publishes."""
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.id)))


def public_keys() -> dict[str, Ed25519PublicKey]:
    """key id -> public key, for every key ever used (read each time: a rotation in another process
    shows at once). Parsed keys are cached by their bytes, never by id alone."""
    cache = current_app.extensions.setdefault("hours_public_keys", {})
    found = {}
    for key_id, public in db.session.execute(select(SigningKey.key_id, SigningKey.public_key)).all():
        if public not in cache:
            cache[public] = Ed25519PublicKey.from_public_bytes(base64.b64decode(public))
        found[key_id] = cache[public]
    return found


def keys_document(rows: list[SigningKey]) -> dict:
    """The published key set (JSON): what an offline verifier needs."""
    return {"algorithm": "Ed25519", "keys": [
        {"kid": row.key_id, "public_key": row.public_key, "created_at": row.created_at.isoformat() + "Z",
         "retired_at": row.retired_at.isoformat() + "Z" if row.retired_at else None} for row in rows]}

