"""A one-time password link in a real Chromium: the token travels in the URL fragment, which the browser
never sends, so no request line and no Referer that reaches the server (or gunicorn's access log) holds
it; the page's script posts it and removes it from the address bar; a second browser opening the same
link is refused. Screenshots go to test-artifacts/<test name>/."""
import logging
from datetime import timedelta

from playwright.sync_api import expect

from lms.accounts.services import create_account
from lms.core.clock import utcnow
from lms.core.roles import STAFF

from .test_csp import Watch
from .test_enrolment_flow import shot


def _recorder(context, seen):
    def note(request):
        seen.append(request.url)
        seen.extend(f"{name}: {value}" for name, value in request.all_headers().items())
    context.on("request", note)


def test_the_token_never_leaves_the_browser_and_a_second_browser_is_refused(live_server, browser, db, admin, actor,
                                                                             institution, artifacts, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")   # the development server's own access log
    _, raw = create_account(STAFF, "new.staff", "新员工", utcnow(), actor, institution_id=institution.id,
                            token_lifetime=timedelta(hours=1))
    link = f"{live_server}/one-time-link#{raw}"
    owner = browser.new_context(locale="zh-CN")
    stranger = browser.new_context(locale="zh-CN")
    try:
        sent, watch = [], Watch(owner)
        _recorder(owner, sent)
        page = owner.new_page()
        page.goto(link)
        page.wait_for_url(f"{live_server}/set-password")
        expect(page.locator("#password")).to_be_visible()
        assert raw not in page.url and raw not in page.evaluate("location.href")
        shot(page, artifacts, "1-set-password.png")

        # The same link opened in another browser (copied from a chat, a screen, a log): refused.
        other = stranger.new_page()
        other.goto(link)
        expect(other.locator("main")).to_contain_text("已在另一个浏览器中打开")
        assert raw not in other.url
        shot(other, artifacts, "2-other-browser.png")

        page.fill("#password", "Fresh#Pass1")
        page.fill("#confirm", "Fresh#Pass1")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/login")
        watch.assert_clean()
    finally:
        owner.close()
        stranger.close()
    logged = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("POST /one-time-link" in line for line in logged)
    assert f"{live_server}/one-time-link" in sent and any(text.startswith("referer: ") for text in sent)
    assert [text for text in sent + logged if raw in text] == []
