"""The Content-Security-Policy in a real browser: the pages that run scripts (registration, a staff course page
following transcoding, a lesson with its face check by camera and by photos: challenge, arrow, frames) report no
violation, and their scripts still do their work. Screenshots go to test-artifacts/<test name>/."""
import io
from datetime import date

import pytest
from PIL import Image
from playwright.sync_api import expect

from lms.core.clock import utcnow
from lms.core.context import Actor

from ..conftest import ready_course
from .conftest import CHROMIUM, CHROMIUM_ARGS, DEADLINE_MS, patient
from .test_enrolment_flow import shot, sign_in
from .test_player import open_lesson

# Collected before any page script runs (init scripts are not subject to the page's policy).
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile));
"""


class Watch:
    """Everything the browser says about the policy or script errors, on every page of a context."""

    def __init__(self, context):
        self.console, self.errors, self.pages = [], [], []
        context.add_init_script(WATCH_VIOLATIONS)
        context.on("page", self.follow)

    def follow(self, page):
        self.pages.append(page)
        page.on("console", lambda message: self.console.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def assert_clean(self):
        reported = [v for page in self.pages if not page.is_closed() for v in page.evaluate("window.__csp || []")]
        refused = [text for text in self.console if "Content Security Policy" in text or "Refused to" in text]
        assert reported == [] and refused == [] and self.errors == []


@pytest.fixture()
def watched(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(DEADLINE_MS)
    try:
        yield context, Watch(context)
    finally:
        context.close()


def assert_policy_in_force(response):
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "object-src 'none'" in policy


def test_registration_page_hides_and_shows_birth_facts_under_the_policy(live_server, watched, artifacts):
    context, watch = watched
    page = context.new_page()
    assert_policy_in_force(page.goto(f"{live_server}/register"))
    birth_date = page.locator("#birth_date")
    page.select_option("#id_type", "resident_id")
    expect(birth_date).to_be_hidden()        # read from the ID number
    page.select_option("#id_type", "passport")
    expect(birth_date).to_be_visible()       # a passport number does not carry it
    expect(page.locator("#gender")).to_be_visible()
    page.select_option("#id_type", "foreign_permanent_resident")
    expect(birth_date).to_be_hidden()
    shot(page, artifacts, "register.png")
    watch.assert_clean()


def test_staff_course_page_follows_transcoding_under_the_policy(db, live_server, watched, staff, short_video,
                                                                artifacts):
    from lms.player import jobs, services
    actor = Actor(staff, "127.0.0.1", "pytest")
    course = services.create_course(staff.institution_id, services.CourseDraft(
        "危险化学品安全基础", "危化品", 2.0, "", "1.0", date(2026, 1, 1)), utcnow(), actor)
    with open(short_video, "rb") as stream:
        services.add_lesson(course, "第1讲", short_video.name, stream, utcnow(), actor, 10**9)
    context, watch = watched
    page = context.new_page()
    sign_in(page, live_server, staff.username)
    with page.expect_request(f"**/courses/{course.id}/videos.json"):   # the script polls
        assert_policy_in_force(page.goto(f"{live_server}/courses/{course.id}"))
    expect(page.locator(".video-status")).to_have_attribute("data-status", "pending")
    while jobs.run_once():
        pass
    # The script sees the change and reloads the page, which now shows the finished video.
    expect(page.locator(".video-status")).to_have_attribute("data-status", "ready", timeout=patient(20) * 1000)
    shot(page, artifacts, "course.png")
    watch.assert_clean()


@pytest.fixture()
def face_lesson(db, staff, open_class, approved_learner, short_video, face_checks_on):
    return ready_course(db, staff, open_class, [short_video]).lessons[0]


@pytest.fixture()
def fake_camera(pw):
    """A Chromium whose webcam is Chromium's own generated test picture (no face in it)."""
    chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(DEADLINE_MS)
    try:
        yield context, Watch(context)
    finally:
        chromium.close()


PROMPT_SHOWN = """() => {
  const dialog = document.getElementById('face-check'), arrow = document.getElementById('face-arrow');
  if (dialog.dataset.phase !== 'prompt') return null;
  return {action: dialog.dataset.action, shown: !arrow.hidden && arrow.getBoundingClientRect().width > 0,
          glyph: getComputedStyle(arrow, '::before').content};
}"""


def test_lesson_page_plays_and_runs_a_camera_face_check_under_the_policy(live_server, fake_camera, face_lesson,
                                                                         approved_learner, artifacts):
    context, watch = fake_camera
    page = context.new_page()
    sign_in(page, live_server, approved_learner.id_number)
    with page.expect_response("**/api/proctor/checks/*/challenges") as issued:
        with page.expect_response(f"**/study/lessons/{face_lesson.id}") as lesson_page:
            open_lesson(page, live_server, face_lesson.id)    # signed video loaded: media-src
        assert_policy_in_force(lesson_page.value)
        dialog = page.locator("#face-check")
        expect(dialog).to_be_visible()
    # The camera is open, then the script asks the server for the challenge (fetch with the CSRF header) ...
    assert issued.value.request.post_data_json == {"camera": True}
    challenge = issued.value.json()
    assert challenge["mode"] == "camera" and challenge["action"] in ("left", "right")
    page.wait_for_function("v => v.videoWidth > 0", arg=page.locator("#face-video").element_handle())
    # ... holds, then shows the arrow (drawn by the stylesheet) at the server's moment ...
    # The prompt lasts only the burst's 1.4 s, which a loaded test process may miss between two polls: the page
    # itself notes what it shows, at every animation frame.
    with page.expect_request("**/api/proctor/checks/*/attempts") as posted:
        seen = page.wait_for_function(PROMPT_SHOWN, polling="raf", timeout=patient(10) * 1000).json_value()
        assert seen["action"] == challenge["action"] and seen["shown"], seen
        assert seen["glyph"] in ('"\u2190"', '"\u2192"'), seen
        shot(page, artifacts, "camera-check-prompt.png")
    # ... and posts the frames drawn on a canvas with the nonce; the server answers (no face in the test picture).
    body = posted.value.post_data_json
    assert body["nonce"] == challenge["nonce"] and len(body["frames"]) == challenge["frame_count"]
    assert all(frame.startswith("data:image/jpeg;base64,") for frame in body["frames"])
    expect(page.locator("#face-retry")).to_be_visible(timeout=patient(30) * 1000)
    expect(page.locator("#face-result")).not_to_be_empty()
    expect(dialog).to_have_attribute("data-phase", "result")
    shot(page, artifacts, "camera-check.png")
    watch.assert_clean()


def photo(path, color):
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_lesson_page_face_check_by_photos_under_the_policy(live_server, watched, face_lesson, approved_learner,
                                                           tmp_path, artifacts):
    context, watch = watched
    context.add_init_script("Object.defineProperty(navigator, 'mediaDevices', {value: undefined})")  # no camera API
    page = context.new_page()
    sign_in(page, live_server, approved_learner.id_number)
    with page.expect_response("**/api/proctor/checks/*/challenges") as issued:
        with page.expect_response(f"**/study/lessons/{face_lesson.id}") as lesson_page:
            open_lesson(page, live_server, face_lesson.id)
        assert_policy_in_force(lesson_page.value)
    # Without a camera API the page asks for a photos challenge and names the side for photo 2.
    assert issued.value.request.post_data_json == {"camera": False}
    challenge = issued.value.json()
    dialog = page.locator("#face-check")
    expect(dialog).to_have_attribute("data-phase", "photos")
    expect(dialog).to_have_attribute("data-action", challenge["action"])
    expect(page.locator("#face-fallback")).to_be_visible()
    expect(page.locator("#face-photo-2-label")).not_to_be_empty()
    page.set_input_files("#face-photo-1", photo(tmp_path / "one.jpg", (200, 180, 160)))
    page.set_input_files("#face-photo-2", photo(tmp_path / "two.jpg", (160, 180, 200)))
    with page.expect_response("**/attempts") as answer:   # photos redrawn from blob: URLs, then posted
        page.click("#face-send-photos")
    body = answer.value.request.post_data_json
    assert body["nonce"] == challenge["nonce"] and len(body["frames"]) == 2
    expect(page.locator("#face-result")).not_to_be_empty()
    shot(page, artifacts, "photo-check.png")
    watch.assert_clean()
