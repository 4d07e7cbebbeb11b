"""Personal data at rest: the raw database and the media folder hold no plaintext."""
import base64
import hashlib
import re
from itertools import product
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from lms.core.clock import china_date, utcnow
from lms.core.context import Actor
from lms.core.iddocs import gb11643_check_char, mask, public_mask
from lms.institutions.services import apply_to_class

from .conftest import enrolment_photo, learner_profile, login, register, valid_id
from .hoursdata import earn_certificate


def _raw_database_bytes(app, db) -> bytes:
    """Every row of every table as the database returns it, plus the SQLite file itself."""
    chunks = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                chunks.append(repr(tuple(row)).encode("utf-8"))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///"):
        db.session.commit()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint")
        chunks.append(Path(url.removeprefix("sqlite:///")).read_bytes())
    return b"\n".join(chunks)


def test_no_plaintext_identity_or_images_at_rest(app, db, learner, open_class, actor, staff_client):
    apply_to_class(learner, open_class, "T440604197403121235", utcnow(), actor)
    staff_client.get(f"/learners/{learner.id}/materials/photo")  # viewing is logged too
    raw = _raw_database_bytes(app, db)
    number = learner.id_number
    for secret in (number, number.lower(), learner.name, "王建国"):
        assert secret.encode("utf-8") not in raw, secret
        assert secret.encode("utf-16-le") not in raw
    # Fragments (masked forms, birth dates) are the subject of the reconstruction tests below.
    media = b"".join(p.read_bytes() for p in Path(app.config["MEDIA_ROOT"]).rglob("*") if p.is_file())
    assert media and number.encode() not in media
    photo, _ = enrolment_photo()   # the bytes the learner registered with
    for probe in (photo[:64], photo[2000:2064], b"JFIF", b"\x89PNG"):
        assert probe not in media and probe not in raw
    assert len(list(Path(app.config["MEDIA_ROOT"]).rglob("*.jpg"))) == 0


def test_id_number_is_found_through_the_keyed_hash(db, learner):
    from lms.accounts.services import find_user_by_login
    assert find_user_by_login(learner.id_number).id == learner.user_id
    row = db.session.execute(text("SELECT id_number, id_number_hash FROM learners")).one()
    assert row.id_number.startswith("t1$") and len(row.id_number_hash) == 64


# --- rebuilding an ID number from what is readable without keys, plus what is public -------------
#
# A GB 11643 number is district (6 digits) + birth date (8) + sequence (3, odd for men) + check
# character. The attacker holds the raw database (every row as the database returns it, and the
# SQLite file), the application's log, and everything anyone may see of a learner's certificate
# (the verification page and API by number and by QR code, the QR code's own text, the certificate
# PDF and the study record PDF the learner hands out); no key. Per learner they take the learner's
# own row, the rows tied to the learner (foreign keys, "learner:<id>" / "user:<id>" references),
# the public texts of the learner's certificates, and the rows tied to nobody (which might be
# anyone's), and count every valid number consistent with them.

ID_NUMBER = re.compile(r"(?<![0-9])[1-8]\d{16}[\dX](?![0-9])", re.I)
MASKED = re.compile(r"(?<![0-9Xx*])[0-9Xx*]*\*[0-9Xx*]*(?![0-9Xx*])")   # 4406****123X, 4406***, ***23X
PLAIN_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
LEARNER_REF = re.compile(r"learner:(\d+)")
USER_REF = re.compile(r"user:(\d+)")
DIGESTS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "blake2b", "blake2s")


def _raw_rows(db) -> dict[str, list[dict]]:
    with db.engine.connect() as conn:
        return {table.name: [dict(row._mapping) for row in conn.execute(text(f"SELECT * FROM {table.name}"))]
                for table in db.metadata.sorted_tables}


def _tied_learners(table: str, row: dict, learner_of_user: dict[int, int]) -> set[int]:
    """The learners a row can be attributed to by an attacker who knows the schema."""
    tied = set()
    if table == "learners":
        tied.add(row["id"])
    if table == "users" and row["id"] in learner_of_user:
        tied.add(learner_of_user[row["id"]])
    if row.get("learner_id") is not None:
        tied.add(row["learner_id"])
    for column in ("user_id", "owner_user_id"):
        if row.get(column) in learner_of_user:
            tied.add(learner_of_user[row[column]])
    words = " ".join(str(value) for value in row.values())
    tied.update(int(n) for n in LEARNER_REF.findall(words))
    tied.update(learner_of_user[int(n)] for n in USER_REF.findall(words) if int(n) in learner_of_user)
    return tied


def _plain_date(value) -> date | None:
    if isinstance(value, date):
        return value if not isinstance(value, datetime) else value.date()
    match = PLAIN_DATE.match(str(value or ""))
    return date(*map(int, match.groups())) if match else None


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:   # 29 February
        return day.replace(year=day.year - years, day=28)


def _birth_candidates(learner_row: dict, registered: date) -> list[date]:
    """Birth dates consistent with the learner row's plaintext birth columns (date, year); without
    them, every date registration accepts (16 to 100 years old on the day of registering, which
    users.created_at tells)."""
    for column, value in learner_row.items():
        if "birth" in column and _plain_date(value):
            return [_plain_date(value)]
    for column, value in learner_row.items():
        if "birth" in column and re.fullmatch(r"\d{4}", str(value or "")):
            return _days(date(int(value), 1, 1), date(int(value), 12, 31))
    return _days(_years_before(registered, 101) + timedelta(days=1), _years_before(registered, 16))


def _fragments(words: str) -> list[dict[int, str]]:
    """Masked forms of 18-character numbers: {position: character} for each one seen."""
    found = []
    for run in MASKED.findall(words):
        run = run.upper()
        if not re.search(r"[0-9X]", run):
            continue
        if len(run) == 18:
            known = {i: c for i, c in enumerate(run) if c != "*"}
        else:   # only the leading and trailing known characters can be placed
            head = re.match(r"[0-9X]*", run).group()
            tail = re.search(r"[0-9X]*$", run).group()
            known = {i: c for i, c in enumerate(head)} | {18 - len(tail) + i: c for i, c in enumerate(tail)}
        found.append(known)
    return found


def _merged(*facts: dict[int, str]) -> dict[int, str] | None:
    """The facts together, or None when they contradict each other."""
    merged = {}
    for known in facts:
        for position, char in known.items():
            if merged.setdefault(position, char) != char:
                return None
    return merged


def _fits(text_: str, known: dict[int, str], offset: int) -> bool:
    return all(known.get(offset + i, c) == c for i, c in enumerate(text_))


def count_numbers(regions, births, known: dict[int, str], parity: int | None) -> int:
    """How many valid numbers have a district in ``regions``, a birth date in ``births``, the
    sequence's parity and the characters ``known`` at their positions (check character computed)."""
    from lms.core.iddocs import CHECK_CHARS, WEIGHTS

    def residue(chars: str, offset: int) -> int:
        return sum(int(c) * WEIGHTS[offset + i] for i, c in enumerate(chars)) % 11

    region_bins, birth_bins = [0] * 11, [0] * 11
    for region in regions:
        if _fits(region, known, 0):
            region_bins[residue(region, 0)] += 1
    for born in births:
        if _fits(f"{born:%Y%m%d}", known, 6):
            birth_bins[residue(f"{born:%Y%m%d}", 6)] += 1
    checks = {known[17]} if 17 in known else set(CHECK_CHARS)
    seq_bins = [0] * 11   # by the residue the district and birth date leave
    for seq in range(1000):
        digits = f"{seq:03d}"
        if (parity is None or seq % 2 == parity) and _fits(digits, known, 14):
            for before in range(11):
                if CHECK_CHARS[(before + residue(digits, 14)) % 11] in checks:
                    seq_bins[before] += 1
    return sum(region_bins[a] * birth_bins[b] * seq_bins[(a + b) % 11] for a in range(11) for b in range(11))


def _candidates(learner_row: dict, registered: date, own: str, shared: str, districts: set[str]) -> int:
    """How many ID numbers fit everything the attacker can read about this learner: ``own`` is what
    is tied to the learner, ``shared`` what might be anyone's (each fragment there is tried as theirs)."""
    region = str(learner_row.get("region_code") or "")
    births = _birth_candidates(learner_row, registered)
    parity = {"M": 1, "F": 0}.get(str(learner_row.get("gender")))
    whole = {n.upper() for n in ID_NUMBER.findall(own + " " + shared)
             if gb11643_check_char(n[:17]) == n[17].upper()}
    whole = {n for n in whole if (n[:6] == region or not re.fullmatch(r"\d{6}", region))
             and _plain_date(f"{n[6:10]}-{n[10:12]}-{n[12:14]}") in births}
    if whole:
        return len(whole)
    own_fragments = _fragments(own)
    together = _merged(*own_fragments)
    counts = []
    for known, extra in product([together] if together is not None else own_fragments, [{}] + _fragments(shared)):
        facts = _merged(known, extra)
        if facts is None:
            continue
        # Worst case for us: the learner's district (region_code) is the one in their number.
        regions = [region] if re.fullmatch(r"\d{6}", region) and _fits(region, facts, 0) else sorted(districts)
        counts.append(count_numbers(regions, births, facts, parity))
    return min(n for n in counts if n) if any(counts) else 0


def reconstruction_candidates(db, public: dict[int, str] | None = None, log: str = "") -> dict[int, int]:
    """Learner id -> number of ID numbers left after the attack, for learners with resident IDs.
    ``public``: what anyone may see of each learner's certificates; ``log``: the application log."""
    rows = _raw_rows(db)
    learner_of_user = {row["user_id"]: row["id"] for row in rows["learners"]}
    registered = {row["id"]: china_date(datetime.fromisoformat(str(row["created_at"])))
                  for row in rows["users"] if row["id"] in learner_of_user}
    districts = {row["code"] for row in rows["regions"] if row["level"] == 3}
    tied = {learner["id"]: [] for learner in rows["learners"]}
    shared = [log]
    for table, table_rows in rows.items():
        for row in table_rows:
            owners = _tied_learners(table, row, learner_of_user)
            for owner in owners & tied.keys():
                tied[owner].append(row)
            if not owners:
                shared.append(row)
    shared_words = " ".join(repr(value) for row in shared[1:] for value in row.values()) + " " + log
    public = public or {}
    left = {}
    for learner in rows["learners"]:
        if learner["id_type"] != "resident_id":
            continue
        own = " ".join(repr(value) for row in tied[learner["id"]] for value in row.values())
        own += " " + public.get(learner["id"], "")
        left[learner["id"]] = _candidates(learner, registered[learner["user_id"]], own, shared_words, districts)
    return left


def unkeyed_hash_found(number: str, words: str) -> bool:
    """Whether a plain (unkeyed) hash of the number is readable: trying every candidate against it
    takes seconds, so the number is as good as known."""
    words = words.lower()
    for variant in {number, number.lower()}:
        for name in DIGESTS:
            digest = hashlib.new(name, variant.encode()).digest()
            if digest.hex() in words or base64.b64encode(digest).decode().lower() in words:
                return True
    return False


THIRD_ID = valid_id("44060419960229002")  # a woman born on 29 February


@pytest.fixture()
def learners_in_use(app, db, learner, other_learner, institution, staff, staff_client, actor):
    """Resident-ID learners with the records daily use leaves: failed and good sign-ins (one
    before registering), refresher applications with "T" + ID certificate numbers, a review,
    staff opening their materials."""
    from lms.institutions.services import approve_application
    from .conftest import make_class
    anonymous = app.test_client()
    login(anonymous, THIRD_ID, "not-yet-registered")      # unknown account: the number itself was typed
    login(anonymous, learner.id_number[:-3] + "000")       # a typo of a registered number
    third = register(learner_profile(THIRD_ID, name="陈红"), actor)
    refresher = make_class(db, institution)
    for person in (learner, other_learner, third):
        client = app.test_client()
        login(client, person.id_number, "wrong-password")
        login(client, person.id_number)
        application = apply_to_class(person, refresher, "T" + person.id_number, utcnow(), Actor(person.user))
        staff_client.get(f"/learners/{person.id}/materials/photo")
        staff_client.get(f"/applications/{application.id}")
    approve_application(application, utcnow(), Actor(staff))
    db.session.expire_all()
    return [learner, other_learner, third]


@pytest.fixture()
def certified(db, learners_in_use, course, open_class, staff):
    """Each learner of ``learners_in_use`` with a real certificate: lessons done, the test passed."""
    from lms.institutions.services import approve_application
    for person in learners_in_use[1:]:
        application = apply_to_class(person, open_class, "T" + person.id_number, utcnow(), Actor(person.user))
        approve_application(application, utcnow(), Actor(staff))
    return [earn_certificate(person, course, open_class) for person in learners_in_use]


def public_texts(app, certificate, tmp_path) -> str:
    """Everything anyone may see of a certificate: the verification page and API by number and by
    QR code, the QR code's text and the JSON inside it, the certificate PDF and the study record PDF."""
    from lms.hours import payload, pdf

    from .test_hours_pdf import text_of
    anonymous = app.test_client()
    url = payload.verification_url(app.config["LMS_PUBLIC_URL"], certificate.token)
    pages = [anonymous.get("/hours/verify", query_string={"number": certificate.number}),
             anonymous.get("/hours/api/verify", query_string={"number": certificate.number}),
             anonymous.get("/hours/api/verify", query_string={"payload": url}),
             anonymous.get(url[url.index(payload.URL_PATH):])]
    assert all(page.status_code == 200 for page in pages)
    return "\n".join([page.get_data(as_text=True) for page in pages] + [
        payload.open_token(certificate.token)[0].decode(),   # the QR code's text, decoded (Base45, zlib)
        text_of(pdf.certificate_pdf_for(certificate), tmp_path),
        text_of(pdf.study_record_pdf(certificate.learner, utcnow()), tmp_path)])


def test_no_id_number_narrows_below_ten_thousand_candidates(app, db, certified, tmp_path, caplog):
    """The raw database, the log and every public view of each learner's certificate together."""
    public = {certificate.learner_id: public_texts(app, certificate, tmp_path) for certificate in certified}
    left = reconstruction_candidates(db, public, caplog.text)
    assert set(left) == {certificate.learner_id for certificate in certified}
    readable = _raw_database_bytes(app, db).decode("utf-8", "replace") + caplog.text + "".join(public.values())
    for certificate in certified:
        number = certificate.learner.id_number
        assert _fragments(public[certificate.learner_id])   # the attacker did read the shown fragment
        assert not unkeyed_hash_found(number, readable), number
        assert left[certificate.learner_id] >= 10_000, (number, left[certificate.learner_id])


def test_the_attack_rebuilds_a_number_from_what_was_stored_and_shown_before():
    """The attacker above is not blind: given what the platform used to store (district, plaintext
    birth date and gender, the log's masked number) it is left with the one right number; given
    the district and birth year it stored and the first and last four characters the verification
    page showed, with about 33."""
    number, registered = valid_id("44060419740312123"), date(2026, 11, 23)
    row = {"id": 1, "user_id": 1, "region_code": "440604", "birth_date": "1974-03-12", "gender": "M"}
    assert _candidates(row, registered, repr(row) + mask(number), "", {"440604"}) == 1
    assert _candidates(row, registered, "T" + number, "", {"440604"}) == 1
    stored = {"region_code": "440604", "birth_year": 1974}
    assert _candidates(stored, registered, f'"masked_id": "{mask(number)}"', "", {"440604"}) in range(30, 37)
    # District and birth year only: 365 days x 1,000 sequences.
    assert _candidates(stored, registered, "", "", {"440604"}) == 365_000
    # District, the registration date and the last three characters: about 31,000 days x 100 / 11.
    district_only = {"region_code": "440604"}
    assert 25_000 < _candidates(district_only, registered, public_mask(number), "", {"440604"}) < 31_000
    assert _fragments(public_mask(number)) == [{15: number[15], 16: number[16], 17: number[17]}]


def _id_fragments(number: str) -> list[bytes]:
    """Pieces of a resident ID number an attacker can use, as text in any common format."""
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    texts = [number, number.lower(), mask(number), number[:4] + "*", "*" + number[-4:],
             born.isoformat(), f"{born:%Y/%m/%d}", f"{born:%Y.%m.%d}", f"{born:%Y年%m月%d日}",
             f"{born.year}年{born.month}月{born.day}日", repr(born)]
    return [t.encode("utf-8") for t in texts]


def test_no_fragment_of_an_id_number_is_stored_in_plaintext(app, db, learners_in_use):
    raw = _raw_database_bytes(app, db)
    for person in learners_in_use:
        number = person.id_number
        for fragment in _id_fragments(number):
            assert fragment not in raw, fragment
        # The compact birth date, as a token of its own (not by chance inside base64 ciphertext).
        assert not re.search(rb"(?<![A-Za-z0-9+/])" + number[6:14].encode() + rb"(?![A-Za-z0-9+/])", raw)


def test_operation_log_names_learners_by_id_and_keeps_nothing_typed_at_sign_in(app, db, learner):
    from lms.accounts.services import unknown_login_ref
    from lms.audit.models import AuditLog
    login(app.test_client(), learner.id_number)
    login(app.test_client(), THIRD_ID, "not-registered")
    login(app.test_client(), THIRD_ID, "still-not-registered")
    login(app.test_client(), "somebody.else", "whatever")
    rows = db.session.query(AuditLog).filter_by(action="login").order_by(AuditLog.id).all()
    assert [row.actor for row in rows] == [f"learner:{learner.id}", "", "", ""]
    targets = [row.target for row in rows[1:]]
    # Repeated tries of one identifier can be told apart from others, without a trace of what was typed.
    assert targets[0] == targets[1] == unknown_login_ref(THIRD_ID) != targets[2]
    assert all(target.startswith("unknown:") and "*" not in target for target in targets)


def test_regulators_see_the_birth_year_and_masked_certificate_reviewers_the_full_ones(
        db, learner, open_class, actor, regulator_client, staff_client):
    certificate = "T" + learner.id_number
    application = apply_to_class(learner, open_class, certificate, utcnow(), actor)
    regulator_page = regulator_client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert 'id="birth">1974<' in regulator_page and "1974-03-12" not in regulator_page
    assert f'id="certificate-no">{mask(certificate)}<' in regulator_page
    assert learner.id_number not in regulator_page
    reviewer_page = staff_client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert 'id="birth">1974-03-12<' in reviewer_page and f'id="certificate-no">{certificate}<' in reviewer_page


def test_upgrade_encrypts_personal_data_stored_before_it(app, db, learner, open_class, actor):
    """Migration 9a03 on a database with learners: plaintext values are sealed, old log rows
    get opaque names, and the SQLite file keeps no copy of the replaced values."""
    from flask_migrate import downgrade, upgrade

    from lms.audit.models import AuditLog
    from lms.institutions.models import Application
    from lms.learners.models import Learner
    number, learner_id, user_id = learner.id_number, learner.id, learner.user_id
    apply_to_class(learner, open_class, "T" + number, utcnow(), actor)
    db.session.remove()
    downgrade(revision="9a02_sign_in_sessions")
    try:
        with db.engine.begin() as conn:
            before = conn.execute(text("SELECT birth_date, gender, work_unit FROM learners")).one()
            assert (str(before.birth_date), before.gender, before.work_unit) == ("1974-03-12", "M", "佛山市测试化工有限公司")
            assert conn.execute(text("SELECT previous_certificate_no FROM applications")).scalar() == "T" + number
            # How the log named people before: the masked number, and the start of what was typed.
            conn.execute(text(
                "INSERT INTO audit_log (at, user_id, actor, role, ip, user_agent, action, target, result, detail) "
                "VALUES (:at, :user_id, :actor, 'learner', '', '', 'logout', '', 'success', ''), "
                "(:at, NULL, '', '', '', '', 'login', :typed, 'failure', 'unknown_account')"),
                {"at": utcnow(), "user_id": user_id, "actor": mask(number), "typed": number[:4] + "***"})
    finally:
        upgrade()
    row = db.session.execute(text("SELECT birth_date, gender, work_unit FROM learners")).one()
    assert all(value.startswith("t1$") for value in (row.birth_date, row.gender, row.work_unit))
    assert "birth_year" not in _learner_columns(db)   # 9a03 kept it readable; h21d01 dropped it
    assert db.session.execute(text("SELECT previous_certificate_no FROM applications")).scalar().startswith("t1$")
    stored = db.session.get(Learner, learner_id)
    assert (stored.birth_date, stored.gender, stored.work_unit) == (date(1974, 3, 12), "M", "佛山市测试化工有限公司")
    assert db.session.query(Application).one().previous_certificate_no == "T" + number
    assert {row.actor for row in db.session.query(AuditLog).filter_by(role="learner")} == {f"learner:{learner_id}"}
    assert db.session.query(AuditLog).filter_by(detail="unknown_account").one().target == "unknown"
    raw = _raw_database_bytes(app, db)
    for fragment in _id_fragments(number) + ["佛山市测试化工有限公司".encode()]:
        assert fragment not in raw, fragment


def _learner_columns(db) -> set[str]:
    from sqlalchemy import inspect
    return {column["name"] for column in inspect(db.engine).get_columns("learners")}


def test_upgrade_drops_the_readable_birth_year_and_downgrade_restores_it(app, db, learner):
    """Migration h21d01: the year stored beside the district goes; going back fills it from the
    encrypted birth date."""
    from flask_migrate import downgrade, upgrade

    from lms.learners.models import Learner
    learner_id = learner.id
    db.session.remove()
    downgrade(revision="14a01_hours")
    try:
        assert db.session.execute(text("SELECT birth_year FROM learners")).scalar() == 1974
        db.session.remove()
    finally:
        upgrade()
    assert "birth_year" not in _learner_columns(db)
    assert db.session.get(Learner, learner_id).birth_year == 1974   # read from the encrypted date
