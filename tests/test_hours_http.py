"""The hours pages (issue 14): a learner's progress and certificates, staff corrections and
revocation, the public verification page and API, the published keys."""
import base64
import zlib

import base45
import pytest

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.hours import certificates, keys, ledger, payload
from lms.hours.models import REVOKED

from .conftest import csrf_token_from, login
from .hoursdata import earn_certificate, require_hours


@pytest.fixture()
def certificate(db, course, approved_learner, open_class):
    return earn_certificate(approved_learner, course, open_class)


def scanned_url(certificate) -> str:
    """The path a phone opens from the certificate's QR code."""
    return scanned_url_of(certificate.token)


def scanned_url_of(token: str) -> str:
    return payload.verification_url("http://localhost", token)[len("HTTP://LOCALHOST"):]


def test_before_the_requirement_the_certificate_is_grey_and_after_it_in_colour(db, course, approved_learner,
                                                                               open_class, learner_client):
    require_hours(open_class, 2)
    page = learner_client.get("/hours/").get_data(as_text=True)
    assert 'class="cert-card pending"' in page and "cert-card earned" not in page
    assert "0.0</b> / 2.0" in page
    certificate = earn_certificate(approved_learner, course, open_class)
    page = learner_client.get("/hours/").get_data(as_text=True)
    assert 'class="cert-card earned"' in page and certificate.number in page
    assert "2.0</b> / 2.0" in page and "100%" in page


def test_the_learner_sees_their_certificate_and_another_learner_does_not(app, certificate, learner_client,
                                                                         other_learner):
    page = learner_client.get(f"/hours/certificates/{certificate.id}")
    assert page.status_code == 200 and certificate.number in page.get_data(as_text=True)
    assert "***************23X" in page.get_data(as_text=True) and "4406*" not in page.get_data(as_text=True)
    stranger = app.test_client()
    login(stranger, other_learner.id_number)
    assert stranger.get(f"/hours/certificates/{certificate.id}").status_code == 404
    assert stranger.get("/hours/certificates/999999").status_code == 404


def test_a_certificate_signed_with_the_longer_mask_is_shown_with_the_last_three_characters(
        client, db, certificate, approved_learner, learner_client, tmp_path):
    """Certificates signed before public_mask carry the first and last four characters: the pages,
    the API and the PDF show only the last three of them (the QR code keeps what was signed)."""
    from dataclasses import replace

    from lms.core.iddocs import mask, public_mask
    from lms.hours import pdf

    from .test_hours_pdf import text_of
    _key_id, private_key = keys.signing_key(utcnow())
    old = replace(payload.peek(certificate.token), masked_id=mask(approved_learner.id_number))
    certificate.token = payload.sign(old, private_key)
    db.session.commit()
    shown, longer = public_mask(approved_learner.id_number), mask(approved_learner.id_number)
    pages = [client.get("/hours/verify", query_string={"number": certificate.number}),
             client.get(scanned_url(certificate)),
             learner_client.get(f"/hours/certificates/{certificate.id}")]
    for page in pages:
        assert shown in page.get_data(as_text=True) and longer not in page.get_data(as_text=True)
    for query in ({"number": certificate.number}, {"payload": certificate.token}):
        body = client.get("/hours/api/verify", query_string=query).get_json()
        assert (body["status"], body["certificate"]["masked_id"]) == ("valid", shown)
    printed = text_of(pdf.certificate_pdf_for(certificate), tmp_path)
    assert shown in printed and longer not in printed


def test_the_scanned_code_shows_valid_with_every_certified_fact(client, certificate):
    page = client.get(scanned_url(certificate))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-status="valid"' in html
    facts = certificates.facts_of(certificate)
    for shown in (facts.number, facts.name, facts.masked_id, facts.institution, facts.courses[0].title, "100"):
        assert shown in html
    assert "197403" not in html        # the unmasked ID number (birth date) never appears


def test_an_edited_payload_is_invalid_on_the_page_and_in_the_api(client, certificate):
    raw, signature = payload.open_token(certificate.token)
    edited = raw.replace(b'"h":2.0', b'"h":20.0')
    assert edited != raw
    forged = base45.b45encode(zlib.compress(edited + signature, 9)).decode()
    html = client.get("/hours/verify", query_string={"code": forged}).get_data(as_text=True)
    assert 'data-status="invalid"' in html and "签名不符" in html
    body = client.get("/hours/api/verify", query_string={"payload": forged}).get_json()
    assert (body["status"], body["reason"], body["certificate"]) == ("invalid", "signature", None)


def test_the_same_certificate_encoded_otherwise_is_invalid_on_the_page_and_in_the_api(client, certificate):
    """Bytes after the zlib stream, or the signed bytes compressed again at another level: the facts and
    the signature are the platform's, but only the encoding it issued is accepted."""
    whole = b"".join(payload.open_token(certificate.token))
    for other in (base45.b45encode(base45.b45decode(certificate.token) + b"\x00").decode(),
                  base45.b45encode(zlib.compress(whole, 1)).decode()):
        assert other != certificate.token
        body = client.get("/hours/api/verify", query_string={"payload": other}).get_json()
        assert (body["status"], body["reason"], body["certificate"]) == ("invalid", "format", None)
        html = client.get(scanned_url_of(other)).get_data(as_text=True)
        assert 'data-status="invalid"' in html
    assert client.get("/hours/api/verify", query_string={"payload": certificate.token}).get_json()["status"] == "valid"


@pytest.mark.parametrize("code, reason", [("not a code", "format"), ("%%%%", "format"), ("A" * 9000, "format")])
def test_garbage_codes_are_invalid_not_errors(client, db, code, reason):
    response = client.get("/hours/api/verify", query_string={"payload": code})
    assert response.status_code == 200 and response.get_json()["reason"] == reason
    assert client.get("/hours/verify", query_string={"code": code}).status_code == 200


def test_lookup_by_number_and_an_unknown_number(client, certificate):
    body = client.get("/hours/api/verify", query_string={"number": certificate.number.lower()}).get_json()
    assert body["status"] == "valid" and body["certificate"]["name"] == certificate.learner.name
    assert client.get("/hours/api/verify", query_string={"number": "XS2026NOTHERE1"}).get_json()["status"] == "unknown"
    assert client.get("/hours/api/verify").status_code == 400


def test_staff_revoke_with_a_reason_and_verification_says_revoked(app, db, certificate, staff_client, client):
    page = staff_client.get(f"/hours/certificates/{certificate.id}").get_data(as_text=True)
    assert "revoke" in page
    refused = staff_client.post(f"/hours/certificates/{certificate.id}/revoke", data={"reason": "  "},
                                follow_redirects=True)
    assert "请填写原因" in refused.get_data(as_text=True) and certificate.status == "valid"
    staff_client.post(f"/hours/certificates/{certificate.id}/revoke", data={"reason": "学员身份存疑，经核查撤销"})
    db.session.refresh(certificate)
    assert certificate.status == REVOKED and certificate.revoke_reason == "学员身份存疑，经核查撤销"
    assert 'data-status="revoked"' in client.get(scanned_url(certificate)).get_data(as_text=True)
    body = client.get("/hours/api/verify", query_string={"payload": certificate.token}).get_json()
    assert body["status"] == "revoked" and body["revoked_at"]


def test_revoking_needs_the_csrf_token(app, db, certificate, staff_client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert staff_client.post(f"/hours/certificates/{certificate.id}/revoke", data={"reason": "x"}).status_code == 400
        page = staff_client.get(f"/hours/certificates/{certificate.id}").get_data(as_text=True)
        staff_client.post(f"/hours/certificates/{certificate.id}/revoke",
                          data={"reason": "复核撤销", "csrf_token": csrf_token_from(page)})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.refresh(certificate)
    assert certificate.status == REVOKED


def test_staff_of_another_institution_can_neither_see_nor_revoke(app, certificate, other_staff):
    stranger = app.test_client()
    login(stranger, other_staff.username)
    assert stranger.get(f"/hours/certificates/{certificate.id}").status_code == 404
    assert stranger.post(f"/hours/certificates/{certificate.id}/revoke", data={"reason": "x"}).status_code == 404
    assert certificate.status == "valid"


def test_staff_correct_hours_with_a_reason_and_the_regulator_reads_it(db, course, approved_learner, staff_client,
                                                                     regulator_client):
    url = f"/hours/learners/{approved_learner.id}/courses/{course.id}/corrections"
    for hours, reason, message in (("abc", "补录", "请输入学时数"), ("1.25", "补录", "请输入学时数"),
                                   ("1", "", "请填写原因"), ("3", "补录", "之间")):
        page = staff_client.post(url, data={"hours": hours, "reason": reason}, follow_redirects=True)
        assert message in page.get_data(as_text=True), (hours, reason)
    assert ledger.entries(approved_learner.id) == []
    staff_client.post(url, data={"hours": "1.5", "reason": "系统故障期间线下学习补录"})
    (entry,) = ledger.entries(approved_learner.id)
    assert (entry.kind, entry.tenths) == ("correction", 15)
    page = regulator_client.get(f"/hours/learners/{approved_learner.id}").get_data(as_text=True)
    assert "系统故障期间线下学习补录" in page and "+1.5" in page
    assert 'class="correction"' not in page   # regulators read; they do not correct


@pytest.mark.parametrize("hours, message", [
    ("1e999999999", "之间"), ("-1e999999999", "之间"), ("1000.1", "之间"), ("9" * 8, "之间"),
    ("Infinity", "请输入学时数"), ("-inf", "请输入学时数"), ("NaN", "请输入学时数"), ("sNaN", "请输入学时数"),
    ("1e-999999999", "请输入学时数"), ("0x10", "请输入学时数"), ("", "请输入学时数")])
def test_a_correction_of_a_huge_or_non_finite_number_is_a_form_error_not_a_500(db, course, approved_learner,
                                                                                staff_client, hours, message):
    url = f"/hours/learners/{approved_learner.id}/courses/{course.id}/corrections"
    answer = staff_client.post(url, data={"hours": hours, "reason": "补录"})
    assert answer.status_code == 302
    page = staff_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert message in page, hours
    assert ledger.entries(approved_learner.id) == []


def test_ledger_lines_belong_to_the_course_institution_and_others_see_totals_only(
        app, db, course, approved_learner, staff_client, regulator_client, admin, other_institution,
        other_regulator):
    """The learner also applied to institution B (same region): B's staff see the learner, and of A's
    course only its total, not A's reason nor the username of A's staff member who wrote it."""
    from lms.core.roles import STAFF
    from lms.institutions.models import Institution
    from lms.institutions.services import apply_to_class

    from .conftest import make_class, make_user, signed_in
    b = Institution(name="乙 佛山市南海区培训学校", region_code="440605")
    db.session.add(b)
    db.session.commit()
    apply_to_class(approved_learner, make_class(db, b), "T440604197403121235", utcnow(), Actor(approved_learner.user))
    make_user(db, STAFF, "staff.b", institution_id=b.id)
    # ... and to a class in Jinan: Jinan's regulators see the learner, but neither the learner nor A is theirs.
    apply_to_class(approved_learner, make_class(db, other_institution), "T440604197403121235", utcnow(),
                   Actor(approved_learner.user))
    staff_client.post(f"/hours/learners/{approved_learner.id}/courses/{course.id}/corrections",
                      data={"hours": "1.5", "reason": "系统故障期间线下学习补录"})
    assert [e.tenths for e in ledger.entries(approved_learner.id)] == [15]
    page_of = {who: client.get(f"/hours/learners/{approved_learner.id}").get_data(as_text=True)
               for who, client in (("b", signed_in(app, "staff.b")), ("jinan", signed_in(app, "reg.jinan")),
                                   ("a", staff_client),
                                   ("regulator", regulator_client), ("admin", signed_in(app, admin.username)))}
    for who in ("b", "jinan"):
        assert "系统故障期间线下学习补录" not in page_of[who] and "staff.one" not in page_of[who], who
        assert 'id="totals-only"' in page_of[who] and "<td>1.5</td>" in page_of[who], who
    for who in ("a", "regulator", "admin"):
        assert "系统故障期间线下学习补录" in page_of[who] and "staff.one" in page_of[who], who
        assert 'id="totals-only"' not in page_of[who], who


def test_corrections_by_other_staff_or_for_other_courses_are_refused(app, db, course, approved_learner, other_staff,
                                                                    regulator_client):
    url = f"/hours/learners/{approved_learner.id}/courses/{course.id}/corrections"
    stranger = app.test_client()
    login(stranger, other_staff.username)
    assert stranger.post(url, data={"hours": "1", "reason": "x"}).status_code == 404
    assert regulator_client.post(url, data={"hours": "1", "reason": "x"}).status_code == 404
    assert ledger.entries(approved_learner.id) == []


def test_the_class_page_lists_learners_progress_and_certificates(certificate, staff_client, regulator_client,
                                                                 learner_client, open_class):
    for client in (staff_client, regulator_client):   # reached from the class's own page
        assert f'href="/hours/classes/{open_class.id}"' in client.get(f"/classes/{open_class.id}").get_data(as_text=True)
    assert "/hours/classes/" not in learner_client.get(f"/classes/{open_class.id}").get_data(as_text=True)
    page = staff_client.get(f"/hours/classes/{open_class.id}").get_data(as_text=True)
    assert certificate.number in page and certificate.learner.name in page and "2.0 / 2.0" in page


def test_published_keys_verify_certificates_after_a_rotation(client, db, certificate):
    keys.rotate(utcnow(), Actor(None, "cli", ""))
    document = client.get("/hours/keys.json").get_json()
    assert [k["kid"] for k in document["keys"]] == ["h1", "h2"] and document["keys"][0]["retired_at"]
    published = payload.keys_from_document(document)
    assert payload.verify(certificate.token, published).number == certificate.number
    assert len(base64.b64decode(document["keys"][0]["public_key"])) == 32
    assert "private" not in str(document).lower()
