"""Column types for personal data."""
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
