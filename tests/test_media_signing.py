"""Signed video links (lms.player.signing): one scheme (itsdangerous, its own salt), expiry in UTC."""
import hashlib
import hmac
import re
import time
from datetime import datetime, timedelta

import pytest
from itsdangerous import Signer

from lms.player import signing

NOW = datetime(2026, 3, 1, 8, 0, 0)  # naive UTC, as everywhere in the platform


def parts(url: str) -> tuple[int, int, str]:
    rendition_id, expires, signature = re.search(r"/player/media/(\d+)/(\d+)/([^/]+)\.mp4$", url).groups()
    return int(rendition_id), int(expires), signature


@pytest.fixture()
def shanghai_clock(monkeypatch):
    """The process runs in China Standard Time: a naive datetime's .timestamp() would be 8 hours off."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_link_lasts_its_lifetime_in_utc_whatever_the_servers_time_zone(app, shanghai_clock):
    lifetime = app.config["LMS_MEDIA_URL_SECONDS"]
    with app.test_request_context():
        rendition_id, expires, signature = parts(signing.signed_url(7, 42, now=NOW))
    assert expires == int((NOW - datetime(1970, 1, 1)).total_seconds()) + lifetime
    with app.app_context():
        assert signing.signature_valid(7, 42, expires, signature, NOW + timedelta(seconds=lifetime))
        assert not signing.signature_valid(7, 42, expires, signature, NOW + timedelta(seconds=lifetime + 1))


def test_a_link_is_refused_for_another_rendition_learner_or_expiry(app):
    with app.test_request_context():
        rendition_id, expires, signature = parts(signing.signed_url(7, 42, now=NOW))
    with app.app_context():
        assert signing.signature_valid(7, 42, expires, signature, NOW)
        assert not signing.signature_valid(8, 42, expires, signature, NOW)       # another video
        assert not signing.signature_valid(7, 43, expires, signature, NOW)       # another learner's link
        assert not signing.signature_valid(7, 42, expires + 3600, signature, NOW)  # lifetime stretched
        assert not signing.signature_valid(7, 42, expires, signature[:-2] + "AA", NOW)
        for junk in ("", "签名", "!!!", "a" * 500):
            assert not signing.signature_valid(7, 42, expires, junk, NOW)


def test_signatures_of_the_same_secret_under_another_salt_or_scheme_are_refused(app):
    message = f"7:42:{int(NOW.timestamp()) + 600}"
    expires = int(message.rsplit(":", 1)[1])
    secret = app.config["SECRET_KEY"]
    others = [Signer(secret).get_signature(message).decode(),  # itsdangerous' default salt
              Signer(secret, salt="lms.quiz.mock", digest_method=hashlib.sha256).get_signature(message).decode(),
              hmac.new(secret.encode(), f"rendition:{message}".encode(), hashlib.sha256).hexdigest()[:32]]  # before
    with app.app_context():
        for signature in others:
            assert not signing.signature_valid(7, 42, expires, signature, NOW)
