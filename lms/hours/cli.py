"""``flask lms hours ...``: verify a certificate (its PDF, a picture of its QR code, or its payload),
rotate the signing key, print the published key set.

``verify --keys FILE`` is the offline verifier: it needs the published key set and nothing else (not Flask, no
app configuration, no database), so a regulator can check certificates on a machine of their own,
also as ``python -m lms.hours.cli verify SOURCE --keys keys.json``. Offline it cannot know whether a
certificate was revoked after it was issued, and says so; with the platform's database (no --keys) it
also reports revocation.

Exit status: 0 valid; 1 not valid (invalid, revoked, not on record, no QR code, ...); 2 the check
could not be made (a missing file, an unreadable key set, pdftoppm not installed).
"""
import json
import sys
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path

import click

from ..core.clock import CHINA_TZ
from . import payload, qr

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
MAX_TEXT_SOURCE = 64 * 1024   # a text file holding a payload or a verification URL

REASONS = {
    "no_qr": "no QR code found",
    "format": "not a certificate payload, or a damaged one (malformed)",
    "version": "a payload version this verifier does not know",
    "unknown_key": "signed with an unknown key id (not in the key set)",
    "signature": "the signature does not match: the content was changed after signing",
    "not_on_record": "the payload differs from the platform's certificate under this number",
}
OFFLINE_NOTE = ("Note: checked offline against a published key set. An offline check proves who issued the "
                "certificate and that it is unchanged; it cannot know whether the certificate was revoked "
                "since. Check the platform's verification page (or run this without --keys) for that.")


class CannotCheck(click.ClickException):
    """The verification could not be made at all (as opposed to: it was made and failed)."""
    exit_code = 2


@dataclass(frozen=True)
class Found:
    """One code to verify: where it came from and its text."""
    origin: str
    text: str


def _read_source(source: str) -> tuple[str, list[Found]]:
    """(what the source is, the texts to verify) for a PDF, an image file, a text file, stdin or a string.
    A PDF or an image gives the texts of the QR codes found in it, possibly none."""
    if source == "-":
        return "standard input", [Found("standard input", sys.stdin.read())]
    path = Path(source)
    if _is_file(path):
        with path.open("rb") as stream:
            head = stream.read(1024)
        try:
            if b"%PDF-" in head:
                return f"PDF {path}", [Found(f"QR code {n} in the PDF", text)
                                       for n, text in enumerate(qr.read_pdf_qr(path), start=1)]
            if path.suffix.lower() in IMAGE_SUFFIXES or _looks_like_image(head):
                return f"image {path}", [Found(f"QR code {n} in the image", text)
                                         for n, text in enumerate(qr.read_qr(path), start=1)]
        except qr.QRError as error:
            raise CannotCheck(str(error)) from None
        if path.stat().st_size <= MAX_TEXT_SOURCE:
            try:
                return f"text file {path}", [Found("the file's text", path.read_text(encoding="utf-8"))]
            except UnicodeDecodeError:
                pass
        raise CannotCheck(f"{path} is not a PDF, an image or a text file with a payload")
    if path.suffix.lower() in (".pdf", ".json", ".txt") + IMAGE_SUFFIXES and "/V/" not in source.upper():
        raise CannotCheck(f"no such file: {source}")
    return "the text given", [Found("the text given", source)]


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a payload longer than a file name may be, or with a NUL in it
        return False


def _looks_like_image(head: bytes) -> bool:
    return head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"RIFF"))


def _load_key_set(keys_file: str) -> dict:
    try:
        with open(keys_file, encoding="utf-8") as stream:
            return payload.keys_from_document(json.load(stream))
    except OSError as error:
        raise CannotCheck(f"cannot read the key set {keys_file}: {error.strerror or error}") from None
    except ValueError as error:   # json.JSONDecodeError is one too
        raise CannotCheck(f"{keys_file} is not a published key set: {error}") from None


def _platform_keys() -> dict:
    from flask import has_app_context
    if not has_app_context():
        raise CannotCheck("no platform database here: pass --keys FILE (the published key set) to verify offline")
    from sqlalchemy.exc import OperationalError

    from .keys import public_keys
    try:
        return public_keys()
    except OperationalError as error:
        raise CannotCheck(f"cannot reach the platform database ({error.orig or error}); "
                          "pass --keys FILE (the published key set) to verify offline") from None


def _hours(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _print_facts(facts: payload.CertificateFacts) -> None:
    issued = facts.issued_at.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") \
        if facts.issued_at else "-"
    lines = [
        ("Certificate number", facts.number), ("Name", facts.name), ("ID number (masked)", facts.masked_id),
        ("Institution", facts.institution), ("Class", facts.class_title), ("Training type", facts.training_type),
        ("Category", facts.category),
        ("Online hours", f"{_hours(facts.hours)} credited, {_hours(facts.required_hours)} required"),
        ("Study started", facts.start.isoformat() if facts.start else "-"),
        ("Requirement reached", facts.completed.isoformat() if facts.completed else "-"),
        ("Issued", f"{issued} (China time)"), ("Signing key", facts.key_id),
    ]
    for name, value in lines:
        click.echo(f"  {name + ':':<22}{value}")
    click.echo("  Courses:")
    for number, course in enumerate(facts.courses, start=1):
        score = "-" if course.score is None else course.score
        click.echo(f"    {number}. {course.title}: {_hours(course.hours)} h, test score {score}")


def _verify_one(found: Found, public_keys: dict, offline: bool) -> bool:
    """Print the verdict on one code; True when it is a valid certificate."""
    token = payload.token_from_text(found.text)
    try:
        facts = payload.verify(token, public_keys)
    except payload.PayloadError as error:
        click.echo(f"INVALID ({found.origin}): {REASONS.get(error.reason, error.reason)}"
                   + (f" [{error.detail}]" if error.detail else ""))
        return False
    click.echo(f"Certified facts ({found.origin}):")
    _print_facts(facts)
    if offline:
        click.echo(f"VALID: the signature matches published key {facts.key_id}.")
        click.echo(OFFLINE_NOTE)
        return True
    return _record_verdict(token, facts)


def _record_verdict(token: str, facts: payload.CertificateFacts) -> bool:
    """With the platform's database: the signature matched; now what the platform's record says."""
    from .certificates import verify_token
    verdict = verify_token(token)
    if verdict.status == "valid":
        click.echo(f"VALID: the signature matches key {facts.key_id} and the certificate is on record, not revoked.")
        return True
    if verdict.status == "revoked":
        certificate = verdict.certificate
        when = certificate.revoked_at.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") \
            if certificate.revoked_at else "-"
        reason = f": {certificate.revoke_reason}" if certificate.revoke_reason else ""
        click.echo(f"REVOKED: the signature matches, but the certificate was revoked on {when} (China time), "
                   f"{certificate.revoked_how or ''}{reason}.")
        return False
    if verdict.status == "unknown":
        click.echo("NOT ON RECORD: the signature matches, but the platform has no certificate with this number.")
        return False
    click.echo(f"INVALID: {REASONS.get(verdict.reason, verdict.reason)}")
    return False


@click.group("hours", help="Study-hours certificates: verify one, rotate the signing key, print the key set.")
def hours():
    pass


@hours.command("verify")
@click.argument("source")
@click.option("--keys", "keys_file", metavar="FILE.json",
              help="The published key set (from `keys` or /hours/keys.json): verify offline, without the database.")
def verify(source, keys_file):
    """Verify a certificate. SOURCE: a certificate PDF, an image of its QR code (PNG/JPEG), its payload or
    verification URL, or - to read the payload from standard input."""
    public_keys = _load_key_set(keys_file) if keys_file else None
    what, codes = _read_source(source)
    if public_keys is None:
        public_keys = _platform_keys()
    click.echo(f"Source: {what}")
    if not codes:  # a PDF or an image without a QR code (a text source always gives one text)
        click.echo(f"INVALID: {REASONS['no_qr']}")
        sys.exit(1)
    results = [_verify_one(code, public_keys, offline=keys_file is not None) for code in codes]
    sys.exit(0 if all(results) else 1)


@hours.command("rotate-key")
def rotate_key():
    """Retire the signing key (it stays published: certificates it signed keep verifying) and make a new one."""
    from ..core.clock import utcnow
    from ..core.context import Actor
    from .keys import rotate
    _require_app()
    row = rotate(utcnow(), Actor(None, "cli", ""))
    click.echo(f"new signing key: {row.key_id}")


@hours.command("keys")
def print_keys():
    """Print the published key set (JSON) that offline verifiers use with --keys."""
    from .keys import keys_document, published
    _require_app()
    click.echo(json.dumps(keys_document(published()), indent=2))


def _require_app() -> None:
    from flask import has_app_context
    if not has_app_context():
        raise CannotCheck("this command needs the platform: run it as `flask lms hours ...`")


def register(group: click.Group) -> None:
    """Add the ``hours`` commands under the given group (``flask lms``)."""
    group.add_command(hours)


if __name__ == "__main__":  # the offline verifier without Flask: python -m lms.hours.cli verify SOURCE --keys FILE
    hours()
