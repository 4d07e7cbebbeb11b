"""The signed certificate payload (lms/hours/payload.py), with no app and no database: every signed
fact is covered by the signature, any damage to the payload is caught and named, nothing a scanner
or an attacker can hand the verifier makes it raise anything but PayloadError, and the QR text
(the verification URL) carries the payload back intact in alphanumeric mode at a small QR version."""
import dataclasses
import hashlib
import json
import random
import zlib
from datetime import date, datetime, timedelta

import base45
import numpy as np
import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.hours import payload
from lms.hours.payload import CertificateFacts, CourseLine, PayloadError

# Fixed keys, so that every token (and so every byte-flip case) is the same on every run.
KEY_1 = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY_2 = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
PUBLISHED = {"h1": KEY_1.public_key(), "h2": KEY_2.public_key()}
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
# zlib.compress(level 9) of the bytes in test_the_canonical_compression_is_pinned (zlib 1.2.13)
PINNED_COMPRESSION_SHA256 = "94365eae7ae9024a2e447ec809b3be1f14e11f90792029468b8a02d23bc49442"
BASE_URLS = ("http://127.0.0.1:8000", "https://lms.example.gov.cn/", "http://Train.Example.com:8080")


def make_facts(courses: int = 3, **changes) -> CertificateFacts:
    facts = CertificateFacts(
        number="XS2026AB12CD34", name="王建国", masked_id="440604********1235", institution="佛山市测试培训中心",
        class_title="危险化学品经营单位主要负责人初训班", training_type="初训",
        category="危险化学品经营单位 主要负责人", hours=16.0, required_hours=16,
        courses=tuple(CourseLine(f"危险化学品安全基础第{n}部分", 2.5 + n, 80 + n) for n in range(1, courses + 1)),
        start=date(2026, 11, 2), completed=date(2026, 11, 20), issued_at=datetime(2026, 11, 20, 8, 30, 15),
        key_id="h1")
    return dataclasses.replace(facts, **changes)


def reencoded(token: str, raw: bytes) -> str:
    """``raw`` put in the place of the token's signed bytes, the token's signature kept."""
    _old, signature = payload.open_token(token)
    return base45.b45encode(zlib.compress(raw + signature, 9)).decode("ascii")


def packed(raw: bytes) -> str:
    """Arbitrary bytes in the payload's wrapping (zlib, Base45), with no meaning given to them."""
    return base45.b45encode(zlib.compress(raw, 9)).decode("ascii")


def signed_json(data: dict, key=KEY_1) -> str:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return packed(raw + key.sign(raw))


def facts_json(facts: CertificateFacts | None = None) -> dict:
    return json.loads(payload.to_json(facts or make_facts()))


def reason_of(token: str, keys=None) -> str:
    with pytest.raises(PayloadError) as caught:
        payload.verify(token, PUBLISHED if keys is None else keys)
    return caught.value.reason


# --- round trip ------------------------------------------------------------------------------------

def test_round_trip_gives_back_every_fact():
    facts = make_facts()
    token = payload.sign(facts, KEY_1)
    assert payload.verify(token, PUBLISHED) == facts
    assert payload.peek(token) == facts
    assert set(token) <= set(BASE45_ALPHABET)


def test_round_trip_of_the_odd_cases():
    """No courses, no dates, no score, an aware issue time (read back as naive UTC)."""
    facts = make_facts(courses=0, start=None, completed=None, issued_at=None)
    assert payload.verify(payload.sign(facts, KEY_1), PUBLISHED) == facts
    lines = (CourseLine("无考试课程", 1.5, None), CourseLine("满分课程", 2.0, 100))
    facts = make_facts(courses=0)
    facts = dataclasses.replace(facts, courses=lines)
    assert payload.verify(payload.sign(facts, KEY_1), PUBLISHED).courses == lines
    aware = datetime.fromisoformat("2026-11-20T16:30:15+08:00")
    back = payload.verify(payload.sign(make_facts(issued_at=aware), KEY_1), PUBLISHED)
    assert back.issued_at == datetime(2026, 11, 20, 8, 30, 15)


def test_a_real_token_never_starts_or_ends_with_a_space():
    """The verifier strips what it is given: a payload's first character comes from the zlib header and
    its last from Base45's final group, neither of which can be a space; checked on many payloads."""
    rng = random.Random(5)
    for n in range(300):
        facts = make_facts(courses=rng.randint(0, 8), number=f"XS2026{n:08d}", hours=rng.randint(1, 900) / 10)
        token = payload.sign(facts, KEY_1)
        assert token == token.strip()
        assert payload.verify(" \n" + token + "\r\n ", PUBLISHED) == facts


# --- every signed fact is covered by the signature ---------------------------------------------------

def changed_value(name: str, value):
    """A different value of the same type for one field of CertificateFacts."""
    changes = {
        "number": lambda: "XS2026AB12CD35", "name": lambda: "王建图", "masked_id": lambda: "440604********1236",
        "institution": lambda: value + " ", "class_title": lambda: "危险化学品经营单位主要负责人复训班",
        "training_type": lambda: "复训", "category": lambda: "危险化学品生产单位 主要负责人",
        "hours": lambda: value + 0.1, "required_hours": lambda: value - 1, "courses": lambda: value[:-1],
        "start": lambda: value - timedelta(days=1), "completed": lambda: value + timedelta(days=1),
        "issued_at": lambda: value + timedelta(seconds=1), "key_id": lambda: "h2"}
    return changes[name]()


def test_every_field_is_in_the_signed_json():
    """Each field of CertificateFacts changed alone changes the JSON that is signed; the list of fields
    is read from the dataclass, so a field added later without being signed fails here."""
    facts = make_facts()
    for field in dataclasses.fields(CertificateFacts):
        other = dataclasses.replace(facts, **{field.name: changed_value(field.name, getattr(facts, field.name))})
        assert payload.to_json(other) != payload.to_json(facts), field.name


@pytest.mark.parametrize("name", [field.name for field in dataclasses.fields(CertificateFacts)])
def test_changing_any_field_with_the_old_signature_is_refused(name):
    facts = make_facts()
    token = payload.sign(facts, KEY_1)
    forged = dataclasses.replace(facts, **{name: changed_value(name, getattr(facts, name))})
    assert payload.to_json(forged) != payload.to_json(facts)
    # key_id "h2" is another published key: still the signature that fails, not the key lookup.
    assert reason_of(reencoded(token, payload.to_json(forged))) == "signature"


@pytest.mark.parametrize("part", ["title", "hours", "score"])
def test_changing_any_course_line_with_the_old_signature_is_refused(part):
    facts = make_facts(courses=4)
    token = payload.sign(facts, KEY_1)
    new = {"title": lambda line: line.title + "（修订）", "hours": lambda line: line.hours + 0.1,
           "score": lambda line: (line.score or 0) + 1}[part]
    for index, line in enumerate(facts.courses):
        courses = list(facts.courses)
        courses[index] = dataclasses.replace(line, **{part: new(line)})
        forged = dataclasses.replace(facts, courses=tuple(courses))
        assert reason_of(reencoded(token, payload.to_json(forged))) == "signature", (part, index)
    # Lines swapped, or a score removed, are changes too.
    swapped = dataclasses.replace(facts, courses=(facts.courses[1], facts.courses[0], *facts.courses[2:]))
    assert reason_of(reencoded(token, payload.to_json(swapped))) == "signature"
    data = facts_json(facts)
    data["c"][0][2] = None
    assert reason_of(reencoded(token, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())) \
        == "signature"


def test_same_facts_written_differently_are_refused():
    """The signature is over the exact bytes: the same facts re-serialised (spaces, key order, ASCII
    escapes, an added key) no longer verify."""
    facts = make_facts()
    token = payload.sign(facts, KEY_1)
    data = facts_json(facts)
    for raw in (json.dumps(data, ensure_ascii=False).encode(),
                json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode(),
                json.dumps(dict(reversed(list(data.items()))), ensure_ascii=False, separators=(",", ":")).encode(),
                json.dumps(dict(data, x=1), ensure_ascii=False, separators=(",", ":")).encode()):
        assert payload.from_json(raw) == facts
        assert reason_of(reencoded(token, raw)) == "signature"


def test_flipping_any_byte_of_the_compressed_payload_never_passes():
    """Every byte of a real payload's zlib stream, flipped three ways: refused as format (zlib's own
    checks, most of all its Adler-32 of the content; and deflate's padding, the bits after the final
    block's end code that zlib does not read, by the canonical-encoding check) or signature."""
    token = payload.sign(make_facts(courses=8), KEY_1)
    compressed = base45.b45decode(token)
    reasons, passed = set(), set()
    for position in range(len(compressed)):
        for mask in (0x01, 0x80, 0xFF):
            damaged = bytearray(compressed)
            damaged[position] ^= mask
            other = base45.b45encode(bytes(damaged)).decode("ascii")
            try:
                facts = payload.verify(other, PUBLISHED)
            except PayloadError as error:
                assert error.reason in ("format", "signature"), (position, mask, error.reason)
                reasons.add(error.reason)
            else:
                passed.add((position, mask, facts))
    assert "format" in reasons
    assert passed == set()


# --- one encoding only: the QR text of a certificate cannot be varied ------------------------------------

@pytest.mark.parametrize("tail", [b"\x00", b"junk", zlib.compress(b"x", 9)])
def test_bytes_after_the_zlib_stream_are_refused(tail):
    token = payload.sign(make_facts(), KEY_1)
    extended = base45.b45encode(base45.b45decode(token) + tail).decode("ascii")
    with pytest.raises(PayloadError) as caught:
        payload.verify(extended, PUBLISHED)
    assert (caught.value.reason, caught.value.detail) == ("format", "trailing data")
    assert pytest.raises(PayloadError, payload.open_token, extended).value.detail == "trailing data"


def _compressed_otherwise(whole: bytes):
    """The same bytes through zlib with every other level, strategy and window size."""
    for level in range(10):
        for strategy in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED, zlib.Z_HUFFMAN_ONLY, zlib.Z_RLE, zlib.Z_FIXED):
            for wbits in (9, 12, 15):
                squeezer = zlib.compressobj(level, zlib.DEFLATED, wbits, 9, strategy)
                yield squeezer.compress(whole) + squeezer.flush()


def test_the_same_content_compressed_again_differently_is_refused():
    token = payload.sign(make_facts(), KEY_1)
    canonical = base45.b45decode(token)
    whole = b"".join(payload.open_token(token))
    variants = {other for other in _compressed_otherwise(whole) if other != canonical}
    assert len(variants) > 10
    for other in variants:
        assert zlib.decompress(other) == whole
        with pytest.raises(PayloadError) as caught:
            payload.verify(base45.b45encode(other).decode("ascii"), PUBLISHED)
        assert (caught.value.reason, caught.value.detail) == ("format", "not canonical")


def test_the_canonical_compression_is_pinned():
    """Verification re-compresses the signed bytes and compares: if an upgrade of zlib ever changed
    the output of level 9, every certificate issued before it would be refused. Fixed bytes shaped
    like a payload (Ed25519 signatures are deterministic) catch such a change."""
    raw = json.dumps({"v": 1, "k": "h1", "t": 1795000000, "no": "XS2026AB12CD34", "n": "王建国",
                      "c": [[f"危险化学品安全基础第{n}部分", 3.5, 81] for n in range(4)]},
                     ensure_ascii=False, separators=(",", ":")).encode()
    compressed = zlib.compress(raw + KEY_1.sign(raw), 9)
    assert hashlib.sha256(compressed).hexdigest() == PINNED_COMPRESSION_SHA256, zlib.ZLIB_RUNTIME_VERSION


def test_flipping_any_bit_of_the_signed_bytes_never_passes():
    """Past zlib's checksum: every signed byte and every signature byte changed, then compressed
    properly. Whatever the change breaks (the JSON, the version, the key id, a fact, the signature),
    the payload is refused."""
    token = payload.sign(make_facts(courses=2), KEY_1)
    raw, signature = payload.open_token(token)
    whole = raw + signature
    reasons = set()
    for position in range(len(whole)):
        damaged = bytearray(whole)
        damaged[position] ^= 0x01
        reasons.add(reason_of(packed(bytes(damaged))))
    assert {"format", "signature"} <= reasons <= {"format", "version", "unknown_key", "signature"}


# --- keys ---------------------------------------------------------------------------------------------

def test_signed_by_a_key_id_nobody_published_is_unknown_key():
    stranger = Ed25519PrivateKey.generate()
    token = payload.sign(make_facts(key_id="h9"), stranger)
    assert reason_of(token) == "unknown_key"
    assert reason_of(payload.sign(make_facts(), KEY_1), {}) == "unknown_key"


def test_key_id_swapped_to_another_published_key_is_signature():
    token = payload.sign(make_facts(key_id="h1"), KEY_1)
    swapped = reencoded(token, payload.to_json(make_facts(key_id="h2")))
    assert reason_of(swapped) == "signature"
    # Signed by one published key while naming the other.
    assert reason_of(payload.sign(make_facts(key_id="h1"), KEY_2)) == "signature"
    assert reason_of(payload.sign(make_facts(key_id="h2"), KEY_1)) == "signature"
    assert payload.verify(payload.sign(make_facts(key_id="h2"), KEY_2), PUBLISHED).key_id == "h2"


# --- malformed input: the right reason, never another exception ---------------------------------------

def test_empty_and_oversized_input_is_format():
    for text in ("", "   ", "\n", None, "A" * (payload.MAX_TOKEN_CHARS + 3)):
        assert reason_of(text) == "format", text


@pytest.mark.parametrize("text", ["abc", "ÄÖÜ", "证书", "QQQQ", "A", "AAAA", "ZZZ", "::::", "N#AB", "XS2026\x00"])
def test_not_base45_is_format(text):
    assert reason_of(text) == "format"


def test_base45_of_bytes_that_are_not_zlib_is_format():
    for raw in (b"hello, world", b"\x78\xda\x00\x00\x00\x00", bytes(range(256)), b"\x00"):
        assert reason_of(base45.b45encode(raw).decode("ascii")) == "format"


def test_a_zlib_bomb_is_refused_without_inflating_it():
    bomb = packed(b"\x00" * (payload.MAX_PAYLOAD_BYTES * 200))
    assert len(bomb) < 10_000
    with pytest.raises(PayloadError) as caught:
        payload.verify(bomb, PUBLISHED)
    assert (caught.value.reason, caught.value.detail) == ("format", "too large")
    # Just over the limit is too large; exactly at it is read (and then refused for what it holds).
    over = packed(b" " * (payload.MAX_PAYLOAD_BYTES + 1))
    assert pytest.raises(PayloadError, payload.open_token, over).value.detail == "too large"
    at_limit = packed(b" " * payload.MAX_PAYLOAD_BYTES)
    raw, _signature = payload.open_token(at_limit)
    assert len(raw) == payload.MAX_PAYLOAD_BYTES - payload.SIGNATURE_BYTES


def test_truncated_zlib_is_format():
    token = payload.sign(make_facts(courses=8), KEY_1)
    compressed = base45.b45decode(token)
    details = set()
    for cut in range(1, len(compressed)):
        with pytest.raises(PayloadError) as caught:
            payload.verify(base45.b45encode(compressed[:cut]).decode("ascii"), PUBLISHED)
        assert caught.value.reason == "format", cut
        details.add(caught.value.detail)
    assert "truncated" in details


def test_too_short_for_a_signature_is_format():
    for raw in (b"", b"{}", b"x" * payload.SIGNATURE_BYTES):
        assert pytest.raises(PayloadError, payload.verify, packed(raw), PUBLISHED).value.detail == "too short"


@pytest.mark.parametrize("raw", [b"[1,2,3]", b'"text"', b"42", b"null", b"true", b"\xff\xfe{", b"{not json",
                                 "{'v': 1}".encode()])
def test_json_that_is_not_an_object_is_format(raw):
    assert reason_of(packed(raw + bytes(64))) == "format"


@pytest.mark.parametrize("version", [0, 2, "1", None, 1.5, [1]])
def test_wrong_version_is_version(version):
    data = facts_json()
    data["v"] = version
    assert reason_of(signed_json(data)) == "version"
    del data["v"]
    assert reason_of(signed_json(data)) == "version"


@pytest.mark.parametrize("key", ["k", "no", "n", "id", "i", "cl", "tt", "q", "h", "r", "c"])
def test_a_missing_field_is_format(key):
    data = facts_json()
    del data[key]
    assert reason_of(signed_json(data)) == "format"


def test_optional_fields_may_be_missing():
    data = facts_json()
    for key in ("t", "s", "e"):
        del data[key]
    facts = payload.verify(signed_json(data), PUBLISHED)
    assert (facts.issued_at, facts.start, facts.completed) == (None, None, None)


@pytest.mark.parametrize("key, value", [
    ("c", 5), ("c", [[1]]), ("c", [["课程", "两小时", 90]]), ("c", [["课程", 2.0, "优"]]), ("c", [None]),
    ("c", "abc"), ("h", None), ("h", "很多"), ("h", [1]), ("r", "十六"), ("r", None), ("t", "昨天"), ("t", [1]),
    ("s", "2026-13-01"), ("s", 20261101), ("e", "yesterday"),
])
def test_a_malformed_field_is_format(key, value):
    data = facts_json()
    data[key] = value
    assert reason_of(signed_json(data)) == "format"


@pytest.mark.parametrize("key, value", [
    ("t", 1e300), ("t", 10**20), ("t", -10**15), ("t", 253402300800), ("r", float("inf")), ("r", float("nan")),
    ("c", [["课程", 2.0, float("inf")]]), ("h", 1e400),
])
def test_numbers_out_of_range_are_format(key, value):
    """json reads 1e400, Infinity and NaN; turned into a date or an int they overflow. The verifier
    reads the JSON before it checks the signature, so anyone can send these."""
    data = facts_json()
    data[key] = value
    token = signed_json(data)
    try:
        facts = payload.verify(token, PUBLISHED)
    except PayloadError as error:
        assert error.reason == "format"
    else:  # an out-of-range float that stays a float is a (signed) fact like any other
        assert key == "h"
        assert facts.hours == float("inf")


def test_deeply_nested_json_is_format():
    for depth in (100, 5000):
        raw = b'{"v":1,"c":' + b"[" * depth + b"]" * depth + b"}"
        assert reason_of(packed(raw + bytes(64))) == "format", depth


class TokenStrategies:
    base45_text = st.text(alphabet=BASE45_ALPHABET, max_size=600)
    any_bytes = st.binary(max_size=2000)
    json_scalar = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
                   | st.text(max_size=20) | st.sampled_from([float("inf"), 1e300, 10**20, -10**20, 2**63]))
    json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(st.text(max_size=3), inner, max_size=4), max_leaves=12)


def only_payload_error(token) -> None:
    try:
        payload.verify(token, PUBLISHED)
    except PayloadError as error:
        assert error.reason in ("format", "version", "unknown_key", "signature")
    else:
        raise AssertionError(f"accepted {token!r}")


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.text(max_size=400) | TokenStrategies.base45_text)
def test_any_text_is_refused_with_payload_error(text):
    only_payload_error(text)
    assert payload.token_from_text(text) is not None


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(TokenStrategies.any_bytes)
def test_any_bytes_in_base45_or_in_zlib_are_refused_with_payload_error(raw):
    only_payload_error(base45.b45encode(raw).decode("ascii"))
    only_payload_error(packed(raw))


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(st.dictionaries(st.sampled_from(["v", "k", "t", "no", "n", "id", "i", "cl", "tt", "q", "h", "r", "c", "s",
                                        "e", "x"]), TokenStrategies.json_value, max_size=6),
       st.booleans())
def test_any_json_fields_signed_by_a_published_key_verify_or_fail_with_payload_error(replaced, signed):
    """The real facts with arbitrary JSON values put in place of some fields, signed (so that the
    verifier reads every field) or not."""
    data = dict(facts_json(), **replaced)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=True).encode()
    token = packed(raw + (KEY_1.sign(raw) if signed else bytes(64)))
    try:
        facts = payload.verify(token, PUBLISHED)
    except PayloadError as error:
        assert error.reason in ("format", "version", "unknown_key", "signature")
    else:
        assert signed and isinstance(facts, CertificateFacts)


# --- the QR text ----------------------------------------------------------------------------------

def random_tokens(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    tokens = []
    for n in range(count):
        facts = make_facts(courses=rng.randint(0, 8), number=f"XS2026{rng.getrandbits(40):010X}",
                           hours=rng.randint(1, 900) / 10, required_hours=rng.randint(1, 90),
                           name=rng.choice(["王建国", "李四", "欧阳娜娜", "Zhang San"]))
        tokens.append(payload.sign(dataclasses.replace(facts, key_id=f"h{n % 2 + 1}"), KEY_2 if n % 2 else KEY_1))
    return tokens


def test_url_round_trip_of_many_real_tokens():
    tokens = random_tokens(400)
    for special in " %/.":
        assert any(special in token for token in tokens), special  # the hard characters are covered
    for n, token in enumerate(tokens):
        base = BASE_URLS[n % len(BASE_URLS)]
        url = payload.verification_url(base, token)
        assert set(url) <= QR_ALPHANUMERIC, url
        assert url.startswith(base.rstrip("/").upper() + payload.URL_PATH)
        assert url.count(payload.URL_PATH) == 1  # the payload stays one path segment
        assert payload.token_from_text(url) == token
        assert payload.token_from_text(" " + url + "\n") == token
        assert payload.token_from_text(token) == token  # a bare payload passes through
        assert payload.verify(payload.token_from_text(url), PUBLISHED).number


@settings(max_examples=500, derandomize=True, deadline=None, database=None)
@given(st.text(alphabet=BASE45_ALPHABET, min_size=1, max_size=300).map(str.strip).filter(bool),
       st.sampled_from(BASE_URLS))
def test_url_round_trip_of_any_base45_text(token, base):
    url = payload.verification_url(base, token)
    assert set(url) <= QR_ALPHANUMERIC
    assert payload.token_from_text(url) == token


@pytest.mark.parametrize("token", ["A B", "A%20B", "%", "%%", "%2F", "A/B", "/V/", "A/./B", "A/../B", "..", ".",
                                   "HTTP://X/V/AB", "A$B*C+D-E.F:G", "$%*+-./:"])
def test_url_round_trip_of_awkward_payloads(token):
    url = payload.verification_url(BASE_URLS[0], token)
    assert set(url) <= QR_ALPHANUMERIC
    assert url.count("/") == 4  # "HTTP:", "", host, "V", the payload: nothing inside it splits the path
    assert payload.token_from_text(url) == token


def test_a_bare_payload_passes_through_unchanged():
    for token in random_tokens(200, seed=11):
        assert payload.token_from_text(token) == token
        assert payload.token_from_text("  " + token + "\r\n") == token


# Eight different course titles of 20 characters each, as a real class has (repeated titles would
# compress to almost nothing and prove little).
DISTINCT_TITLES = (
    "危险化学品安全生产法律法规及标准体系解读", "危险化学品经营单位安全生产管理制度建设与",
    "重大危险源辨识评估监控与应急处置能力提升", "危险化学品储存运输装卸环节事故隐患排查治",
    "生产安全事故应急预案编制演练与现场处置能", "安全生产双重预防机制建设风险分级管控与隐",
    "职业病危害因素识别与个体防护用品正确选用", "典型危险化学品事故案例警示教育与经验教训")
QR_VERSION_25_Q_ALPHANUMERIC = 1041   # characters, found with zxing's own encoder (version 26-Q: 1,094)


def qr_version_of(text: str) -> int:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")
    modules = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False)).shape[0]
    assert (modules - 17) % 4 == 0
    return (modules - 17) // 4


def test_qr_version_capacity_used_below():
    assert qr_version_of("A" * QR_VERSION_25_Q_ALPHANUMERIC) == 25
    assert qr_version_of("A" * (QR_VERSION_25_Q_ALPHANUMERIC + 1)) == 26


def test_the_url_of_a_full_certificate_fits_a_phone_scannable_qr_at_level_q():
    """8 courses with different 20-character Chinese titles and long names elsewhere: the URL on the
    platform's public address stays in alphanumeric mode, decodes back to the same payload, and fits QR
    version 28 (129 x 129 modules) at error correction level Q. The certificate prints it at 0.4 mm a
    module (about 52 mm), which a phone reads; tests/test_hours_pdf.py decodes it from a 100 dpi render.
    Measured: 1,109-1,172 characters, version 27; about 100 of them are the escapes of space, % and /."""
    assert len(set(DISTINCT_TITLES)) == 8 and all(len(title) == 20 for title in DISTINCT_TITLES)
    facts = make_facts(courses=0, name="欧阳建国", institution="广东省佛山市禅城区安全生产培训中心",
                       class_title="危险化学品经营单位主要负责人安全生产知识和管理能力初训班",
                       category="危险化学品经营单位 主要负责人", hours=16.0, required_hours=16,
                       number="XS2026ABCDEFGH")
    facts = dataclasses.replace(facts, courses=tuple(CourseLine(title, 2.0, 96) for title in DISTINCT_TITLES))
    token = payload.sign(facts, KEY_1)
    url = payload.verification_url("https://aqpx.example.gov.cn", token)
    assert set(url) <= QR_ALPHANUMERIC
    barcode = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")
    decoded = zxingcpp.read_barcodes(np.pad(np.asarray(barcode.to_image(scale=3)), 20, constant_values=255))
    assert [result.text for result in decoded] == [url]
    assert payload.verify(payload.token_from_text(decoded[0].text), PUBLISHED) == facts
    assert qr_version_of(url) <= 28, f"{len(url)} characters need QR version {qr_version_of(url)} at level Q"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:abc\u00e9", max_size=60))
def test_the_fast_base45_decoder_agrees_with_the_library(text):
    """payload.b45decode (numpy) gives the library's bytes, and refuses what the library refuses."""
    try:
        expected = base45.b45decode(text)
    except ValueError:
        with pytest.raises(ValueError):
            payload.b45decode(text)
    else:
        assert payload.b45decode(text) == expected


def test_the_fast_base45_decoder_round_trips_real_bytes():
    for length in range(0, 300, 7):
        data = bytes((i * 37 + length) % 256 for i in range(length))
        assert payload.b45decode(base45.b45encode(data).decode()) == data
    for bad in ("GGW", "A", ":::", "ZZZ"):     # groups above 0xFFFF or a lone character
        with pytest.raises(ValueError):
            payload.b45decode(bad)
