import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from lms.core.crypto import Cipher, KeyConfigError, parse_keys


def make_cipher(keys, active):
    return Cipher(keys, active, os.urandom(32))


def test_text_round_trip_and_random_nonce():
    cipher = make_cipher({"k1": os.urandom(32)}, "k1")
    first, second = cipher.encrypt_text("王建国"), cipher.encrypt_text("王建国")
    assert first != second and "王建国" not in first
    assert cipher.decrypt_text(first) == "王建国"


def test_rotation_keeps_old_data_readable():
    old_key, new_key = os.urandom(32), os.urandom(32)
    old = make_cipher({"k1": old_key}, "k1")
    token = old.encrypt_text("440604197403121235")
    rotated = Cipher({"k1": old_key, "k2": new_key}, "k2", old.hmac_key)
    assert rotated.decrypt_text(token) == "440604197403121235"
    assert rotated.encrypt_text("x").startswith("k2$")
    assert rotated.open_file(old.seal_file(b"\x89PNG...")) == b"\x89PNG..."


def test_tampering_is_detected():
    cipher = make_cipher({"k1": os.urandom(32)}, "k1")
    sealed = bytearray(cipher.seal_file(b"image bytes"))
    sealed[-1] ^= 1
    with pytest.raises(InvalidTag):
        cipher.open_file(bytes(sealed))


def test_key_configuration_is_checked():
    with pytest.raises(KeyConfigError):
        parse_keys("")
    with pytest.raises(KeyConfigError):
        parse_keys("k1:" + base64.b64encode(b"short").decode())
    with pytest.raises(KeyConfigError):
        make_cipher({"k1": os.urandom(32)}, "k9")


def test_lookup_hash_is_keyed():
    a = make_cipher({"k1": os.urandom(32)}, "k1")
    b = make_cipher({"k1": os.urandom(32)}, "k1")
    assert a.lookup_hash("X") == a.lookup_hash("X") != b.lookup_hash("X")
