"""Registration over HTTP: the real form, real images, real encryption."""
import io
import re
from datetime import date, datetime

import pytest

from lms.accounts.models import User
from lms.audit.models import AuditLog
from lms.core.errors import RuleViolation
from lms.core.iddocs import parse_document
from lms.files.models import StoredFile
from lms.learners.models import Learner
from lms.learners.services import MAXIMUM_AGE, MINIMUM_AGE, Profile
from lms.registration.services import register_learner

from .conftest import PASSWORD, face_bytes, full_materials, image_bytes, learner_profile, register, valid_id

GOOD_ID = valid_id("44060519880721234")


def form(**overrides):
    data = {
        "name": "刘芳", "id_type": "resident_id", "id_number": GOOD_ID, "work_unit": "佛山市顺达仓储有限公司",
        "unit_category": "hazchem_trading", "position": "principal", "region_code": "440605",
        "education_level": "bachelor", "password": "Study#2026ok", "confirm": "Study#2026ok", "consent": "y",
        "photo": (io.BytesIO(face_bytes("obama_2.jpg")), "photo.jpg"),
        "id_document": (io.BytesIO(image_bytes()), "id.jpg"),
        "recommendation": (io.BytesIO(image_bytes("PNG")), "rec.png"),
    }
    data.update(overrides)
    return data


def post(client, **overrides):
    return client.post("/register", data=form(**overrides), content_type="multipart/form-data")


def field_errors(html: str, name: str) -> list[str]:
    """The error messages shown inside the field's own block (lms/templates/_forms.html)."""
    assert f'id="field-{name}"' in html, name
    block = html.split(f'id="field-{name}"', 1)[1].split("\n  </div>", 1)[0]
    return re.findall(r'<div class="error" role="alert">(.*?)</div>', block)


NOT_AN_IMAGE = "该文件不是完整的 JPEG 或 PNG 图片（可能已损坏，或是其他类型的文件改名而来）。"


def assert_nothing_written(db):
    assert db.session.query(Learner).count() == 0
    assert db.session.query(User).count() == 0
    assert db.session.query(StoredFile).count() == 0


def test_registration_creates_learner_with_derived_facts(client, db, app):
    response = post(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    learner = db.session.query(Learner).one()
    assert learner.id_number == GOOD_ID and learner.name == "刘芳"
    assert str(learner.birth_date) == "1988-07-21" and learner.gender == "F"  # 17th digit 4 is even
    assert {db.session.get(StoredFile, learner.file_id(k)).content_type for k in ("photo", "id_document")} == {"image/jpeg"}
    actions = {row.action for row in db.session.query(AuditLog)}
    assert {"register", "upload"} <= actions


@pytest.mark.parametrize("number, message", [
    ("4406051988072123", "格式"),
    (GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1"), "校验"),
    ("440605198802301234", "出生日期"),
])
def test_bad_id_numbers_get_a_message_next_to_the_field(client, db, number, message):
    response = post(client, id_number=number)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="field-id_number"' in html and message in html.split('id="field-id_number"')[1].split("</div>\n  </div>")[0]
    assert_nothing_written(db)


def _answer(app, **overrides) -> tuple:
    """What an anonymous visitor sees after posting the form: status, redirect and the page it leads to."""
    visitor = app.test_client()
    response = post(visitor, **overrides)
    shown = re.findall(r'<div class="flash[^"]*" role="status">(.*?)</div>',
                       visitor.get(response.headers.get("Location", "/register")).get_data(as_text=True))
    return response.status_code, response.headers.get("Location"), shown


def test_registering_a_registered_number_answers_as_for_a_new_one(app, db):
    """An anonymous visitor cannot learn whether a number has an account: the answer for a new
    number and for one already registered is the same, and says what the holder of an earlier
    account does. The earlier account is untouched; the attempt is logged under it."""
    other = valid_id("44060519900101345")
    first = _answer(app)
    again = _answer(app, name="冒名者", password="Other#2026pass", confirm="Other#2026pass")
    new = _answer(app, id_number=other, photo=(io.BytesIO(face_bytes("obama_2.jpg")), "photo.jpg"))
    assert first == again == new
    assert first[0] == 302 and "如该证件号码此前已注册，原账号保持不变" in first[2][0]
    assert db.session.query(Learner).count() == 2 and db.session.query(User).count() == 2
    assert {learner.name for learner in db.session.query(Learner)} == {"刘芳"}
    signed_in = app.test_client()
    assert signed_in.post("/login", data={"identifier": GOOD_ID, "password": "Study#2026ok"}).status_code == 302
    refused = db.session.query(AuditLog).filter_by(action="register", result="failure").one()
    assert refused.detail == "already_registered" and refused.target.startswith("learner:")


def test_a_registered_number_is_not_named_among_the_form_errors(app, client, db):
    assert post(app.test_client()).status_code == 302
    html = post(client, password="123456", confirm="123456").get_data(as_text=True)
    assert 'id="field-password"' in html and field_errors(html, "id_number") == []
    assert "已注册" not in html


# The payloads are made inside the test: a missing face photo skips that test, never the module's import.
@pytest.mark.parametrize("field, payload, name, message", [
    ("photo", lambda: b"MZ\x90\x00" + b"\x00" * 4000, "photo.jpg", NOT_AN_IMAGE),       # a renamed .exe
    ("id_document", lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF", "id.jpg", NOT_AN_IMAGE),  # a PDF, not an image
    ("photo", lambda: face_bytes("obama_1.jpg")[:40000], "cut.jpg", NOT_AN_IMAGE),       # a truncated JPEG
    ("recommendation", lambda: b"", "empty.png", "请选择文件。"),
], ids=["exe", "pdf", "truncated", "empty"])
def test_non_images_and_broken_images_are_refused(client, db, field, payload, name, message):
    response = post(client, **{field: (io.BytesIO(payload()), name)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_errors(html, field) == [message]
    assert_nothing_written(db)


def test_gif_is_not_an_allowed_type(client, db):
    response = post(client, photo=(io.BytesIO(image_bytes("GIF")), "photo.gif"))
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "photo") == ["仅支持 JPEG 或 PNG 格式的图片。"]
    assert_nothing_written(db)


def test_oversized_file_is_refused(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_MAX_UPLOAD_BYTES", 2 * 1024 * 1024)
    photo = image_bytes() + b"\x00" * (2 * 1024 * 1024)  # a JPEG padded past the limit
    response = post(client, photo=(io.BytesIO(photo), "photo.jpg"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert field_errors(html, "photo") == ["文件大小超过 2 MB。"]
    assert field_errors(html, "id_document") == field_errors(html, "recommendation") == []  # small: accepted
    assert_nothing_written(db)


def test_oversized_request_gets_a_clear_413(client, db):
    response = post(client, photo=(io.BytesIO(b"\xff" * (25 * 1024 * 1024)), "huge.jpg"))
    assert response.status_code == 413 and "上传" in response.get_data(as_text=True)
    assert_nothing_written(db)


def test_weak_password_and_missing_materials_are_reported(client, db):
    response = post(client, password="123456", confirm="123456", recommendation=(io.BytesIO(b""), ""))
    html = response.get_data(as_text=True)
    assert 'id="field-password"' in html and 'has-error" id="field-recommendation"' in html
    assert_nothing_written(db)


def test_passport_holder_gives_birth_date_and_gender(client, db):
    response = post(client, id_type="passport", id_number="E12345678", birth_date="1990-02-03", gender="F")
    assert response.status_code == 302
    learner = db.session.query(Learner).one()
    assert str(learner.birth_date) == "1990-02-03" and learner.gender == "F"


def test_no_contact_details_are_stored_anywhere(db):
    """Guangdong checklist item 14: no phone number, WeChat id or e-mail column exists."""
    columns = [column.name.lower() for table in db.metadata.sorted_tables for column in table.columns]
    for forbidden in ("phone", "mobile", "wechat", "openid", "email", "mail", "contact"):
        assert not [c for c in columns if forbidden in c], forbidden


# The age rule in the service, for every caller (the form shows it next to the birth date too) ----------

REGISTERED_AT = datetime(2026, 11, 23, 4, 0)  # naive UTC: 12:00 on 23 November 2026 in China


@pytest.mark.parametrize("born", ["20101124", "19251123"])
def test_register_learner_refuses_a_person_outside_the_learner_ages_whoever_calls(db, actor, born):
    """One day short of 16, or past 100, on the day of registration (China time): refused before
    anything is written, also when no form is in between."""
    profile = learner_profile(valid_id(f"440604{born}123"))
    with pytest.raises(RuleViolation) as refusal:
        register_learner(profile, PASSWORD, full_materials(image_bytes()), REGISTERED_AT, actor)
    assert refusal.value.code == "learner_age"
    assert refusal.value.details == {"minimum": MINIMUM_AGE, "maximum": MAXIMUM_AGE} == {"minimum": 16, "maximum": 100}
    assert_nothing_written(db)


def test_register_learner_refuses_a_profile_without_a_birth_date(db, actor):
    passport = Profile(name="Anna Muster", id_type="passport", document=parse_document("passport", "E12345678",
                       REGISTERED_AT.date()), birth_date=None, gender="F", work_unit="佛山市测试化工有限公司",
                       unit_category="hazchem_production", position="safety_manager", region_code="440604",
                       education_level="bachelor")
    with pytest.raises(RuleViolation) as refusal:
        register_learner(passport, PASSWORD, full_materials(image_bytes()), REGISTERED_AT, actor)
    assert refusal.value.code == "birth_date_missing"
    assert_nothing_written(db)


def test_a_learner_turning_16_on_the_day_of_registration_is_registered(db, actor):
    learner = register(learner_profile(valid_id("44060420101123123")), actor, now=REGISTERED_AT)
    assert learner.birth_date == date(2010, 11, 23) and learner.user.role == "learner"
