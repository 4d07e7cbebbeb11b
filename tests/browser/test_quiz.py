"""The course test (issue 13) in a real browser: a learner passes the start face check with a live fake camera
and passes the test; another fails five times and finds the test locked; a question left alone runs out of time
and the page moves on by itself; a phone in WeChat takes the test by tapping; a second tab takes the test over
from the first. Face checks are off except in the first test. The bank ready_course stocks (tests/quizdata.py)
says each question's right answer in its stem, so the learner answers by reading it. What the page shows is
checked against the database the live server writes. Screenshots go to test-artifacts/<test name>/."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.proctor.models import PASSED, START, FaceCheck
from lms.proctor.services import active_enrolment, assess_photo
from lms.quiz import attempts as quiz_attempts
from lms.quiz.models import FINISHED, SUBMITTED, Attempt, AttemptQuestion

from .camera_feed import start_from_asked_clips
from .conftest import DEADLINE_MS, patient
from .test_enrolment_flow import shot, sign_in, zh
from .test_face_checks import (CHECK_TIMEOUT, PASSED_TEXT, camera, move_as_asked, real_enrolment_photo,  # noqa: F401
                               real_moves)
from .test_player import shot_screen

QUESTIONS = 5          # ready_course's paper: 2 true/false, 2 single, 1 multiple choice, 20 points each
MAX_ATTEMPTS = 5
PHONE_WIDTH = 390
WECHAT_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN")
CHEATING = "Cheating is forbidden. Every answer, its time and every face check are recorded."
SIT_URL = re.compile(r"/quiz/attempts/(\d+)/sit$")

# Every text #quiz-message and every value #quiz-countdown[data-seconds] showed, however briefly (the time-up
# notice lasts only until the next question arrives). Installed before the page's own scripts run.
RECORD_SCREEN = """(() => {
  const log = window.__quizLog = {messages: [], seconds: []};
  const note = (list, value) => { if (value && list[list.length - 1] !== value) list.push(value); };
  new MutationObserver(() => {
    const message = document.getElementById('quiz-message');
    const countdown = document.getElementById('quiz-countdown');
    if (message) note(log.messages, message.textContent);
    if (countdown) note(log.seconds, countdown.dataset.seconds);
  }).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
})();"""


# --- helpers --------------------------------------------------------------------------------------

def new_desktop(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(DEADLINE_MS)
    return context


@pytest.fixture()
def desktop(browser):
    context = new_desktop(browser)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture()
def open_test(ready):
    """A published course in the learner's class whose lessons the learner has completed: the test is open."""
    return ready


def fresh(db, statement) -> list:
    """Rows as the live server last committed them (the server thread writes to the same database)."""
    db.session.expire_all()
    found = list(db.session.scalars(statement))
    db.session.commit()
    return found


def attempts_of(db, learner, course) -> list[Attempt]:
    return fresh(db, select(Attempt).where(Attempt.learner_id == learner.id, Attempt.course_id == course.id)
                 .order_by(Attempt.number))


def questions_of(db, attempt) -> list[AttemptQuestion]:
    return fresh(db, select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
                 .order_by(AttemptQuestion.position))


def press(locator, tap: bool):
    """A tap on a phone, a click on a desktop."""
    if tap:
        locator.tap()
    else:
        locator.click()


def start_attempt(app, page, number: int, tap=False) -> int:
    """On the test home: start attempt ``number``; returns the attempt's id from the test screen's address."""
    button = page.locator("#start-test")
    expect(button).to_have_text(zh(app, "Start attempt %(n)d of %(max)d", n=number, max=MAX_ATTEMPTS))
    press(button, tap)
    page.wait_for_url(SIT_URL)
    return int(SIT_URL.search(page.url).group(1))


def next_question(page, previous: str | None, timeout=DEADLINE_MS) -> str:
    """Wait until the screen shows a question other than ``previous`` (its id), ready to answer; return its id."""
    page.wait_for_function(
        """previous => {
          const quiz = document.getElementById('quiz'), question = document.getElementById('quiz-question');
          return quiz.dataset.state === 'question' && !question.hidden && question.dataset.question !== previous
            && !document.getElementById('quiz-submit').disabled;
        }""", arg=previous, timeout=timeout)
    return page.locator("#quiz-question").get_attribute("data-question")


def choose(page, right: bool, tap=False) -> list[str]:
    """Read the stem (it quotes the right options), tick the right options or as many wrong ones, and return
    the texts ticked."""
    stem = page.locator("#quiz-stem").inner_text()
    keys = re.findall(r"“(.+?)”", stem)
    labels = page.locator("#quiz-options label")
    texts = [text.strip() for text in labels.all_inner_texts()]
    assert keys and set(keys) <= set(texts), (stem, texts)
    wanted = keys if right else [text for text in texts if text not in keys][:len(keys)]
    for text in wanted:
        label = labels.nth(texts.index(text))
        press(label, tap)
        expect(label.locator("input")).to_be_checked()
    return wanted


def progress_text(app, position: int) -> str:
    return zh(app, "Question {n} of {total}").format(n=position, total=QUESTIONS)


def take_test(app, page, wrong=(), tap=False) -> list[str]:
    """Answer every question, wrongly at the positions in ``wrong`` (1-based); return the questions' ids."""
    shown, previous = [], None
    for position in range(1, QUESTIONS + 1):
        previous = next_question(page, previous)
        expect(page.locator("#quiz-progress")).to_have_text(progress_text(app, position))
        choose(page, position not in wrong, tap)
        press(page.locator("#quiz-submit"), tap)
        shown.append(previous)
    expect(page.locator("#quiz")).to_have_attribute("data-state", "finished")
    return shown


def result_text(app, passed: bool, score: int) -> str:
    return zh(app, "Passed: {score} points." if passed else "Not passed: {score} points.").format(score=score)


def expect_result(app, page, passed: bool, score: int):
    result = page.locator("#quiz-result")
    expect(result).to_have_text(result_text(app, passed, score))
    expect(result).to_have_attribute("data-passed", "true" if passed else "false")


def back_to_test_home(app, page, tap=False):
    press(page.locator("#quiz-finished a", has_text=zh(app, "Back to the test page")), tap)
    expect(page.locator("#test-home")).to_be_visible()


def assert_fits(page, width=PHONE_WIDTH):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide on a {width}px phone screen"


# --- 1. the start face check and a pass ------------------------------------------------------------------

def test_learner_passes_the_start_face_check_and_passes_the_test(
        app, db, live_server, camera, face_checks_on, faces_dir, approved_learner, open_test, artifacts,  # noqa: F811
        real_moves, real_enrolment_photo):  # noqa: F811
    learner, course = approved_learner, open_test
    # The learner in the footage (tests/footage.py): enrolled on a frame of it, answering with its real moves.
    active_enrolment(learner.id).encoding = assess_photo(real_enrolment_photo).encoding
    db.session.commit()
    clips = real_moves
    feed, chromium = camera(next(iter(clips.values())).frames[0])
    context = new_desktop(chromium)
    page = context.new_page()
    start_from_asked_clips(page, feed, clips)
    sign_in(page, live_server, learner.id_number)

    # The course page shows the test card: open, all attempts left.
    page.goto(f"{live_server}/study/courses/{course.id}")
    card = page.locator("#course-test")
    expect(card).to_contain_text(zh(app, "The test is open."))
    expect(card).to_contain_text(zh(app, "Attempts left: %(left)d", left=MAX_ATTEMPTS))
    shot(page, artifacts, "01-course-page.png")
    page.locator("#test-link").click()
    expect(page.locator("#test-home")).to_contain_text(zh(app, CHEATING))
    shot(page, artifacts, "02-test-home.png")

    # Starting asks for the face check first: the proctor's dialog, over the test screen with its notice.
    # (The learner faces the camera before the dialog's "hold" phase: follow the prompt at once, look around later.)
    attempt_id = start_attempt(app, page, 1)
    expect(page.locator("#face-check")).to_be_visible()
    behind_the_dialog = {}

    def at_the_prompt(answer):
        shot_screen(page, artifacts, "03-face-check-prompt.png")
        behind_the_dialog.update(page.evaluate("""() => ({state: document.getElementById('quiz').dataset.state,
            questionHidden: document.getElementById('quiz-question').hidden})"""))

    move_as_asked(page, feed, clips, on_move=at_the_prompt)
    expect(page.locator("#face-result")).to_have_text(zh(app, PASSED_TEXT), timeout=CHECK_TIMEOUT)
    shot_screen(page, artifacts, "04-face-check-passed.png")
    expect(page.locator("#face-check")).to_be_hidden(timeout=CHECK_TIMEOUT)

    assert behind_the_dialog == {"state": "face_check", "questionHidden": True}  # no question before the check
    notice = page.locator("#cheating-notice")
    expect(notice).to_be_visible()
    expect(notice).to_have_text(zh(app, CHEATING))
    assert "严禁作弊" in notice.inner_text()

    # The questions, one at a time, with the notice and the countdown; one wrong answer still passes (80).
    next_question(page, None)
    expect(notice).to_be_visible()
    expect(page.locator("#quiz-countdown")).to_have_text(
        re.compile(re.escape(zh(app, "{s} s left")).replace(re.escape("{s}"), r"\d+")))
    shot(page, artifacts, "05-first-question.png")
    take_test(app, page, wrong={3})
    expect_result(app, page, passed=True, score=80)
    assert "考试通过" in page.locator("#quiz-result").inner_text()
    shot(page, artifacts, "06-passed.png")

    (attempt,) = attempts_of(db, learner, course)
    assert attempt.id == attempt_id
    assert (attempt.status, attempt.end_reason, attempt.score, attempt.passed) == (FINISHED, SUBMITTED, 80, True)
    assert [q.score for q in questions_of(db, attempt)].count(0) == 1
    (check,) = fresh(db, select(FaceCheck).where(FaceCheck.learner_id == learner.id))
    assert (check.context_kind, check.context_id) == (quiz_attempts.CONTEXT, attempt.id)
    assert (check.purpose, check.status) == (START, PASSED)

    # The test home and the course page say passed; no new attempt can start.
    back_to_test_home(app, page)
    state = page.locator("#test-state")
    expect(state.locator(".badge.approved")).to_have_text(zh(app, "Passed"))
    expect(state).to_contain_text(f"{zh(app, 'Best score')} 80")
    expect(page.locator("#start-test")).to_have_count(0)
    shot(page, artifacts, "07-test-home-passed.png")
    page.goto(f"{live_server}/study/courses/{course.id}")
    expect(page.locator("#course-test .badge.approved")).to_have_text(zh(app, "Passed"))
    context.close()


# --- 2. five failures lock the test ------------------------------------------------------------------

def test_five_failed_attempts_lock_the_test(app, db, live_server, desktop, approved_learner, open_test, artifacts):
    learner, course = approved_learner, open_test
    page = desktop.new_page()
    sign_in(page, live_server, learner.id_number)
    page.goto(f"{live_server}/quiz/courses/{course.id}/test")

    for number in range(1, MAX_ATTEMPTS + 1):
        start_attempt(app, page, number)
        take_test(app, page, wrong=set(range(1, QUESTIONS + 1)))
        expect_result(app, page, passed=False, score=0)
        if number == 1:
            shot(page, artifacts, "01-first-attempt-failed.png")
        back_to_test_home(app, page)
        expect(page.locator("#test-home .muted")).to_have_text(
            zh(app, "Attempts used: %(used)d of %(max)d", used=number, max=MAX_ATTEMPTS))

    blocked = page.locator("#test-blocked")
    expect(blocked).to_have_attribute("data-reason", "locked")
    expect(blocked).to_have_text(
        zh(app, "All attempts are used: the test is locked. Please contact your training institution."))
    assert "考试次数已用完，考试已锁定" in blocked.inner_text()
    expect(page.locator("#start-test")).to_have_count(0)
    expect(page.locator("#attempts tbody tr")).to_have_count(MAX_ATTEMPTS)
    shot(page, artifacts, "02-locked.png")

    # A start posted anyway (the form is gone, the request is not) is refused with the same message.
    with page.expect_navigation():
        page.evaluate("""url => {
            const form = Object.assign(document.createElement('form'), {method: 'post', action: url});
            const token = document.querySelector('meta[name="csrf-token"]').content;
            form.appendChild(Object.assign(document.createElement('input'), {type: 'hidden', name: 'csrf_token',
                                                                            value: token}));
            document.body.appendChild(form);
            form.submit();
        }""", f"{live_server}/quiz/courses/{course.id}/test/start")
    assert page.url == f"{live_server}/quiz/courses/{course.id}/test"
    expect(page.locator("#test-blocked")).to_have_attribute("data-reason", "locked")
    expect(page.locator(".flash-error")).to_have_text(
        zh(app, "All attempts are used: the test is locked. Please contact your training institution."))

    found = attempts_of(db, learner, course)
    assert [a.number for a in found] == list(range(1, MAX_ATTEMPTS + 1))
    assert all((a.status, a.end_reason, a.score, a.passed) == (FINISHED, SUBMITTED, 0, False) for a in found)

    page.goto(f"{live_server}/study/courses/{course.id}")
    expect(page.locator("#course-test .badge.returned")).to_have_text(zh(app, "Locked"))
    shot(page, artifacts, "03-course-page-locked.png")


# --- 3. the countdown ------------------------------------------------------------------------------

def test_a_question_left_alone_times_out_and_the_page_moves_on(
        app, db, live_server, desktop, approved_learner, open_test, artifacts, monkeypatch):
    seconds = 4
    monkeypatch.setitem(app.config, "LMS_QUIZ_SECONDS_PER_QUESTION", seconds)
    learner, course = approved_learner, open_test
    desktop.add_init_script(RECORD_SCREEN)
    page = desktop.new_page()
    sign_in(page, live_server, learner.id_number)
    page.goto(f"{live_server}/quiz/courses/{course.id}/test")
    start_attempt(app, page, 1)

    # The first question: the learner does nothing; the countdown runs to 0 and the next question comes.
    first = next_question(page, None)
    countdown = page.locator("#quiz-countdown")
    expect(countdown).to_have_attribute("data-seconds", str(seconds - 1))
    expect(countdown).to_have_text(zh(app, "{s} s left").format(s=seconds - 1))
    shot(page, artifacts, "01-counting-down.png")
    second = next_question(page, first, timeout=patient(seconds + 5) * 1000)
    expect(page.locator("#quiz-progress")).to_have_text(progress_text(app, 2))
    expect(page.locator("#quiz-options input:checked")).to_have_count(0)
    # The time-up message stays on the next question, so the learner knows why it moved on.
    expect(page.locator("#quiz-message")).to_have_text(zh(app, "Time ran out on that question: it scores zero."))
    log = page.evaluate("window.__quizLog")
    counted = [int(s) for s in log["seconds"]]
    assert counted[:counted.index(0) + 1] == list(range(seconds, -1, -1)), counted  # every second, down to 0
    shot(page, artifacts, "02-moved-on.png")

    # The other four are answered in time: 80 points.
    previous = second
    for position in range(2, QUESTIONS + 1):
        if position > 2:
            previous = next_question(page, previous)
        choose(page, right=True)
        page.locator("#quiz-submit").click()
    expect(page.locator("#quiz")).to_have_attribute("data-state", "finished")
    expect_result(app, page, passed=True, score=80)

    (attempt,) = attempts_of(db, learner, course)
    timed_out, *answered = questions_of(db, attempt)
    assert str(timed_out.id) == first
    assert timed_out.score == 0 and not timed_out.correct and not timed_out.response
    assert all(q.score == q.points and q.answered_at is not None for q in answered)

    # The record: the first question has no answer and 0 points.
    page.locator("#quiz-result-link").click()
    row = page.locator("#attempt-questions tr[data-position='1']")
    expect(row.locator(".answer-given")).to_have_text("—")
    expect(row.locator("td").last).to_have_text(f"0 / {timed_out.points}")
    expect(page.locator("#attempt-score")).to_have_text("80")
    shot(page, artifacts, "03-record.png")


# --- 4. a phone in WeChat --------------------------------------------------------------------------

def test_phone_in_wechat_takes_the_test_by_tapping(app, db, live_server, browser, approved_learner, open_test,
                                                   artifacts):
    learner, course = approved_learner, open_test
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=3, user_agent=WECHAT_IPHONE, locale="zh-CN")
    context.set_default_timeout(DEADLINE_MS)
    try:
        page = context.new_page()
        sign_in(page, live_server, learner.id_number)
        assert "MicroMessenger" in page.evaluate("navigator.userAgent")
        assert page.evaluate("navigator.maxTouchPoints") > 0

        page.goto(f"{live_server}/study/courses/{course.id}")
        expect(page.locator("#course-test")).to_be_visible()
        assert_fits(page)
        page.locator("#test-link").tap()
        expect(page.locator("#test-home")).to_be_visible()
        assert_fits(page)
        shot(page, artifacts, "01-test-home.png")

        start_attempt(app, page, 1, tap=True)
        next_question(page, None)
        expect(page.locator("#cheating-notice")).to_be_visible()
        assert_fits(page)
        shot(page, artifacts, "02-question.png")
        take_test(app, page, tap=True)
        expect_result(app, page, passed=True, score=100)
        assert_fits(page)
        shot(page, artifacts, "03-passed.png")

        (attempt,) = attempts_of(db, learner, course)
        assert (attempt.score, attempt.passed) == (100, True)
        assert "MicroMessenger" in attempt.user_agent

        page.locator("#quiz-result-link").tap()
        expect(page.locator("#attempt-record")).to_be_visible()
        assert_fits(page)
        shot(page, artifacts, "04-record.png")
    finally:
        context.close()


# --- 5. two tabs ---------------------------------------------------------------------------------

def test_a_second_tab_takes_over_and_the_first_is_refused(app, db, live_server, desktop, approved_learner,
                                                          open_test, artifacts):
    learner, course = approved_learner, open_test
    first_tab = desktop.new_page()
    sign_in(first_tab, live_server, learner.id_number)
    first_tab.goto(f"{live_server}/quiz/courses/{course.id}/test")
    start_attempt(app, first_tab, 1)
    question = next_question(first_tab, None)

    # The same attempt opened in a second tab: it shows the same question (served once, on its first time).
    second_tab = desktop.new_page()
    second_tab.goto(first_tab.url)
    assert next_question(second_tab, None) == question

    # The first tab answers: refused, it says why and stops.
    choose(first_tab, right=True)
    first_tab.locator("#quiz-submit").click()
    expect(first_tab.locator("#quiz")).to_have_attribute("data-state", "stopped")
    expect(first_tab.locator("#quiz-message")).to_have_text(
        zh(app, "This test is open in another window or tab; continue there, or reload this page to continue here."))
    expect(first_tab.locator("#quiz-question")).to_be_hidden()
    shot(first_tab, artifacts, "01-first-tab-refused.png")
    (attempt,) = attempts_of(db, learner, course)
    assert questions_of(db, attempt)[0].answered_at is None

    # The second tab goes on from the same question.
    second_tab.bring_to_front()
    choose(second_tab, right=True)
    second_tab.locator("#quiz-submit").click()
    next_question(second_tab, question)
    expect(second_tab.locator("#quiz-progress")).to_have_text(progress_text(app, 2))
    shot(second_tab, artifacts, "02-second-tab-goes-on.png")
    first = questions_of(db, attempt)[0]
    assert str(first.id) == question and first.score == first.points


# --- 6. a slow network: the answer's response is lost ------------------------------------------------------

def test_an_answer_whose_response_is_lost_is_kept_and_the_page_goes_on(
        app, db, live_server, desktop, approved_learner, open_test):
    """The server records the answer but the page never hears back; its retry is refused as already
    answered. The page must take up the attempt where the server is, not stop, and the answer counts."""
    learner, course = approved_learner, open_test
    page = desktop.new_page()
    sign_in(page, live_server, learner.id_number)
    page.goto(f"{live_server}/quiz/courses/{course.id}/test")
    attempt_id = start_attempt(app, page, 1)
    lost = []

    def lose_first_response(route):
        response = route.fetch()  # the server has the answer
        if not lost:
            lost.append(response.status)
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route("**/answer", lose_first_response)
    first = next_question(page, None)
    choose(page, right=True)
    page.locator("#quiz-submit").click()
    second = next_question(page, first, timeout=patient(15) * 1000)
    assert lost == [200]
    expect(page.locator("#quiz-progress")).to_have_text(progress_text(app, 2))
    answered = questions_of(db, db.session.get(Attempt, attempt_id))[0]
    assert str(answered.id) == first and answered.score == answered.points
    assert second != first
