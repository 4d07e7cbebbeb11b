"""Study hours and the study-hours certificate (issue 14) in a real browser: a learner sees the certificate
grey, passes the course test and sees it in colour, downloads its PDF and the QR code printed on it decodes
to the verification URL; a phone in WeChat opens that URL and sees it valid, staff revoke it and the phone
sees it revoked, and a code changed by one character is invalid; anyone checks a number on a desktop; the
progress bars are as full as the hours credited. Face checks are off. The PDF is rendered with pdftoppm and its QR code read with zxing-cpp, as a phone would.
Screenshots (and the rendered PDF) go to test-artifacts/<test name>/."""
import io
import re
import subprocess

import base45
import numpy
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from lms.core.iddocs import public_mask
from lms.hours import payload
from lms.hours.models import Certificate
from lms.hours.qr import read_qr
from tests.hoursdata import earn_certificate, require_hours, sit_test
from tests.quizdata import complete_lessons

from .conftest import DEADLINE_MS
from .test_csp import Watch
from .test_enrolment_flow import shot, sign_in, zh
from .test_quiz import PHONE_WIDTH, WECHAT_IPHONE, assert_fits, expect_result, fresh, new_desktop, start_attempt, \
    take_test

BASE45_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # Base45 characters that need no escape in a URL
PDF_VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"   # Chromium's built-in PDF viewer
REASON = "学员身份信息有误，证明作废重新核发"


# --- helpers --------------------------------------------------------------------------------------

def new_phone(chromium):
    """WeChat's browser on an iPhone, nobody signed in."""
    context = chromium.new_context(viewport={"width": PHONE_WIDTH, "height": 844}, is_mobile=True, has_touch=True,
                                   device_scale_factor=3, user_agent=WECHAT_IPHONE, locale="zh-CN")
    context.set_default_timeout(DEADLINE_MS)
    return context


def certificates_of(db, learner) -> list[Certificate]:
    return fresh(db, select(Certificate).where(Certificate.learner_id == learner.id).order_by(Certificate.id))


def open_pdf(page, link, artifacts, name: str, title: str):
    """Click a PDF link as a person would: the browser shows the PDF in its own viewer (it is served inline).
    Wait until the viewer shows the document's ``title`` (the site's policy lets the viewer work) and keep a
    screenshot ``name``-viewer.png. The viewer's page is not the file: the file is fetched again with the
    browser's session and kept as ``name``.pdf, whose path is returned."""
    href = link.get_attribute("href")
    # Chromium's viewer is an extension page in a frame of its own; locators pierce its shadow roots.
    with page.expect_response(lambda response: response.url.endswith(href)) as answered, \
            page.expect_event("framenavigated", lambda frame: frame.url.startswith(PDF_VIEWER)) as viewer:
        link.click()
    shown = answered.value
    assert shown.status == 200 and shown.headers["content-type"] == "application/pdf"
    expect(viewer.value.locator("#title")).to_contain_text(title)
    page.screenshot(path=str(artifacts / f"{name}-viewer.png"))
    fetched = page.context.request.get(shown.url)
    assert fetched.status == 200 and fetched.headers["content-type"] == "application/pdf"
    assert fetched.body().startswith(b"%PDF-")
    path = artifacts / f"{name}.pdf"
    path.write_bytes(fetched.body())
    return path


def scan_pdf(path) -> str:
    """Render the PDF's first page to PNG with pdftoppm (kept next to it) and read its one QR code, as a phone
    would read the printed page."""
    png = path.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(path), str(png)],
                   check=True, capture_output=True, timeout=60)
    (text,) = read_qr(png.with_suffix(".png"))
    return text


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          timeout=60).stdout.decode()


def colour_spread(png: bytes) -> int:
    """The largest difference between the red, green and blue of any pixel: 0 for a picture in greys."""
    pixels = numpy.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    return int((pixels.max(axis=2) - pixels.min(axis=2)).max())


def card_style(card) -> dict:
    return card.evaluate("""card => {
        const style = getComputedStyle(card);
        return {filter: style.filter, borderStyle: style.borderTopStyle, color: style.color};
    }""")


def tampered(token: str) -> str:
    """``token`` with one character of its middle replaced by another alphanumeric Base45 character, chosen so
    that the result still decodes as Base45: only the content changed, not the alphabet."""
    for position in range(len(token) // 2, len(token)):
        if token[position] not in BASE45_ALPHANUMERIC:
            continue
        for replacement in BASE45_ALPHANUMERIC.replace(token[position], ""):
            changed = token[:position] + replacement + token[position + 1:]
            try:
                base45.b45decode(changed)
            except ValueError:
                continue
            return changed
    raise AssertionError("no character of the payload could be changed")


# --- 1. the learner: grey, the test passed, in colour, the PDF ---------------------------------------------

def test_learner_passes_the_test_and_the_grey_certificate_turns_to_colour_with_a_pdf_whose_qr_verifies(
        app, db, live_server, browser, approved_learner, ready, open_class, artifacts, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_PUBLIC_URL", live_server)   # what the QR code points at
    learner, course = approved_learner, ready
    require_hours(open_class, int(course.nominal_hours))             # this course alone earns the certificate
    context = new_desktop(browser)
    try:
        page = context.new_page()
        sign_in(page, live_server, learner.id_number)

        # Before the test: the certificate card is grey, not earned, all the hours to go.
        page.locator(".topbar .menu a", has_text=zh(app, "Hours and certificates")).click()
        page.wait_for_url(f"{live_server}/hours/")
        assert "学时与证明" in page.locator(".topbar .menu").inner_text()
        section = page.locator(f"section.class-hours[data-class='{open_class.id}']")
        card = section.locator(".cert-card")
        expect(card).to_have_class(re.compile(r"\bpending\b"))
        expect(card.locator(".cert-state")).to_have_text(zh(app, "Not earned yet"))
        expect(card.locator(".cert-number")).to_have_count(0)
        expect(section.locator(".credited")).to_have_text("0.0")
        grey_style, grey_spread = card_style(card), colour_spread(card.screenshot())
        shot(page, artifacts, "01-hours-grey.png")

        # The test, 4 of 5 right: 80, a pass.
        page.goto(f"{live_server}/quiz/courses/{course.id}/test")
        start_attempt(app, page, 1)
        take_test(app, page, wrong={2})
        expect_result(app, page, passed=True, score=80)
        shot(page, artifacts, "02-test-passed.png")

        # After: the card in colour, earned, with the certificate's number.
        page.locator(".topbar .menu a", has_text=zh(app, "Hours and certificates")).click()
        page.wait_for_url(f"{live_server}/hours/")
        (certificate,) = certificates_of(db, learner)
        assert (certificate.class_id, certificate.status) == (open_class.id, "valid")
        expect(card).to_have_class(re.compile(r"\bearned\b"))
        expect(card.locator(".cert-state")).to_have_text(zh(app, "Earned"))
        assert "已取得" in card.inner_text()
        expect(card.locator(".cert-number")).to_have_text(certificate.number)
        expect(section.locator(".credited")).to_have_text(f"{float(course.nominal_hours):.1f}")
        expect(section.locator("tbody .badge.approved")).to_have_text(f"{zh(app, 'Passed')} 80")
        colour_style, colour_spread_ = card_style(card), colour_spread(card.screenshot())
        shot(page, artifacts, "03-hours-colour.png")

        # What the eye sees: grey (a greyscale filter, a dashed border, no colour in any pixel) became colour.
        assert "grayscale(1)" in grey_style["filter"] and grey_style["borderStyle"] == "dashed", grey_style
        assert colour_style["filter"] == "none" and colour_style["borderStyle"] == "solid", colour_style
        assert grey_style["color"] != colour_style["color"]
        assert grey_spread <= 2 < 60 < colour_spread_, (grey_spread, colour_spread_)

        # The PDF from the card: Chinese text, the number, and a QR code of the verification URL.
        pdf = open_pdf(page, card.get_by_role("link", name=zh(app, "Download PDF")), artifacts, "04-certificate",
                       title=certificate.number)
        text = pdf_text(pdf)
        assert certificate.number in text and learner.name in text and course.title in text
        scanned = scan_pdf(pdf)
        assert scanned == payload.verification_url(live_server, certificate.token)
        assert scanned.startswith(live_server.upper() + "/V/")
        assert payload.token_from_text(scanned) == certificate.token

        # The scanned URL opens the verification page (any browser: the host part is case-insensitive).
        page.goto(scanned)
        expect(page.locator("#verdict")).to_have_attribute("data-status", "valid")
        expect(page.locator("#verdict .f-number")).to_have_text(certificate.number)
        shot(page, artifacts, "05-scanned-on-desktop.png")
    finally:
        context.close()


# --- 2. a phone scans it; staff revoke it; a changed code -------------------------------------------------

def test_phone_in_wechat_verifies_the_scanned_certificate_sees_it_revoked_and_a_changed_code_invalid(
        app, db, live_server, browser, approved_learner, course, open_class, staff, institution, artifacts,
        monkeypatch):
    monkeypatch.setitem(app.config, "LMS_PUBLIC_URL", live_server)
    learner = approved_learner
    certificate = earn_certificate(learner, course, open_class, right=4)   # 80 points
    desk_context, phone_context = new_desktop(browser), new_phone(browser)
    try:
        desk, phone = desk_context.new_page(), phone_context.new_page()

        # Staff find the certificate on the class's hours page and print it.
        sign_in(desk, live_server, staff.username)
        desk.goto(f"{live_server}/hours/classes/{open_class.id}")
        shot(desk, artifacts, "00-staff-class-hours.png")
        desk.locator("#class-hours").get_by_role("link", name=certificate.number).click()
        desk.wait_for_url(f"{live_server}/hours/certificates/{certificate.id}")
        expect(desk.locator(".cert-status")).to_have_text(zh(app, "Valid"))
        shot(desk, artifacts, "01-staff-certificate.png")
        pdf = open_pdf(desk, desk.get_by_role("link", name=zh(app, "Download PDF")), artifacts, "02-certificate",
                       title=certificate.number)
        scanned = scan_pdf(pdf)
        assert scanned.startswith(live_server.upper() + "/V/")

        # The phone in WeChat opens what it scanned: valid, with the certified facts, within the screen.
        phone.goto(scanned)
        assert "MicroMessenger" in phone.evaluate("navigator.userAgent")
        verdict = phone.locator("#verdict")
        expect(verdict).to_have_attribute("data-status", "valid")
        expect(verdict.locator(".verdict-status")).to_have_text(zh(app, "Valid"))
        assert verdict.locator(".verdict-status").inner_text() == "有效"
        expect(verdict.locator(".f-number")).to_have_text(certificate.number)
        expect(verdict.locator(".f-name")).to_have_text(learner.name)
        expect(verdict.locator(".f-id")).to_have_text(public_mask(learner.id_number))
        assert learner.id_number not in phone.content()
        expect(verdict.locator(".f-institution")).to_have_text(institution.name)
        course_row = verdict.locator(".f-courses tbody tr")
        expect(course_row).to_have_count(1)
        expect(course_row.locator("td").first).to_have_text(course.title)
        expect(course_row.locator("td").last).to_have_text("80")
        assert_fits(phone)
        shot(phone, artifacts, "03-phone-valid.png")

        # Staff, back from the PDF, revoke it with a reason.
        desk.go_back()
        desk.wait_for_url(f"{live_server}/hours/certificates/{certificate.id}")
        desk.fill("#reason", REASON)
        desk.get_by_role("button", name=zh(app, "Revoke")).click()
        desk.wait_for_url(f"{live_server}/hours/certificates/{certificate.id}")
        expect(desk.locator(".flash-success")).to_have_text(
            zh(app, "The certificate is revoked. The verification page now says so."))
        expect(desk.locator(".cert-status")).to_have_text(zh(app, "Revoked"))
        expect(desk.locator("main")).to_contain_text(REASON)
        expect(desk.locator("#reason")).to_have_count(0)   # nothing left to revoke
        shot(desk, artifacts, "04-staff-revoked.png")
        (stored,) = certificates_of(db, learner)
        assert (stored.status, stored.revoke_reason, stored.revoked_by_id) == ("revoked", REASON, staff.id)

        # The phone reloads the same URL: revoked, by the institution.
        phone.reload()
        expect(verdict).to_have_attribute("data-status", "revoked")
        expect(verdict.locator(".verdict-status")).to_have_text(zh(app, "Revoked"))
        assert "已撤销" in verdict.inner_text()
        expect(verdict).to_contain_text(zh(app, "Revoked by the training institution"))
        assert_fits(phone)
        shot(phone, artifacts, "05-phone-revoked.png")

        # One character of the payload changed (still Base45): invalid, and no facts are shown.
        changed = tampered(certificate.token)
        assert changed != certificate.token and len(changed) == len(certificate.token)
        phone.goto(payload.verification_url(live_server, changed))
        expect(verdict).to_have_attribute("data-status", "invalid")
        expect(verdict.locator(".verdict-status")).to_have_text(zh(app, "Invalid"))
        assert verdict.locator(".verdict-status").inner_text() == "无效"
        expect(verdict).to_contain_text(
            zh(app, "This is not a certificate code of this platform, or it is damaged or incomplete."))
        expect(verdict.locator(".cert-facts")).to_have_count(0)
        assert_fits(phone)
        shot(phone, artifacts, "06-phone-invalid.png")
    finally:
        desk_context.close()
        phone_context.close()


# --- 3. a number typed on a desktop ----------------------------------------------------------------

def test_anyone_checks_a_certificate_number_on_a_desktop(app, db, live_server, browser, approved_learner, course,
                                                         open_class, artifacts):
    certificate = earn_certificate(approved_learner, course, open_class)
    context = new_desktop(browser)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/")
        page.locator(".topbar .menu a", has_text=zh(app, "Verify a certificate")).click()
        page.wait_for_url(f"{live_server}/hours/verify")
        expect(page.locator("#verdict")).to_have_count(0)
        page.fill("#number", certificate.number)
        page.locator("#number").press("Enter")
        page.wait_for_url(re.compile(r"/hours/verify\?number="))
        verdict = page.locator("#verdict")
        expect(verdict).to_have_attribute("data-status", "valid")
        expect(verdict.locator(".verdict-status")).to_have_text(zh(app, "Valid"))
        expect(verdict.locator(".f-name")).to_have_text(approved_learner.name)
        shot(page, artifacts, "01-number-valid.png")

        unknown = certificate.number[:-1] + ("7" if certificate.number[-1] != "7" else "8")
        page.fill("#number", unknown)
        page.locator("#number").press("Enter")
        expect(verdict).to_have_attribute("data-status", "unknown")
        expect(verdict.locator(".verdict-status")).to_have_text(zh(app, "Not on record"))
        expect(verdict.locator(".cert-facts")).to_have_count(0)
        shot(page, artifacts, "02-number-unknown.png")
    finally:
        context.close()


# --- 4. the progress bars --------------------------------------------------------------------------

def filled_share(bar) -> float:
    """How much of a progress bar is filled, as the eye sees it: the share of the bar's pixel columns, along
    its middle row, that are not the track's colour (#eef0f3)."""
    image = Image.open(io.BytesIO(bar.screenshot())).convert("RGB")
    middle = image.height // 2
    track = (0xEE, 0xF0, 0xF3)
    filled = sum(1 for x in range(image.width)
                 if sum(abs(a - b) for a, b in zip(image.getpixel((x, middle)), track, strict=True)) > 60)
    return filled / image.width


def test_the_progress_bars_fill_as_far_as_the_hours_credited(app, db, live_server, browser, approved_learner, course,
                                                             open_class, staff, artifacts):
    """Half the class's hours credited: the learner's bar and the class page's bar are half full, drawn within
    the site's Content-Security-Policy."""
    learner = approved_learner
    require_hours(open_class, 2 * int(course.nominal_hours))
    complete_lessons(learner, course)
    sit_test(learner, course)
    learner_context, staff_context = new_desktop(browser), new_desktop(browser)
    watches = [Watch(learner_context), Watch(staff_context)]
    try:
        page = learner_context.new_page()
        sign_in(page, live_server, learner.id_number)
        page.goto(f"{live_server}/hours/")
        section = page.locator(f"section.class-hours[data-class='{open_class.id}']")
        expect(section).to_contain_text("(50%)")
        expect(section.locator(".cert-card")).to_have_class(re.compile(r"\bpending\b"))
        shot(page, artifacts, "01-learner-half.png")
        learner_share = filled_share(section.locator(".hours-progress"))

        staff_page = staff_context.new_page()
        sign_in(staff_page, live_server, staff.username)
        staff_page.goto(f"{live_server}/hours/classes/{open_class.id}")
        expect(staff_page.locator("#class-hours tbody tr")).to_have_count(1)
        shot(staff_page, artifacts, "02-class-half.png")
        class_share = filled_share(staff_page.locator("#class-hours .hours-progress"))

        refused = [text for watch in watches for text in watch.console if "Content Security Policy" in text]
        assert abs(learner_share - 0.5) < 0.02 and abs(class_share - 0.5) < 0.02, (learner_share, class_share, refused)
        for watch in watches:
            watch.assert_clean()
    finally:
        learner_context.close()
        staff_context.close()
