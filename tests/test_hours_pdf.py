"""The printed documents of lms/hours: the certificate PDF rendered by poppler (pdftoppm, pdftotext,
pdffonts, pdfinfo, pdfimages) and its QR code decoded by zxing, as a phone and a printer would see them;
the learner's study record and test results; who may download them."""
import re
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from lms.audit.models import AuditLog
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.core.iddocs import public_mask
from lms.catalogue.models import REFRESHER
from lms.hours import certificates, keys, payload, pdf, pdf_facts, qr
from tests.conftest import signed_in
from tests.hoursdata import earn_certificate

MM_PER_INCH = 25.4
LONG_TITLES = ("安全生产法律法规与安全生产责任制落实要点解读", "危险化学品重大危险源辨识评估与监控管理实务",
               "生产安全事故应急预案编制演练与应急处置要求", "特殊作业安全管理规范（动火受限空间高处作业）",
               "化工过程安全管理与工艺危害分析（HAZOP）方法", "职业病危害因素识别检测与劳动防护用品配备",
               "安全风险分级管控和隐患排查治理双重预防机制", "典型危险化学品事故案例警示教育与经验教训分析")


def poppler(tool: str, data: bytes, tmp_path: Path, *args) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run([tool, *args, str(path)] + (["-"] if tool == "pdftotext" else []), capture_output=True,
                          check=True, timeout=60).stdout.decode()


def text_of(data: bytes, tmp_path: Path) -> str:
    return poppler("pdftotext", data, tmp_path, "-layout")


@pytest.fixture()
def certificate(approved_learner, course, open_class):
    return earn_certificate(approved_learner, course, open_class)


def test_the_certificate_pdf_prints_the_facts_and_its_qr_code_verifies_to_exactly_them(
        app, certificate, approved_learner, course, institution, tmp_path):
    data = pdf.certificate_pdf_for(certificate)

    page = qr.render_pdf(data, dpi=150)
    assert len(page) == 1
    texts = qr.read_qr(page[0])
    assert texts == [payload.verification_url(app.config["LMS_PUBLIC_URL"], certificate.token)]
    assert payload.verify(payload.token_from_text(texts[0]), keys.public_keys()) == certificates.facts_of(certificate)

    text = text_of(data, tmp_path)
    for shown in ("安全生产培训学时证明", approved_learner.name, public_mask(approved_learner.id_number), institution.name,
                  course.title, certificate.number, approved_learner.work_unit, "扫码验证"):
        assert shown in text
    flat = re.sub(r"\s", "", text)
    born = approved_learner.id_number[6:14]   # a resident ID number holds the birth date
    for secret in (approved_learner.id_number, born, f"{born[:4]}-{born[4:6]}-{born[6:]}",
                   f"{born[:4]}年{int(born[4:6])}月{int(born[6:])}日"):
        assert secret not in flat

    fonts = poppler("pdffonts", data, tmp_path).splitlines()[2:]
    assert fonts and all("WenQuanYi" in line and re.search(r"\byes yes yes\b", line) for line in fonts)  # emb sub uni
    assert "(A4)" in poppler("pdfinfo", data, tmp_path)
    images = poppler("pdfimages", data, tmp_path, "-list").splitlines()[2:]
    assert len(images) == 1   # the learner's photo (the QR code is drawn as vectors)


def test_a_certificate_with_eight_long_course_titles_gets_a_qr_code_a_phone_reads(db, tmp_path):
    """Measured on the rendered page: the code is at least 40 mm wide and still decodes from a
    100 dpi rendering (about what a phone camera resolves at arm's length)."""
    private = Ed25519PrivateKey.generate()
    facts = payload.CertificateFacts(
        number="XS2026ABCDEFGH", name="欧阳建国", masked_id="4406**********1235",
        institution="佛山市禅城区安全生产教育培训中心有限公司", class_title="2026年第三期危险化学品经营单位安全管理人员复训班",
        training_type="再培训/复训", category="危险化学品经营单位 安全生产管理人员", hours=48.0, required_hours=48,
        courses=tuple(payload.CourseLine(title, 6.0, 90 + n) for n, title in enumerate(LONG_TITLES)),
        start=date(2026, 3, 1), completed=date(2026, 4, 1), issued_at=datetime(2026, 4, 1, 8, 0), key_id="k9")
    url = payload.verification_url("https://aqpx.example.gov.cn", payload.sign(facts, private))
    data = pdf.certificate_pdf(facts, qr_text=url, photo=None, work_unit="佛山市测试化工有限公司")

    dpi = 200
    found = zxingcpp.read_barcodes(qr.render_pdf(data, dpi)[0], formats=zxingcpp.BarcodeFormat.QRCode)
    assert [code.text for code in found] == [url]
    corners = found[0].position
    width_mm = (corners.top_right.x - corners.top_left.x) / dpi * MM_PER_INCH
    assert width_mm >= 40
    assert qr.read_pdf_qr(data, dpi=100) == [url]
    assert payload.verify(payload.token_from_text(url), {"k9": private.public_key()}) == facts
    text = text_of(data, tmp_path)
    assert all(title in text for title in LONG_TITLES)
    assert "照片" in text   # the framed placeholder where the photo would be


def big_words(data: bytes, tmp_path: Path) -> list[str]:
    """Words printed taller than 80 pt (the watermark), from pdftotext's word boxes."""
    boxes = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
                       poppler("pdftotext", data, tmp_path, "-bbox"))
    return sorted(word for low, high, word in boxes if float(high) - float(low) > 80)


def test_a_revoked_certificate_says_so(app, certificate, staff, tmp_path):
    valid = pdf.certificate_pdf_for(certificate)
    assert "已撤销" not in text_of(valid, tmp_path) and big_words(valid, tmp_path) == []
    certificates.revoke(certificate, "资料造假", utcnow(), Actor(staff, "127.0.0.1", "pytest"))
    revoked = pdf.certificate_pdf_for(certificate)
    assert "本证明已撤销，不再有效" in text_of(revoked, tmp_path)   # the banner
    assert big_words(revoked, tmp_path) == sorted("已撤销")        # the watermark, one big character at a time


def test_the_study_record_and_the_test_results(app, certificate, approved_learner, course, open_class, tmp_path):
    record = text_of(pdf.study_record_pdf(approved_learner, utcnow()), tmp_path)
    for shown in ("学习记录", approved_learner.name, open_class.title, course.title, course.lessons[0].title,
                  "已完成 1/1 个章节", certificate.number):
        assert shown in record
    number = approved_learner.id_number
    assert public_mask(number) in record and number[:4] + "*" not in record   # what anyone may see, no more
    course_row = next(line for line in record.splitlines() if course.title in line)
    assert re.search(r"\b100\s+2\s*/\s*2$", course_row)   # the passing score, credited of nominal hours

    results = text_of(pdf.test_results_pdf(approved_learner, utcnow()), tmp_path)
    row = next(line for line in results.splitlines() if course.title in line)
    assert re.search(r"\b100\b", row) and "通过" in row


def test_the_documents_render_from_plain_facts_without_the_database(app, tmp_path):
    """pdf_facts gathers, pdf renders: a study record and test results made by hand print as they should."""
    heading = pdf_facts.LearnerHeading("王建国", "440604********1235", "")
    lessons = (pdf_facts.LessonLine("第一讲", 600.0, 300.0, 600.0, True), pdf_facts.LessonLine("第二讲", 0, 0, 600, False))
    course = pdf_facts.CourseLine("危险化学品安全基础", lessons, None, 15, 2.0)
    record = pdf_facts.StudyRecord(heading, (pdf_facts.ClassSection(
        "2026年复训班", "佛山市安全培训中心", REFRESHER, 1.5, 8.0, (course,)),), (), ())
    attempt = pdf_facts.AttemptLine("危险化学品安全基础", 1, datetime(2026, 3, 1, 1), datetime(2026, 3, 1, 2), 60, False,
                                    False, "expired")
    with app.test_request_context():
        shown = text_of(pdf.study_record_document(record, datetime(2026, 3, 2)), tmp_path)
        results = text_of(pdf.results_document(pdf_facts.ResultsSheet(heading, (attempt,)), datetime(2026, 3, 2)),
                          tmp_path)
    for text in ("学习记录", "王建国", "440604********1235", "2026年复训班", "佛山市安全培训中心", "第一讲", "第二讲",
                 "已完成 1/2 个章节", "50%"):
        assert text in shown
    row = next(line for line in results.splitlines() if "危险化学品安全基础" in line)
    assert re.search(r"\b60\b", row) and "未通过" in row


# --- HTTP --------------------------------------------------------------------------------------------

def test_the_owner_and_the_institution_get_the_pdf_and_the_download_is_logged(app, db, certificate, learner_client,
                                                                              staff_client):
    url = f"/hours/certificates/{certificate.id}.pdf"
    for client in (learner_client, staff_client):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
        assert response.headers["Content-Disposition"] == f"inline; filename={certificate.number}.pdf"
        assert "no-store" in response.headers["Cache-Control"]
        assert "object-src 'self'" in response.headers["Content-Security-Policy"]   # the browser's PDF viewer
    logged = db.session.scalars(select(AuditLog).where(AuditLog.action == "hours_certificate_download")).all()
    assert [row.target for row in logged] == [f"certificate:{certificate.number}"] * 2
    assert {row.institution_id for row in logged} == {certificate.institution_id}


def test_nobody_else_gets_the_certificate_pdf(app, db, certificate, other_learner, other_staff, client):
    url = f"/hours/certificates/{certificate.id}.pdf"
    assert signed_in(app, other_learner.id_number).get(url).status_code == 404
    assert signed_in(app, other_staff.username).get(url).status_code == 404
    assert signed_in(app, other_staff.username).get(f"/hours/certificates/{certificate.id + 1}.pdf").status_code == 404
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "hours_certificate_download")).all() == []


def test_learners_print_their_own_study_record_and_results(app, certificate, course, learner_client, staff_client,
                                                           tmp_path):
    for url in ("/hours/me/study-record.pdf", "/hours/me/test-results.pdf"):
        response = learner_client.get(url)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert "no-store" in response.headers["Cache-Control"]
        assert course.title in text_of(response.data, tmp_path)
        assert staff_client.get(url).status_code == 403
