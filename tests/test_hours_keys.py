"""The platform's signing keys (lms/hours/keys.py) and the verdict on a scanned payload
(certificates.verify_token): the first key is made on first use, a rotation leaves every older
certificate verifying, keys added by another process are seen, private keys are encrypted at rest,
the published key set round-trips, and revoked, never issued and not-on-record payloads are told
apart. Certificates are real ones, earned through the services (tests/hoursdata.py)."""
import base64
import dataclasses
import json
import zlib
from datetime import timedelta

import base45
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, text

from lms.audit.models import AuditLog
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.core.crypto import cipher
from lms.hours import certificates, keys, payload
from lms.hours.ledger import HoursError
from lms.hours.models import SigningKey
from lms.institutions.services import apply_to_class, approve_application
from tests.conftest import learner_profile, register, valid_id
from tests.hoursdata import earn_certificate

RAW = serialization.Encoding.Raw


def public_bytes(key) -> bytes:
    return key.public_bytes(RAW, serialization.PublicFormat.Raw)


def another_learner(staff, training_class, n: int, name: str):
    """One more learner from 440604, approved into the class."""
    number = valid_id(f"44060419800101{n:03d}")
    learner = register(learner_profile(number, name=name), Actor(None, "127.0.0.1", "pytest"))
    application = apply_to_class(learner, training_class, f"T{number}", utcnow(), Actor(learner.user))
    approve_application(application, utcnow(), Actor(staff))
    return learner


# --- the keys -----------------------------------------------------------------------------------------

def test_the_first_signing_key_is_made_on_first_use(db):
    assert keys.published() == [] and keys.active_row() is None
    now = utcnow()
    key_id, private = keys.signing_key(now)
    assert key_id == "h1"
    rows = keys.published()
    assert [row.key_id for row in rows] == ["h1"] and rows[0].retired_at is None
    assert base64.b64decode(rows[0].public_key) == public_bytes(private.public_key())
    again_id, again = keys.signing_key(now + timedelta(minutes=5))
    assert again_id == "h1" and public_bytes(again.public_key()) == public_bytes(private.public_key())
    assert len(keys.published()) == 1
    assert set(keys.public_keys()) == {"h1"}


def test_a_certificate_is_signed_with_the_first_key(db, course, approved_learner, open_class):
    certificate = earn_certificate(approved_learner, course, open_class)
    assert certificate is not None and certificate.key_id == "h1"
    assert [row.key_id for row in keys.published()] == ["h1"]
    facts = payload.verify(certificate.token, keys.public_keys())
    assert facts.key_id == "h1" and facts.number == certificate.number


def test_rotation_twice_new_certificates_use_the_new_key_and_old_ones_still_verify(
        db, course, approved_learner, open_class, staff, admin):
    first = earn_certificate(approved_learner, course, open_class)
    rotated_at = utcnow()
    h2 = keys.rotate(rotated_at, Actor(admin, "127.0.0.1", "pytest"))
    assert h2.key_id == "h2" and keys.active_row().key_id == "h2"
    assert db.session.scalar(select(SigningKey).where(SigningKey.key_id == "h1")).retired_at == rotated_at
    second = earn_certificate(another_learner(staff, open_class, 1, "李二"), course, open_class)
    h3 = keys.rotate(utcnow(), Actor(admin, "127.0.0.1", "pytest"))
    assert h3.key_id == "h3" and keys.signing_key(utcnow())[0] == "h3"
    third = earn_certificate(another_learner(staff, open_class, 2, "张三"), course, open_class)

    assert [c.key_id for c in (first, second, third)] == ["h1", "h2", "h3"]
    assert [payload.peek(c.token).key_id for c in (first, second, third)] == ["h1", "h2", "h3"]
    rows = keys.published()
    assert [(row.key_id, row.retired_at is None) for row in rows] == [("h1", False), ("h2", False), ("h3", True)]
    # Each certificate verifies on the platform, and offline with the published key set alone.
    offline = payload.keys_from_document(json.loads(json.dumps(keys.keys_document(rows))))
    for certificate in (first, second, third):
        verdict = certificates.verify_token(certificate.token)
        assert (verdict.status, verdict.certificate.id, verdict.reason) == ("valid", certificate.id, "")
        assert verdict.facts == certificates.facts_of(certificate)
        assert payload.verify(certificate.token, offline).number == certificate.number
        # Verified with only the other keys, each names its own key and fails on the signature.
        others = {kid: key for kid, key in offline.items() if kid != certificate.key_id}
        with pytest.raises(payload.PayloadError) as caught:
            payload.verify(certificate.token, others)
        assert caught.value.reason == "unknown_key"
    rotations = db.session.scalars(select(AuditLog.target).where(AuditLog.action == "hours_key_rotate")
                                   .order_by(AuditLog.id)).all()
    assert rotations == ["key:h2", "key:h3"]


def test_rotation_with_no_key_yet_makes_the_first(db, admin):
    row = keys.rotate(utcnow(), Actor(admin, "127.0.0.1", "pytest"))
    assert row.key_id == "h1" and keys.signing_key(utcnow())[0] == "h1"


def test_public_keys_sees_a_key_another_process_added(db, course, approved_learner, open_class):
    certificate = earn_certificate(approved_learner, course, open_class)
    assert set(keys.public_keys()) == {"h1"}  # parsed and cached now
    db.session.commit()  # end this session's read, as a request would, before the other writer commits
    added = Ed25519PrivateKey.generate()
    b64 = base64.b64encode(public_bytes(added.public_key())).decode()
    private_b64 = base64.b64encode(added.private_bytes(RAW, serialization.PrivateFormat.Raw,
                                                       serialization.NoEncryption())).decode()
    with db.engine.begin() as other_process:  # its own connection and transaction
        other_process.execute(insert(SigningKey.__table__).values(
            key_id="h2", public_key=b64, private_key=private_b64, created_at=utcnow()))
    published = keys.public_keys()
    assert set(published) == {"h1", "h2"}
    assert public_bytes(published["h2"]) == public_bytes(added.public_key())
    # A payload the other process signs with its key verifies here (its number is not on record yet).
    facts = dataclasses.replace(certificates.facts_of(certificate), number="XS2026NEWKEY01", key_id="h2")
    verdict = certificates.verify_token(payload.sign(facts, added))
    assert (verdict.status, verdict.facts, verdict.certificate) == ("unknown", facts, None)
    assert certificates.verify_token(certificate.token).status == "valid"


def test_a_key_id_given_again_to_another_key_is_never_read_from_the_cache(db):
    """Each test starts from empty tables, where h1 is a new key every time (as after restoring an old
    backup): the per-process cache must serve the key on record, not the one it parsed first."""
    _key_id, first = keys.signing_key(utcnow())
    assert public_bytes(keys.public_keys()["h1"]) == public_bytes(first.public_key())
    db.session.execute(text("DELETE FROM hours_signing_keys"))
    db.session.commit()
    _key_id, second = keys.signing_key(utcnow())
    assert _key_id == "h1"
    assert public_bytes(keys.public_keys()["h1"]) == public_bytes(second.public_key())


def test_the_private_key_is_stored_encrypted(db):
    _key_id, private = keys.signing_key(utcnow())
    raw = private.private_bytes(RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    plain_b64 = base64.b64encode(raw).decode()
    stored_private, stored_public = db.session.execute(
        text("SELECT private_key, public_key FROM hours_signing_keys")).one()
    assert stored_private != plain_b64 and plain_b64 not in stored_private
    assert raw.hex() not in stored_private.lower()
    assert len(stored_private) > len(plain_b64)
    assert cipher().decrypt_text(stored_private) == plain_b64  # it is the platform's encryption at rest
    assert base64.b64decode(stored_public) == public_bytes(private.public_key())  # published: in the clear


# --- the published key set ----------------------------------------------------------------------------

def test_keys_document_round_trip(db, admin):
    keys.signing_key(utcnow())
    keys.rotate(utcnow(), Actor(admin, "127.0.0.1", "pytest"))
    rows = keys.published()
    document = json.loads(json.dumps(keys.keys_document(rows)))
    assert document["algorithm"] == "Ed25519"
    assert [item["kid"] for item in document["keys"]] == ["h1", "h2"]
    assert all(item["created_at"].endswith("Z") for item in document["keys"])
    assert document["keys"][0]["retired_at"].endswith("Z") and document["keys"][1]["retired_at"] is None
    assert "private_key" not in json.dumps(document)
    parsed = payload.keys_from_document(document)
    assert {kid: public_bytes(key) for kid, key in parsed.items()} == \
        {kid: public_bytes(key) for kid, key in keys.public_keys().items()}
    for row in rows:
        assert public_bytes(parsed[row.key_id]) == base64.b64decode(row.public_key)
        assert row.private_key not in json.dumps(document)


@pytest.mark.parametrize("document", [
    {}, [], None, "keys", {"keys": None}, {"keys": "h1"}, {"keys": [5]}, {"keys": [{"kid": "h1"}]},
    {"keys": [{"public_key": base64.b64encode(bytes(32)).decode()}]},
    {"keys": [{"kid": "h1", "public_key": "!!not base64!!"}]},
    {"keys": [{"kid": "h1", "public_key": base64.b64encode(bytes(31)).decode()}]},
    {"keys": [{"kid": "h1", "public_key": None}]},
    {"keys": [{"kid": "h1", "public_key": 12345}]},
])
def test_a_malformed_key_set_is_value_error(document):
    with pytest.raises(ValueError):
        payload.keys_from_document(document)


# --- verdicts -----------------------------------------------------------------------------------------

def test_a_genuine_certificate_is_valid_and_a_tampered_one_invalid(db, course, approved_learner, open_class):
    certificate = earn_certificate(approved_learner, course, open_class)
    url = payload.verification_url("http://127.0.0.1:8000", certificate.token)
    verdict = certificates.verify_token(payload.token_from_text(url))
    assert (verdict.status, verdict.certificate.id, verdict.facts.number) == ("valid", certificate.id,
                                                                                certificate.number)
    raw, signature = payload.open_token(certificate.token)
    forged_raw = raw.replace(json.dumps(verdict.facts.name, ensure_ascii=False).encode(), '"李鬼"'.encode())
    assert forged_raw != raw
    forged = base45.b45encode(zlib.compress(forged_raw + signature, 9)).decode("ascii")
    assert (certificates.verify_token(forged).status, certificates.verify_token(forged).reason) == \
        ("invalid", "signature")
    assert certificates.verify_token("not a payload").status == "invalid"


def test_a_revoked_certificate_verifies_as_revoked(db, course, approved_learner, open_class, staff):
    certificate = earn_certificate(approved_learner, course, open_class)
    with pytest.raises(HoursError):
        certificates.revoke(certificate, "  ", utcnow(), Actor(staff))
    assert certificates.verify_token(certificate.token).status == "valid"
    certificates.revoke(certificate, "学时记录存在代学情况", utcnow(), Actor(staff))
    verdict = certificates.verify_token(certificate.token)
    assert (verdict.status, verdict.reason, verdict.certificate.id) == ("revoked", "staff", certificate.id)
    assert verdict.facts == certificates.facts_of(certificate)  # the signature itself is still good
    assert payload.verify(certificate.token, keys.public_keys()).number == certificate.number
    assert certificates.verify_number(certificate.number).status == "revoked"


def test_a_payload_signed_by_the_platform_but_never_issued_is_unknown(db, course, approved_learner, open_class):
    certificate = earn_certificate(approved_learner, course, open_class)
    key_id, private = keys.signing_key(utcnow())
    facts = dataclasses.replace(certificates.facts_of(certificate), number="XS2026NEVER000", key_id=key_id)
    verdict = certificates.verify_token(payload.sign(facts, private))
    assert (verdict.status, verdict.certificate, verdict.facts) == ("unknown", None, facts)
    assert certificates.verify_number("XS2026NEVER000").status == "unknown"


def test_a_genuine_signature_over_other_facts_for_a_recorded_number_is_invalid(
        db, course, approved_learner, open_class):
    """Someone holding the signing key (or a bug) signs different facts under a real certificate's
    number: the platform's own record wins, and the payload is not this certificate."""
    certificate = earn_certificate(approved_learner, course, open_class)
    key_id, private = keys.signing_key(utcnow())
    recorded = certificates.facts_of(certificate)
    for change in ({"hours": recorded.hours + 8}, {"name": "李鬼"}, {"courses": ()},
                   {"issued_at": recorded.issued_at + timedelta(seconds=1)}):
        other = payload.sign(dataclasses.replace(recorded, **change), private)
        assert payload.verify(other, keys.public_keys())  # the signature is genuine
        verdict = certificates.verify_token(other)
        assert (verdict.status, verdict.reason, verdict.facts, verdict.certificate) == \
            ("invalid", "not_on_record", None, None), change
    assert certificates.verify_token(payload.sign(recorded, private)).status == "valid"  # Ed25519 is deterministic
