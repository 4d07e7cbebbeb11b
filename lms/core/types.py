"""Column types for personal data."""
from datetime import date

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from .crypto import cipher


class EncryptedText(TypeDecorator):
    """Text stored as AES-256-GCM ciphertext; Python code sees plaintext."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else cipher().encrypt_text(value)

    def process_result_value(self, value, dialect):
        return None if value is None else cipher().decrypt_text(value)


class EncryptedDate(EncryptedText):
    """A date stored as AES-256-GCM ciphertext of its ISO form; Python code sees a ``date``.

    A plaintext birth date plus a district and a masked number gives an ID number back, so
    birth dates, and their years, are never stored in the clear.
    """

    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else super().process_bind_param(value.isoformat(), dialect)

    def process_result_value(self, value, dialect):
        plain = super().process_result_value(value, dialect)
        return None if plain is None else date.fromisoformat(plain)
