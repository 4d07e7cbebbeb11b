"""The signed certificate payload: what the QR code carries, checked with nothing but a public key.

Pure functions (no Flask, no database), so that the platform, the CLI and any offline verifier
use the same code. The wire format, from the inside out:

1. the certificate's facts as compact JSON (UTF-8, short keys, no spaces); it names its key id
   ("k") and issue time ("t", Unix seconds);
2. those bytes followed by their 64-byte Ed25519 signature;
3. zlib-compressed (level 9); ``verify`` accepts only this encoding (the same bytes compressed
   otherwise, or followed by anything, are refused), so a certificate has exactly one code;
4. Base45-encoded (RFC 9285), so that a QR code stores it in alphanumeric mode, as the EU
   digital COVID certificate does.

The QR code holds the verification URL with the payload as its last path segment, uppercased so
that the whole text stays alphanumeric (see ``verification_url``).
"""
from __future__ import annotations

import base64
import json
import zlib
from urllib.parse import unquote
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone

import base45
import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
SIGNATURE_BYTES = 64
MAX_PAYLOAD_BYTES = 16 * 1024     # decompressed; a real certificate is well under 2 KB
MAX_TOKEN_CHARS = 8 * 1024
URL_PATH = "/V/"                  # the short verification route: alphanumeric QR mode has no lowercase
BASE45_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BASE45_VALUES = np.full(256, 255, dtype=np.uint32)
_BASE45_VALUES[np.frombuffer(BASE45_ALPHABET, dtype=np.uint8)] = np.arange(45, dtype=np.uint32)
_BASE45_WEIGHTS = np.array([1, 45, 45 * 45], dtype=np.uint32)


class PayloadError(ValueError):
    """The payload cannot be trusted; ``reason`` says why: format | version | unknown_key | signature."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class CourseLine:
    title: str
    hours: float          # credited hours, one decimal
    score: int | None     # the passing test score (of 100)


@dataclass(frozen=True)
class CertificateFacts:
    """Everything a certificate certifies; all of it is signed and none of it is sensitive."""

    number: str
    name: str
    masked_id: str
    institution: str
    class_title: str
    training_type: str    # as shown, e.g. 初训
    category: str         # qualification, e.g. 危险化学品生产单位主要负责人
    hours: float          # online hours credited toward the class
    required_hours: int
    courses: tuple[CourseLine, ...] = field(default_factory=tuple)
    start: date | None = None      # first credited course
    completed: date | None = None  # the day the requirement was reached
    issued_at: datetime | None = None
    key_id: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def to_json(facts: CertificateFacts) -> bytes:
    """The facts as the compact JSON that is signed."""
    issued = facts.issued_at
    if issued is not None and issued.tzinfo is None:
        issued = issued.replace(tzinfo=timezone.utc)
    data = {
        "v": VERSION, "k": facts.key_id, "t": int(issued.timestamp()) if issued else None,
        "no": facts.number, "n": facts.name, "id": facts.masked_id, "i": facts.institution,
        "cl": facts.class_title, "tt": facts.training_type, "q": facts.category,
        "h": facts.hours, "r": facts.required_hours,
        "c": [[c.title, c.hours, c.score] for c in facts.courses],
        "s": _day(facts.start), "e": _day(facts.completed),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _parse_day(value) -> date | None:
    return date.fromisoformat(value) if value else None


def from_json(raw: bytes) -> CertificateFacts:
    try:
        data = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise PayloadError("format", "not JSON") from error
    if not isinstance(data, dict):
        raise PayloadError("format", "not an object")
    if data.get("v") != VERSION:
        raise PayloadError("version", f"version {data.get('v')!r}")
    try:
        courses = tuple(CourseLine(str(title), float(hours), None if score is None else int(score))
                        for title, hours, score in data["c"])
        issued = datetime.fromtimestamp(int(data["t"]), tz=timezone.utc).replace(tzinfo=None) \
            if data.get("t") is not None else None
        return CertificateFacts(
            number=str(data["no"]), name=str(data["n"]), masked_id=str(data["id"]), institution=str(data["i"]),
            class_title=str(data["cl"]), training_type=str(data["tt"]), category=str(data["q"]),
            hours=float(data["h"]), required_hours=int(data["r"]), courses=courses,
            start=_parse_day(data.get("s")), completed=_parse_day(data.get("e")), issued_at=issued,
            key_id=str(data["k"]))
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as error:
        raise PayloadError("format", f"missing or malformed field ({error})") from error


def sign(facts: CertificateFacts, private_key: Ed25519PrivateKey) -> str:
    """The Base45 payload of ``facts`` signed with ``private_key`` (``facts.key_id`` names it)."""
    raw = to_json(facts)
    return base45.b45encode(zlib.compress(raw + private_key.sign(raw), 9)).decode("ascii")


def _inflate(compressed: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, MAX_PAYLOAD_BYTES + 1)
    except zlib.error as error:
        raise PayloadError("format", "not zlib data") from error
    if len(raw) > MAX_PAYLOAD_BYTES or inflater.unconsumed_tail:
        raise PayloadError("format", "too large")
    if not inflater.eof:
        raise PayloadError("format", "truncated")
    if inflater.unused_data:
        raise PayloadError("format", "trailing data")
    return raw


def b45decode(text: str) -> bytes:
    """Base45 (RFC 9285) to bytes, as ``base45.b45decode`` but vectorised with numpy: the library's
    per-character Python loop was two thirds of a whole verification (bench/hours_bench.py verify).
    ValueError for anything that is not Base45. tests/test_hours_payload.py checks it against the library."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("not Base45") from None
    values = _BASE45_VALUES[np.frombuffer(raw, dtype=np.uint8)]
    whole, rest = divmod(len(values), 3)
    if rest == 1 or (values == 255).any():
        raise ValueError("not Base45")
    groups = values[:3 * whole].reshape(whole, 3) @ _BASE45_WEIGHTS
    if (groups > 0xFFFF).any():
        raise ValueError("not Base45")
    out = groups.astype(">u2").tobytes()
    if rest == 2:
        last = int(values[-2] + 45 * values[-1])
        if last > 0xFF:
            raise ValueError("not Base45")
        out += bytes([last])
    return out


def _unwrap(token: str) -> tuple[bytes, bytes]:
    """(the zlib stream, what it inflates to) of a payload."""
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise PayloadError("format", "empty or too long")
    try:
        compressed = b45decode(token)
    except ValueError as error:
        raise PayloadError("format", "not Base45") from error
    return compressed, _inflate(compressed)


def _split(raw: bytes) -> tuple[bytes, bytes]:
    if len(raw) <= SIGNATURE_BYTES:
        raise PayloadError("format", "too short")
    return raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]


def open_token(token: str) -> tuple[bytes, bytes]:
    """(signed JSON bytes, signature) from a payload, without checking the signature."""
    return _split(_unwrap(token)[1])


def _canonical(compressed: bytes, raw: bytes) -> None:
    """Only the encoding ``sign`` makes is accepted: the inflated bytes compressed again as ``sign``
    does must give back the received stream. Otherwise one certificate would have many valid codes
    (another level or strategy, deflate's unread padding bits, bytes after the stream)."""
    if zlib.compress(raw, 9) != compressed:
        raise PayloadError("format", "not canonical")


def peek(token: str) -> CertificateFacts:
    """The facts a payload claims, signature NOT checked (for lists of certificates the platform
    issued itself; never for a verdict)."""
    raw, _signature = open_token(token)
    return from_json(raw)


def verify(token: str, public_keys: dict[str, Ed25519PublicKey]) -> CertificateFacts:
    """The facts of a payload in its one canonical encoding whose signature checks with the public key
    it names; PayloadError otherwise."""
    compressed, whole = _unwrap(token)
    raw, signature = _split(whole)
    _canonical(compressed, whole)
    facts = from_json(raw)
    key = public_keys.get(facts.key_id)
    if key is None:
        raise PayloadError("unknown_key", f"key id {facts.key_id!r}")
    try:
        key.verify(signature, raw)
    except InvalidSignature as error:
        raise PayloadError("signature", "does not match") from error
    return facts


# --- the text of the QR code ---------------------------------------------------------------------

def verification_url(base_url: str, token: str) -> str:
    """``BASE/V/<payload>``, uppercased: scheme and host are case-insensitive and the payload is
    already uppercase, so the QR code can use alphanumeric mode throughout. Of Base45's characters,
    space and % must be escaped in a URL path, and / is escaped so that the payload stays one path
    segment (clients would otherwise resolve "/./" or "/../" inside it). The escapes are alphanumeric too."""
    escaped = token.replace("%", "%25").replace(" ", "%20").replace("/", "%2F")
    return base_url.rstrip("/").upper() + URL_PATH + escaped


def token_from_text(text: str) -> str:
    """The payload inside a QR code's text: a verification URL (any host) or the bare payload."""
    text = (text or "").strip()
    marker = text.upper().rfind(URL_PATH)
    if marker >= 0 and "://" in text[:marker + 1]:
        return unquote(text[marker + len(URL_PATH):])  # in the URL every % starts an escape
    return text


def keys_from_document(document: dict) -> dict[str, Ed25519PublicKey]:
    """Public keys from a published key set (lms.hours.keys.keys_document, /hours/keys.json), for
    offline verification; ValueError when malformed."""
    try:
        return {str(item["kid"]): Ed25519PublicKey.from_public_bytes(base64.b64decode(item["public_key"]))
                for item in document["keys"]}
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a key set: {error}") from error
