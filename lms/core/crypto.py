"""AES-256-GCM encryption at rest and keyed hashes for lookups.

Keys come from configuration as ``{key_id: 32 raw bytes}``; every ciphertext
names the key that made it, so old data stays readable while a new key is
active (rotation re-encrypts with ``flask lms rotate-keys``).
"""
import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

NONCE_BYTES = 12
FILE_MAGIC = b"LMSENC1"


class KeyConfigError(RuntimeError):
    """Raised when the configured keys are missing or malformed."""


def parse_keys(spec: str) -> dict[str, bytes]:
    """Parse ``"kid1:base64key,kid2:base64key"`` into a key map."""
    keys = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        kid, _, encoded = part.partition(":")
        raw = base64.b64decode(encoded)
        if not kid or len(raw) != 32:
            raise KeyConfigError(f"data key {kid!r} must be 32 bytes of base64")
        keys[kid] = raw
    if not keys:
        raise KeyConfigError("LMS_DATA_KEYS is empty")
    return keys


def new_key_spec(kid: str = "k1") -> str:
    """A fresh key entry for instance configuration."""
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


class Cipher:
    """Encrypts with the active key, decrypts with whichever key a token names."""

    def __init__(self, keys: dict[str, bytes], active_kid: str, hmac_key: bytes):
        if active_kid not in keys:
            raise KeyConfigError(f"active key {active_kid!r} is not among LMS_DATA_KEYS")
        if len(hmac_key) < 32:
            raise KeyConfigError("LMS_HMAC_KEY must hold at least 32 bytes")
        self.keys = keys
        self.active_kid = active_kid
        self.hmac_key = hmac_key

    def encrypt_bytes(self, plain: bytes, aad: bytes = b"") -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_kid]).encrypt(nonce, plain, aad)
        return self.active_kid, nonce + sealed

    def decrypt_bytes(self, kid: str, blob: bytes, aad: bytes = b"") -> bytes:
        try:
            key = self.keys[kid]
        except KeyError:
            raise KeyConfigError(f"unknown data key {kid!r}") from None
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)

    def encrypt_text(self, text: str) -> str:
        kid, blob = self.encrypt_bytes(text.encode("utf-8"), b"text")
        return f"{kid}${base64.b64encode(blob).decode()}"

    def decrypt_text(self, token: str) -> str:
        kid, _, encoded = token.partition("$")
        return self.decrypt_bytes(kid, base64.b64decode(encoded), b"text").decode("utf-8")

    def seal_file(self, plain: bytes) -> bytes:
        kid, blob = self.encrypt_bytes(plain, b"file")
        kid_raw = kid.encode()
        return FILE_MAGIC + bytes([len(kid_raw)]) + kid_raw + blob

    def open_file(self, sealed: bytes) -> bytes:
        if not sealed.startswith(FILE_MAGIC):
            raise ValueError("not an encrypted media file")
        pos = len(FILE_MAGIC)
        kid_len = sealed[pos]
        kid = sealed[pos + 1:pos + 1 + kid_len].decode()
        return self.decrypt_bytes(kid, sealed[pos + 1 + kid_len:], b"file")

    def lookup_hash(self, value: str) -> str:
        """Keyed hash used to find a record by a secret value without storing it."""
        return hmac.new(self.hmac_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def cipher_from_config(config) -> Cipher:
    keys = parse_keys(config.get("LMS_DATA_KEYS", ""))
    active = config.get("LMS_ACTIVE_KEY_ID") or next(iter(keys))
    hmac_key = base64.b64decode(config.get("LMS_HMAC_KEY") or "")
    return Cipher(keys, active, hmac_key)


def cipher() -> Cipher:
    return current_app.extensions["lms_cipher"]
