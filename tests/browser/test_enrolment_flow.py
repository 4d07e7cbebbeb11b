"""The enrolment story in a real browser: a learner registers on a phone inside WeChat, applies to a
class, is returned with a reason by staff on a desktop, fixes the upload and is approved.
Screenshots of every step go to test-artifacts/<test name>/."""
import io
import re

import pytest
from flask_babel import force_locale, get_translations, gettext
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import User
from lms.institutions.models import Application
from lms.learners.models import Learner

from ..conftest import FACES, PASSWORD, valid_id
from .conftest import DEADLINE_MS

pytestmark = pytest.mark.usefixtures("faces_dir")  # real face photos (tests/photos.py)

WECHAT = " MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN"
CERTIFICATE = "T440604197403121235"
REASON = "单位推荐表未加盖公章，请重新上传"
LEARNER_NAME = "张伟明"
WORK_UNIT = "佛山市南海区测试化工贸易有限公司"


def zh(app, message: str, **variables) -> str:
    """What the app shows in Simplified Chinese. A message that the compiled zh_CN catalogue does not translate
    fails the test: the page would show the English source, and the test would expect just that and pass."""
    with app.test_request_context("/"), force_locale("zh_CN"):
        # _catalog: the msgids of the compiled catalogue (.mo) that gettext reads, each with its translation.
        if not get_translations()._catalog.get(message):
            pytest.fail(f"the zh_CN catalogue has no translation for msgid {message!r}")
        return gettext(message, **variables)


def write_image(path, size, color, fmt):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    path.write_bytes(buffer.getvalue())
    return path


def shot(page, artifacts, name):
    page.screenshot(path=str(artifacts / name), full_page=True)


def assert_fits_phone_width(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the phone screen"


def wait_image_loaded(page, selector) -> int:
    """Wait until the image has really been decoded; return its natural width."""
    image = page.locator(selector)
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    return image.evaluate("img => img.naturalWidth")


def fill_registration(page, id_number, files):
    page.fill("#name", LEARNER_NAME)
    page.select_option("#id_type", "resident_id")
    page.fill("#id_number", id_number)
    page.fill("#work_unit", WORK_UNIT)
    page.select_option("#unit_category", "hazchem_trading")
    page.select_option("#position", "safety_manager")
    page.select_option("#region_code", "440605")
    page.select_option("#education_level", "bachelor")
    fill_secrets_and_files(page, files)
    page.check("#consent")


def fill_secrets_and_files(page, files):
    """Browsers never re-fill passwords or files after a failed submit; a learner sets them again."""
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    for field, path in files.items():
        page.set_input_files(f"#{field}", str(path))


def sign_in(page, base, identifier):
    page.goto(f"{base}/login")
    page.fill("#identifier", identifier)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".topbar form.inline button")).to_be_visible()  # the sign-out button


def test_learner_registers_on_phone_is_returned_fixes_upload_and_is_approved(
        app, db, live_server, browser, pw, institution, staff, open_class, artifacts, tmp_path):
    base = live_server
    id_number = valid_id("44060519880721234")
    wrong_last = "0" if id_number[-1] != "0" else "1"
    bad_id_number = id_number[:-1] + wrong_last
    registration_files = {
        "photo": FACES / "obama_1.jpg",
        "id_document": write_image(tmp_path / "id-card.jpg", (856, 540), (205, 215, 230), "JPEG"),
        # The wrong document: a plain grey picture instead of the stamped recommendation form.
        "recommendation": write_image(tmp_path / "grey.png", (160, 120), (128, 128, 128), "PNG"),
    }
    fixed_recommendation = write_image(tmp_path / "recommendation-stamped.jpg", (640, 480), (250, 245, 235), "JPEG")

    device = dict(pw.devices["iPhone 13"])
    device.pop("default_browser_type", None)
    device["user_agent"] += WECHAT
    phone_context = browser.new_context(**device, locale="zh-CN")
    desk_context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    try:
        for context in (phone_context, desk_context):
            context.set_default_timeout(DEADLINE_MS)
        phone = phone_context.new_page()
        desk = desk_context.new_page()

        # 1. Registration on the phone, first with a mistyped ID number.
        phone.goto(f"{base}/register")
        assert "MicroMessenger/8.0.50" in phone.evaluate("navigator.userAgent")
        assert phone.evaluate("window.innerWidth") == 390
        expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")
        fill_registration(phone, bad_id_number, registration_files)
        assert_fits_phone_width(phone)
        phone.locator("#register-form button[type=submit]").click()
        phone.wait_for_load_state()
        assert phone.url == f"{base}/register"
        id_error = phone.locator("#field-id_number .error")
        expect(id_error).to_be_visible()
        expect(id_error).to_have_text(
            zh(app, "The last character does not match: please check the ID number digit by digit."))
        expect(phone.locator("#field-id_number")).to_have_class(re.compile(r"\bhas-error\b"))
        expect(phone.locator("#name")).to_have_value(LEARNER_NAME)
        expect(phone.locator("#id_number")).to_have_value(bad_id_number)
        expect(phone.locator("#work_unit")).to_have_value(WORK_UNIT)
        expect(phone.locator("#unit_category")).to_have_value("hazchem_trading")
        expect(phone.locator("#position")).to_have_value("safety_manager")
        expect(phone.locator("#region_code")).to_have_value("440605")
        expect(phone.locator("#education_level")).to_have_value("bachelor")
        expect(phone.locator("#consent")).to_be_checked()
        expect(phone.locator(".field .error")).to_have_count(1)  # nothing else was complained about
        id_error.scroll_into_view_if_needed()
        shot(phone, artifacts, "01b-bad-id.png")

        phone.fill("#id_number", id_number)
        fill_secrets_and_files(phone, registration_files)
        shot(phone, artifacts, "01-register-filled.png")
        phone.locator("#register-form button[type=submit]").click()
        phone.wait_for_url(f"{base}/login")
        expect(phone.locator(".flash.flash-success")).to_have_text(
            zh(app, "Registration received. Please sign in with your ID number and the password you chose. If this ID "
                    "number was registered before, that account is unchanged: sign in with its password, or ask your "
                    "training institution to reset it."))
        shot(phone, artifacts, "02-registered.png")

        # 2. The learner signs in with the ID number and applies to the refresher class.
        sign_in(phone, base, id_number)
        assert phone.url == f"{base}/me"
        phone.goto(f"{base}/classes")
        phone.locator(f'.class-card a[href="/classes/{open_class.id}"]').click()
        phone.wait_for_url(f"{base}/classes/{open_class.id}")
        expect(phone.locator("#apply-button")).to_have_text(zh(app, "Apply"))
        phone.fill("#previous_certificate_no", CERTIFICATE)
        phone.click("#apply-button")
        status = phone.locator("#application-status")
        expect(status).to_be_visible()
        expect(status).to_have_class(re.compile(r"\bsubmitted\b"))
        expect(status).to_have_text(zh(app, "Awaiting review"))
        expect(phone.locator(".flash.flash-success")).to_have_text(
            zh(app, "Your application was submitted. The institution will review your materials."))
        assert_fits_phone_width(phone)
        shot(phone, artifacts, "03-applied.png")

        # 3. Staff, on a desktop, look at the materials and return the application with a reason.
        sign_in(desk, base, "staff.one")
        desk.goto(f"{base}/applications")
        desk.get_by_role("link", name=LEARNER_NAME).click()
        desk.wait_for_url(re.compile(r"/applications/\d+$"))
        application_url = desk.url
        expect(desk.locator("#application-status")).to_have_class(re.compile(r"\bsubmitted\b"))
        expect(desk.locator("#full-id")).to_have_text(id_number)
        assert wait_image_loaded(desk, 'img[src*="/materials/photo"]') > 0
        assert wait_image_loaded(desk, 'img[src*="/materials/id_document"]') == 856
        assert wait_image_loaded(desk, 'img[src*="/materials/recommendation"]') == 160  # the grey picture
        desk.fill("#reason", REASON)
        desk.click("#return-button")
        expect(desk.locator("#application-status")).to_have_class(re.compile(r"\breturned\b"))
        expect(desk.locator("#application-status")).to_have_text(zh(app, "Returned"))
        expect(desk.locator(".flash.flash-success")).to_have_text(zh(app, "Returned to the learner with your reason."))
        expect(desk.locator("dl.facts")).to_contain_text(REASON)
        expect(desk.locator("#approve-button")).to_have_count(0)
        shot(desk, artifacts, "04-staff-returned.png")

        # 4. The learner sees the reason, replaces the recommendation form and applies again.
        phone.goto(f"{base}/me")
        returned_card = phone.locator("[id^=application-]")
        expect(returned_card.locator(".badge.returned")).to_have_text(zh(app, "Returned"))
        expect(returned_card.locator(".error")).to_contain_text(REASON)
        assert_fits_phone_width(phone)
        shot(phone, artifacts, "05-learner-sees-reason.png")

        phone.goto(f"{base}/me/materials")
        phone.select_option("#kind", "recommendation")
        phone.set_input_files("#file", str(fixed_recommendation))
        phone.locator("main form button[type=submit]").click()
        phone.wait_for_url(f"{base}/me/materials?kind=recommendation")
        expect(phone.locator("#kind")).to_have_value("recommendation")  # the choice is kept
        expect(phone.locator(".flash.flash-success")).to_have_text(zh(app, "The image was uploaded."))
        assert wait_image_loaded(phone, "#material-recommendation img") == 640
        assert_fits_phone_width(phone)
        shot(phone, artifacts, "06-fixed-upload.png")

        phone.goto(f"{base}/classes/{open_class.id}")
        expect(phone.locator("#return-reason")).to_contain_text(REASON)
        expect(phone.locator("#apply-button")).to_have_text(zh(app, "Apply again"))
        phone.fill("#previous_certificate_no", CERTIFICATE)
        phone.click("#apply-button")
        expect(phone.locator("#application-status")).to_have_class(re.compile(r"\bsubmitted\b"))
        expect(phone.locator("#return-reason")).to_have_count(0)

        # 5. Staff see the new recommendation form and approve.
        desk.goto(application_url)
        expect(desk.locator("#application-status")).to_have_class(re.compile(r"\bsubmitted\b"))
        assert wait_image_loaded(desk, 'img[src*="/materials/recommendation"]') == 640
        desk.click("#approve-button")
        approved = desk.locator("#application-status")
        expect(approved).to_have_class(re.compile(r"\bapproved\b"))
        expect(approved).to_have_text(zh(app, "Approved"))
        expect(desk.locator(".flash.flash-success")).to_have_text(zh(app, "Approved."))
        shot(desk, artifacts, "07-approved.png")

        # 6. The learner sees the approval.
        phone.goto(f"{base}/me")
        expect(phone.locator("[id^=application-] .badge.approved")).to_have_text(zh(app, "Approved"))
        expect(phone.locator("[id^=application-] .error")).to_have_count(0)
        shot(phone, artifacts, "08-learner-approved.png")
    finally:
        phone_context.close()
        desk_context.close()

    # What the browser did is what the database holds.
    db.session.expire_all()
    learner = db.session.scalar(select(Learner))
    assert learner.id_number == id_number and db.session.get(User, learner.user_id).role == "learner"
    assert learner.name == LEARNER_NAME and learner.region_code == "440605"
    assert learner.unit_category == "hazchem_trading" and learner.education_level == "bachelor"
    application = db.session.scalar(select(Application))
    assert application.learner_id == learner.id and application.class_id == open_class.id
    assert application.status == "approved"
    assert application.previous_certificate_no == CERTIFICATE
    assert application.reviewed_by_id == staff.id
    assert db.session.query(Application).count() == 1
