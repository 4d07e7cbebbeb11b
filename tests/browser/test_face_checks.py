"""Face checks in a real browser with a fake camera: Chromium reads a .y4m file as its webcam. A feed that cuts
between photos of the enrolled person in different poses is a head that really turns; a feed of another person
is an impostor; a feed of one photo is the still-image attack. Every outcome is checked on the database the live
server writes, not only on the page. The feeds are made from ../shared/testdata/faces (read where they lie) into
pytest's tmp folder; screenshots go to test-artifacts/<test name>/."""
import re
import subprocess

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from lms.player.models import Playback, StudySession
from lms.proctor.models import FAILED, PASSED, RANDOM, START, FaceCheck, FaceCheckAttempt

from ..conftest import FACES, make_video, ready_course
from .conftest import CHROMIUM, CHROMIUM_ARGS
from .test_enrolment_flow import WECHAT, shot, sign_in, zh
from .test_player import (effective, fast_player, heartbeats, lesson_ids, open_lesson,  # noqa: F401 (fixture)
                          progress, shot_screen, wait_until)

VIDEO = "#lesson-video"
FEED_SIZE = "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1"
FEED_FPS = 10
MATCHED = 0.55           # the enrolled person's frames are well inside the match threshold (0.60)
CHECK_TIMEOUT = 25_000   # ms: opening the camera, 3 s countdown, 6 frames 500 ms apart, the server's judgement


# --- camera feeds -------------------------------------------------------------------------------

def make_feed(path, photos, seconds_each):
    """A 640x480 .y4m camera feed that shows each photo in turn for ``seconds_each``, fitted and padded into
    the frame like a webcam picture. Chromium's fake camera plays the file over and over."""
    args = ["ffmpeg", "-loglevel", "error", "-y"]
    for name in photos:
        args += ["-loop", "1", "-t", str(seconds_each), "-i", str(FACES / name)]
    scaled = ";".join(f"[{i}]{FEED_SIZE},fps={FEED_FPS}[v{i}]" for i in range(len(photos)))
    joined = "".join(f"[v{i}]" for i in range(len(photos)))
    args += ["-filter_complex", f"{scaled};{joined}concat=n={len(photos)}:v=1,format=yuv420p", str(path)]
    subprocess.run(args, check=True)
    return path


@pytest.fixture(scope="session")
def feeds(tmp_path_factory):
    """The enrolled person turning (obama_2, obama_3, half a second each: the page takes a frame every
    500 ms, so one frame shows one pose and the next the other); another person turning (biden); and one
    photo, still, for the still-image attack."""
    folder = tmp_path_factory.mktemp("camera")
    return {"obama": make_feed(folder / "obama.y4m", ["obama_2.jpg", "obama_3.jpg"], 0.5),
            "biden": make_feed(folder / "biden.y4m", ["biden_1.jpg", "biden_2.jpg"], 0.5),
            "still": make_feed(folder / "still.y4m", ["obama_2.jpg"], 1.0)}


@pytest.fixture(scope="session")
def study_video(tmp_path_factory):
    """Long enough that the random check falls inside it."""
    return make_video(tmp_path_factory.mktemp("video") / "face-lesson.mp4", 24)


@pytest.fixture()
def camera(pw):
    """camera(feed) launches a Chromium whose webcam shows the feed and returns a desktop context in it;
    every browser launched is closed at the end of the test."""
    launched = []

    def launch(feed):
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={feed}", "--autoplay-policy=no-user-gesture-required"])
        launched.append(chromium)
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        context.set_default_timeout(10_000)
        return context

    try:
        yield launch
    finally:
        for chromium in launched:
            chromium.close()


@pytest.fixture()
def face_player(app, fast_player, face_checks_on, monkeypatch):  # noqa: F811 (the fixture)
    """Face checks on, second-scale heartbeats, three tries per check, and a random check 8 s after each pass:
    with a report gap of 6 s the window [min, max - gap] is [8, 8]. face_player(KEY=value) changes a setting
    for the test; every one is restored afterwards."""
    settings = {"LMS_FACE_CHECK_ATTEMPTS": 3, "LMS_FACE_CHECK_MIN_SECONDS": 8, "LMS_FACE_CHECK_MAX_SECONDS": 14}

    def change(**values):
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)

    change(**settings)
    return change


# --- helpers --------------------------------------------------------------------------------------

def rows(db, model, *where, order=None):
    """Rows as the live server last committed them."""
    db.session.expire_all()
    found = list(db.session.scalars(select(model).where(*where).order_by(order if order is not None else model.id)))
    db.session.commit()
    return found


def no_check_inside_the_video(db, learner):
    """The in-video check point is random (anywhere in the video); move it out of the way so that the next
    check is the one the test waits for, as tests/test_proctor_checks.py does."""
    wait_until(lambda: rows(db, Playback, Playback.learner_id == learner.id), message="the playback")
    db.session.execute(update(Playback).where(Playback.learner_id == learner.id).values(check_at_position=None))
    db.session.commit()


def start_studying(page, base, learner, lesson):
    sign_in(page, base, learner.id_number)
    open_lesson(page, base, lesson)
    expect(page.locator("#face-check")).to_be_visible()


def pass_check(app, page):
    """The dialog counts down, takes the frames, says the check passed, closes, and the video plays on."""
    dialog, result = page.locator("#face-check"), page.locator("#face-result")
    expect(dialog).to_be_visible(timeout=CHECK_TIMEOUT)
    expect(result).to_have_text(zh(app, "Identity confirmed. You can continue."), timeout=CHECK_TIMEOUT)
    expect(dialog).to_be_hidden(timeout=5_000)
    page.wait_for_function("v => !v.paused", arg=page.locator(VIDEO).element_handle(), timeout=5_000)


def attempts_of(db, check_id) -> list[FaceCheckAttempt]:
    return rows(db, FaceCheckAttempt, FaceCheckAttempt.check_id == check_id)


def credited(beats) -> float:
    return sum(b.credited for b in beats)


# --- 1. the enrolled person -------------------------------------------------------------------------

def test_the_enrolled_person_passes_the_start_and_the_random_check_and_earns_credit(
        app, db, live_server, camera, feeds, face_player, staff, open_class, approved_learner, study_video,
        artifacts):
    learner = approved_learner
    (lesson,) = lesson_ids(ready_course(db, staff, open_class, [study_video]))
    page = camera(feeds["obama"]).new_page()
    start_studying(page, live_server, learner, lesson)
    no_check_inside_the_video(db, learner)
    assert page.locator(VIDEO).evaluate("v => v.paused")  # nothing plays while the check is open

    # The start check: the countdown with the camera's picture, then the verdict.
    expect(page.locator("#face-countdown")).to_contain_text(zh(app, "Look at the screen"), timeout=10_000)
    page.wait_for_function("v => v.videoWidth > 0 && v.currentTime > 0",
                           arg=page.locator("#face-video").element_handle())
    shot_screen(page, artifacts, "01-start-check-countdown.png")
    expect(page.locator("#face-retry")).to_be_hidden()  # no second capture while this one runs
    expect(page.locator("#face-result")).to_have_text(zh(app, "Identity confirmed. You can continue."),
                                                      timeout=CHECK_TIMEOUT)
    shot_screen(page, artifacts, "02-start-check-passed.png")
    pass_check(app, page)
    (start,) = rows(db, FaceCheck, FaceCheck.learner_id == learner.id)
    assert (start.purpose, start.status) == (START, PASSED)

    # Credit accrues; 8 s after the pass a heartbeat's answer brings the random check, and it passes too.
    wait_until(lambda: effective(db, learner, lesson) >= 3, timeout=10, message="credit after the start check")
    expect(page.locator("#face-check")).to_be_visible(timeout=15_000)
    assert page.locator(VIDEO).evaluate("v => v.paused")
    shot_screen(page, artifacts, "03-random-check.png")
    pass_check(app, page)
    checks = rows(db, FaceCheck, FaceCheck.learner_id == learner.id)
    random_check = checks[1]
    assert (random_check.purpose, random_check.status) == (RANDOM, PASSED)
    at_second_pass = effective(db, learner, lesson)

    # The lesson goes on: more credit after the second check, provisional until the next one.
    wait_until(lambda: effective(db, learner, lesson) >= at_second_pass + 2, timeout=8,
               message="credit after the random check")
    shot(page, artifacts, "04-studying-after-the-random-check.png")

    passed = [c for c in rows(db, FaceCheck, FaceCheck.learner_id == learner.id) if c.status == PASSED]
    assert [c.purpose for c in passed[:2]] == [START, RANDOM]
    for check in passed[:2]:
        tries = attempts_of(db, check.id)
        assert len(tries) == 1 and tries[0].outcome == "pass" and tries[0].liveness == "ok", tries
        assert tries[0].mode == "camera" and len(tries[0].distance_list) == 6
        assert max(tries[0].distance_list) < MATCHED, tries[0].distance_list
        assert check.distance < MATCHED
    beats = heartbeats(db, learner)
    assert not [b for b in beats if b.voided]
    assert all(b.credited == 0 for b in beats if b.reason == "check_due")  # nothing counts while a check waits
    # What was studied between the two checks is tied to the random check that confirmed it ...
    confirmed = [b for b in beats if b.check_id == random_check.id]
    assert credited(confirmed) >= 3 and all(b.credited > 0 for b in confirmed)
    # ... (the start check came before any study, so it confirmed nothing) and the rest waits for the next check.
    assert not [b for b in beats if b.check_id == start.id]
    provisional = [b for b in beats if b.credited > 0 and b.check_id is None]
    assert credited(provisional) >= 2
    total = effective(db, learner, lesson)
    assert total == pytest.approx(credited(beats), abs=0.01)
    assert total == pytest.approx(credited(confirmed) + credited(provisional), abs=0.01)
    session = rows(db, StudySession, StudySession.learner_id == learner.id)[0]
    assert session.ended_at is None
    assert session.next_check_at is not None or session.open_check_id is not None  # the next check is planned


# --- 2. another person -------------------------------------------------------------------------------

def test_another_person_fails_twice_is_signed_out_and_the_provisional_time_is_voided(
        app, db, live_server, camera, feeds, face_player, staff, open_class, approved_learner, study_video,
        artifacts):
    learner = approved_learner
    # Two tries, and no random check while the learner studies the first time.
    face_player(LMS_FACE_CHECK_ATTEMPTS=2, LMS_FACE_CHECK_MIN_SECONDS=120, LMS_FACE_CHECK_MAX_SECONDS=300)
    (lesson,) = lesson_ids(ready_course(db, staff, open_class, [study_video]))

    # The learner passes the start check, studies a few seconds and signs out. That time is provisional:
    # no check has come after it yet.
    context = camera(feeds["obama"])
    page = context.new_page()
    start_studying(page, live_server, learner, lesson)
    no_check_inside_the_video(db, learner)
    pass_check(app, page)
    wait_until(lambda: effective(db, learner, lesson) >= 3, timeout=10, message="credit after the start check")
    page.locator(VIDEO).evaluate("v => v.pause()")
    wait_until(lambda: heartbeats(db, learner)[-1].playing is False, message="the pause heartbeat")
    page.locator(".topbar form.inline button").click()
    page.wait_for_url(re.compile(r"/login"))
    context.close()
    first_session = rows(db, StudySession, StudySession.learner_id == learner.id)[0]
    assert first_session.end_reason == "logout"
    earned = heartbeats(db, learner)
    provisional = [b for b in earned if b.credited > 0]
    assert credited(provisional) >= 3 and all(b.check_id is None and not b.voided for b in provisional)
    assert effective(db, learner, lesson) == pytest.approx(credited(provisional), abs=0.01)

    # Someone else sits down at the learner's account: the new session's start check fails ...
    page = camera(feeds["biden"]).new_page()
    start_studying(page, live_server, learner, lesson)
    mismatch = zh(app, "The face does not match your enrolment photo.")
    result = page.locator("#face-result")
    expect(result).to_have_text(zh(app, "Check failed: %(reason)s Tries left: %(left)s.", reason=mismatch, left=1),
                                timeout=CHECK_TIMEOUT)
    retry = page.locator("#face-retry")
    expect(retry).to_be_visible()
    shot_screen(page, artifacts, "01-first-try-failed.png")

    # ... the retry fails too, and the learner is signed out.
    retry.click()
    expect(retry).to_be_hidden()
    failed_message = zh(app, "Check failed: %(reason)s You have been signed out; the time since the last passed "
                             "check was voided. You can appeal on your face check page after signing in again.",
                        reason=mismatch)
    expect(page.locator("#session-ended")).to_be_visible(timeout=CHECK_TIMEOUT)
    expect(page.locator("#session-ended-message")).to_have_text(failed_message)
    expect(page.locator("#face-check")).to_be_hidden()  # the dialog closed: nothing covers why study stopped
    expect(page.locator("#lesson-provisional")).to_have_text("0.0")  # the provisional time is gone
    shot_screen(page, artifacts, "02-signed-out.png")

    sessions = rows(db, StudySession, StudySession.learner_id == learner.id)
    assert [s.end_reason for s in sessions] == ["logout", "face_failed"]
    checks = rows(db, FaceCheck, FaceCheck.learner_id == learner.id)
    assert [(c.purpose, c.status) for c in checks] == [(START, PASSED), (START, FAILED)]
    failed = checks[1]
    assert failed.context_id == sessions[1].id and failed.attempts == 2 and failed.reason == "mismatch"
    tries = attempts_of(db, failed.id)
    assert [t.outcome for t in tries] == ["fail", "fail"] and all(t.reason == "mismatch" for t in tries)
    assert all(t.distance > 0.6 for t in tries), [t.distance for t in tries]

    # The time studied after the last passed check (the tail of the first session) is voided by the failed
    # check, although it was earned in another session: provisional time belongs to the learner.
    voided = {b.id: b for b in heartbeats(db, learner) if b.voided}
    assert set(voided) == {b.id for b in provisional}
    assert all(b.check_id == failed.id for b in voided.values())
    assert progress(db, learner, lesson).effective_seconds == 0  # rebuilt: no passed check confirmed anything

    # Signed out on every device: the next page asks for a sign-in, even if a heartbeat answered after the
    # failure re-sent the old session cookie (the session's epoch is stale).
    page.goto(f"{live_server}/study")
    assert "/login" in page.url
    expect(page.locator("#identifier")).to_be_visible()


# --- 3. a photo held to the camera ----------------------------------------------------------------------

def test_a_still_photo_as_the_camera_fails_liveness(
        app, db, live_server, camera, feeds, face_player, staff, open_class, approved_learner, study_video,
        artifacts):
    learner = approved_learner
    (lesson,) = lesson_ids(ready_course(db, staff, open_class, [study_video]))
    page = camera(feeds["still"]).new_page()
    start_studying(page, live_server, learner, lesson)

    reasons = {"identical": zh(app, "The pictures do not change: a still image cannot pass the check."),
               "no_motion": zh(app, "No head movement was seen. Turn your head slowly as asked.")}
    result = page.locator("#face-result")
    expect(page.locator("#face-retry")).to_be_visible(timeout=CHECK_TIMEOUT)  # shown when a try failed
    shot_screen(page, artifacts, "01-still-image-refused.png")

    (check,) = rows(db, FaceCheck, FaceCheck.learner_id == learner.id)
    assert check.status == "open" and check.attempts == 1
    (attempt,) = attempts_of(db, check.id)
    assert attempt.outcome == "fail" and attempt.liveness in reasons, (attempt.liveness, attempt.reason)
    assert attempt.reason == attempt.liveness
    assert attempt.distance < MATCHED  # it is the right face; only liveness refused it
    expect(result).to_have_text(zh(app, "Check failed: %(reason)s Tries left: %(left)s.",
                                   reason=reasons[attempt.liveness], left=app.config["LMS_FACE_CHECK_ATTEMPTS"] - 1))
    assert page.locator(VIDEO).evaluate("v => v.paused && v.currentTime === 0")
    assert not [b for b in heartbeats(db, learner) if b.credited > 0]


# --- 4. a phone without a camera API ------------------------------------------------------------------

def test_wechat_on_an_iphone_without_camera_api_passes_with_two_photos(
        app, db, live_server, browser, pw, face_player, staff, open_class, approved_learner, study_video,
        artifacts):
    learner = approved_learner
    (lesson,) = lesson_ids(ready_course(db, staff, open_class, [study_video]))
    device = dict(pw.devices["iPhone 13"])
    device.pop("default_browser_type", None)
    device["user_agent"] += WECHAT
    context = browser.new_context(**device, locale="zh-CN")
    context.set_default_timeout(10_000)
    context.add_init_script("Object.defineProperty(navigator, 'mediaDevices', {value: undefined})")
    try:
        page = context.new_page()
        start_studying(page, live_server, learner, lesson)
        fallback = page.locator("#face-fallback")
        expect(fallback).to_be_visible()
        expect(page.locator("#face-camera")).to_be_hidden()
        shot_screen(page, artifacts, "01-photo-fallback.png")
        page.set_input_files("#face-photo-1", str(FACES / "obama_2.jpg"))
        page.set_input_files("#face-photo-2", str(FACES / "obama_3.jpg"))
        page.click("#face-send-photos")
        expect(page.locator("#face-result")).to_have_text(zh(app, "Identity confirmed. You can continue."),
                                                          timeout=CHECK_TIMEOUT)
        shot_screen(page, artifacts, "02-photos-passed.png")
        expect(page.locator("#face-check")).to_be_hidden(timeout=5_000)

        (check,) = rows(db, FaceCheck, FaceCheck.learner_id == learner.id)
        assert (check.purpose, check.status) == (START, PASSED)
        (attempt,) = attempts_of(db, check.id)
        assert attempt.mode == "photos" and len(attempt.distance_list) == 2 and attempt.liveness == "ok"
        assert attempt.distance < MATCHED
    finally:
        context.close()

