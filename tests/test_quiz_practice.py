"""Practice (issue 13): sequential practice, mock exams, the wrong-question book, favourites and search.
The rules are driven with explicit times; the HTTP tests check who may practise and that no key or
explanation reaches a page before the learner's answer to that question is recorded."""
import json
from datetime import datetime, timedelta
from random import Random

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.institutions.services import apply_to_class, approve_application
from lms.player.models import LessonProgress
from lms.quiz import attempts, bank, grading
from lms.quiz.practice import rules as practice
from lms.quiz.bank import QuizError
from lms.quiz.models import (FINISHED, Attempt, AttemptQuestion, Favourite, MockSubmission, PracticeAnswer,
                             Question, WrongQuestion)

from .conftest import signed_in
from .test_player_parallel_start import run_together

T0 = datetime(2026, 3, 2, 1, 30)
SECRET = "practice-test-secret"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture()
def questions(course):
    """The stocked bank in order: true/false 1 and 2 (key A), single 1 and 2 (key B), multiple 1 (key AC)."""
    return bank.bank(course.id)


@pytest.fixture()
def learner_id(approved_learner):
    return approved_learner.id


@pytest.fixture()
def me_client(app, course, approved_learner):
    return signed_in(app, approved_learner.id_number)


@pytest.fixture()
def classmate(db, other_learner, open_class, staff):
    """A second learner of the same class (and course)."""
    application = apply_to_class(other_learner, open_class, "T370102198506074560", utcnow(), Actor(other_learner.user))
    approve_application(application, utcnow(), Actor(staff))
    return other_learner


def right(question: Question, order=None) -> list[int]:
    """The shown positions of the key's options."""
    order = list(order) if order is not None else practice.original_order(question)
    return [order.index(index) for index in grading.indices_of(question.answer)]


def wrong(question: Question, order=None) -> list[int]:
    chosen = set(right(question, order))
    count = grading.option_count(question.kind, question.option_list)
    return [next(i for i in range(count) if i not in chosen)]


def retire(db, question: Question) -> None:
    """Retire a question behind the bank rules' back, as if the bank had changed since."""
    question.retired = True
    db.session.commit()


def answers_count(db) -> int:
    return db.session.scalar(select(func.count(PracticeAnswer.id)))


def book(db, learner_id) -> dict[int, WrongQuestion]:
    return {e.question_id: e for e in db.session.scalars(select(WrongQuestion).where(
        WrongQuestion.learner_id == learner_id))}


# --- rules: grading and the wrong-question book ---------------------------------------------------------

def test_answers_are_graded_and_recorded(db, questions, learner_id):
    true_false, _, single, _, multiple = questions
    answer = practice.record_answer(learner_id, true_false, [0], practice.SEQUENTIAL, at(0))
    assert (answer.response, answer.correct, answer.mode, answer.answered_at) == ("A", True, "sequential", at(0))
    assert practice.record_answer(learner_id, single, [1], practice.SEQUENTIAL, at(1)).correct
    assert practice.record_answer(learner_id, multiple, [2, 0], practice.SEQUENTIAL, at(2)).response == "AC"
    assert practice.record_answer(learner_id, multiple, [2, 0], practice.SEQUENTIAL, at(2)).correct
    # 多选、少选、错选均不得分
    assert not practice.record_answer(learner_id, multiple, [0], practice.SEQUENTIAL, at(3)).correct
    assert not practice.record_answer(learner_id, multiple, [0, 1, 2], practice.SEQUENTIAL, at(4)).correct
    assert not practice.record_answer(learner_id, true_false, [1], practice.SEQUENTIAL, at(5)).correct
    assert answers_count(db) == 7


def test_wrong_answers_fill_the_book_and_only_a_right_replay_empties_it(db, questions, learner_id):
    question = questions[2]  # single, key B
    practice.record_answer(learner_id, question, [0], practice.SEQUENTIAL, at(0))
    entry = book(db, learner_id)[question.id]
    assert (entry.last_response, entry.times_wrong, entry.last_wrong_at) == ("A", 1, at(0))
    practice.record_answer(learner_id, question, [3], practice.SEARCH, at(10))
    entry = book(db, learner_id)[question.id]
    assert (entry.last_response, entry.times_wrong, entry.last_wrong_at) == ("D", 2, at(10))
    # Right in sequential practice, from search or favourites: it stays in the book.
    for mode in (practice.SEQUENTIAL, practice.SEARCH, practice.FAVOURITE):
        practice.record_answer(learner_id, question, [1], mode, at(20))
        assert question.id in book(db, learner_id)
    # Wrong in the book's replay: still there, counted; right in the replay: out.
    practice.record_answer(learner_id, question, [2], practice.WRONG, at(30))
    assert book(db, learner_id)[question.id].times_wrong == 3
    practice.record_answer(learner_id, question, [1], practice.WRONG, at(40))
    assert question.id not in book(db, learner_id)


@pytest.mark.parametrize("choice, code", [([9], "bad_answer"), ([0, 1], "bad_answer"), ([0, 0], "bad_answer"),
                                          (["1"], "bad_answer"), ([True], "bad_answer"), ("1", "bad_answer"),
                                          ([-1], "bad_answer"), ([], "no_choice")])
def test_a_malformed_answer_is_refused_and_writes_nothing(db, questions, learner_id, choice, code):
    with pytest.raises(QuizError) as refused:
        practice.record_answer(learner_id, questions[2], choice, practice.SEQUENTIAL, at(0))
    assert refused.value.code == code
    assert answers_count(db) == 0 and not book(db, learner_id)


@pytest.mark.parametrize("mode", ["mock", "test", "", None])
def test_an_unknown_mode_is_refused(db, questions, learner_id, mode):
    with pytest.raises(QuizError) as refused:
        practice.record_answer(learner_id, questions[0], [0], mode, at(0))
    assert refused.value.code == "bad_mode"
    assert answers_count(db) == 0


def test_only_active_questions_of_the_course_may_be_practised(db, staff, course, questions):
    other = bank.add_question(course, bank.QuestionDraft("true_false", "另一题", [], "A"), at(0), Actor(staff))
    assert practice.practice_question(course.id, other.id) is other
    other.retired = True
    db.session.commit()
    for question_id in (other.id, 10**6, None, 0):
        with pytest.raises(QuizError) as refused:
            practice.practice_question(course.id, question_id)
        assert refused.value.code == "unknown_question"
    with pytest.raises(QuizError):
        practice.practice_question(course.id + 1000, questions[0].id)
    assert other.id not in practice.bank_ids(course.id)


# --- rules: sequential practice -------------------------------------------------------------------------

def test_resume_position():
    assert practice.resume_position([5, 7, 9], set()) == 1
    assert practice.resume_position([5, 7, 9], {5}) == 2
    assert practice.resume_position([5, 7, 9], {5, 9}) == 2
    assert practice.resume_position([5, 7, 9], {5, 7, 9}) == 1
    assert practice.resume_position([], set()) == 1


def test_sequential_practice_resumes_at_the_first_question_not_answered_in_sequence(db, course, questions,
                                                                                    learner_id):
    assert practice.practice_counts(learner_id, course.id).resume == 1
    practice.record_answer(learner_id, questions[0], [0], practice.SEQUENTIAL, at(0))
    practice.record_answer(learner_id, questions[1], [1], practice.SEQUENTIAL, at(1))
    practice.record_answer(learner_id, questions[2], [1], practice.SEARCH, at(2))  # not in sequence
    counts = practice.practice_counts(learner_id, course.id)
    assert (counts.resume, counts.sequential_done, counts.bank_size) == (3, 2, 5)
    assert (counts.answered, counts.answers, counts.correct_answers, counts.correct_rate) == (3, 3, 2, 67)
    assert counts.wrong == 1 and counts.favourites == 0


# --- rules: favourites, what may be revealed, search ----------------------------------------------------

def test_favourites_are_per_learner_and_idempotent(db, course, questions, learner_id, classmate):
    practice.set_favourite(learner_id, questions[0], True, at(0))
    practice.set_favourite(learner_id, questions[0], True, at(1))
    practice.set_favourite(learner_id, questions[3], True, at(2))
    assert [f.question_id for f in practice.favourite_list(learner_id, course.id)] == [questions[3].id,
                                                                                       questions[0].id]
    assert practice.favourite_list(classmate.id, course.id) == []
    practice.set_favourite(learner_id, questions[0], False, at(3))
    practice.set_favourite(learner_id, questions[0], False, at(4))
    assert practice.favourite_ids(learner_id, [q.id for q in questions]) == {questions[3].id}


def test_answered_questions_include_finished_test_attempts_only(db, course, questions, learner_id):
    practice.record_answer(learner_id, questions[0], [0], practice.SEQUENTIAL, at(0))
    for number, status in ((1, FINISHED), (2, "open")):
        attempt = Attempt(learner_id=learner_id, course_id=course.id, number=number, status=status, started_at=at(0),
                          deadline=at(3600))
        db.session.add(attempt)
        db.session.flush()
        question = questions[number]
        db.session.add(AttemptQuestion(attempt_id=attempt.id, position=1, question_id=question.id, kind=question.kind,
                                       stem=question.stem, answer_key=question.answer, points=20, served_at=at(0),
                                       answered_at=at(5), response="B"))
    db.session.commit()
    assert practice.answered_ids(learner_id, [q.id for q in questions]) == {questions[0].id, questions[1].id}


def test_search_by_text_and_knowledge_point(db, staff, course, questions):
    found = lambda text, point="": [q.id for q in practice.search_bank(course.id, text, point)]  # noqa: E731
    assert found("判断题1") == [questions[0].id]
    assert found("选项乙") == [q.id for q in questions[2:]]          # in the options of choice questions
    assert found("", "应急管理") == [questions[2].id, questions[3].id]
    assert found("单选题2", "应急管理") == [questions[3].id]
    assert found("单选题2", "安全生产法") == []
    assert found("  ") == [] and found("") == []
    english = bank.add_question(course, bank.QuestionDraft("single", "Which PPE?", ["Helmet", "Hat"], "A"), at(0),
                                Actor(staff))
    assert found("helmet") == [english.id]
    english.retired = True
    db.session.commit()
    assert found("helmet") == []
    with pytest.raises(QuizError) as refused:
        practice.search_bank(course.id, "长" * 101, "")
    assert refused.value.code == "search_too_long"
    assert practice.knowledge_points(course.id) == sorted({"安全生产法", "应急管理", "危险化学品"})


# --- rules: mock exams ----------------------------------------------------------------------------------

def mock_answers(paper, questions_by_id, right_count):
    """Choices for every position: the first ``right_count`` right, the others wrong."""
    choices = {}
    for position, item in enumerate(paper.items, start=1):
        question = questions_by_id[item.question_id]
        choices[position] = right(question, item.order) if position <= right_count else wrong(question, item.order)
    return choices


def token_payload(token: str) -> dict:
    """What anyone can read in a paper token (it is signed, not encrypted)."""
    return practice._serializer("any key").loads_unsafe(token)[1]


def with_payload(token: str, payload: dict) -> str:
    """The token with its payload replaced and its timestamp and signature kept."""
    body = practice._serializer("any key").dump_payload(payload).decode()
    return body + "." + ".".join(token.rsplit(".", 2)[1:])


def test_a_mock_paper_is_composed_like_the_test(db, course, questions):
    paper = practice.compose_mock(course.id, Random(3))
    by_id = {q.id: q for q in questions}
    assert not paper.fallback
    assert sorted(item.question_id for item in paper.items) == sorted(by_id)   # 2 + 2 + 1 questions of 20 points
    assert {item.points for item in paper.items} == {20}
    for item in paper.items:
        question = by_id[item.question_id]
        assert sorted(item.order) == list(range(grading.option_count(question.kind, question.option_list)))
        if question.kind == "true_false":
            assert item.order == (0, 1)


def test_a_mock_paper_is_graded_recorded_and_fills_the_wrong_book(db, course, questions, learner_id):
    paper = practice.compose_mock(course.id, Random(5))
    token = practice.sign_mock(paper, learner_id, course.id, at(0), SECRET)
    by_id = {q.id: q for q in questions}
    result = practice.submit_mock(token, mock_answers(paper, by_id, 4), learner_id, course.id, at(600), SECRET, 80)
    assert (result.score, result.passed) == (80, True)
    wrong_id = paper.items[4].question_id
    assert [row.correct for row in result.rows] == [True, True, True, True, False]
    recorded = db.session.scalars(select(PracticeAnswer)).all()
    assert len(recorded) == 5 and {a.mode for a in recorded} == {"mock"} and {a.answered_at for a in recorded} == {at(600)}
    assert set(book(db, learner_id)) == {wrong_id}
    assert db.session.scalar(select(func.count(Attempt.id))) == 0   # never a test attempt
    # A new paper, three right: 60 points, not passed; an unanswered question scores zero and goes to the book.
    choices = mock_answers(paper, by_id, 3)
    del choices[4]
    token = practice.sign_mock(paper, learner_id, course.id, at(650), SECRET)
    result = practice.submit_mock(token, choices, learner_id, course.id, at(700), SECRET, 80)
    assert (result.score, result.passed) == (60, False)
    assert result.rows[3].response == "" and not result.rows[3].correct
    assert len(book(db, learner_id)) == 2


def mock_records(db) -> tuple[int, int]:
    """(mock papers recorded, mock answers recorded)."""
    return (db.session.scalar(select(func.count(MockSubmission.id))),
            db.session.scalar(select(func.count(PracticeAnswer.id)).where(PracticeAnswer.mode == practice.MOCK)))


def test_a_signed_mock_paper_is_recorded_once(db, course, questions, learner_id):
    paper = practice.compose_mock(course.id, Random(5))
    token = practice.sign_mock(paper, learner_id, course.id, at(0), SECRET)
    by_id = {q.id: q for q in questions}
    first = practice.submit_mock(token, mock_answers(paper, by_id, 4), learner_id, course.id, at(600), SECRET, 80)
    assert not first.already_recorded and first.submitted_at == at(600)
    wrong_book = {qid: entry.times_wrong for qid, entry in book(db, learner_id).items()}
    # Sent again, with other answers: nothing is graded or written, the first result comes back.
    again = practice.submit_mock(token, mock_answers(paper, by_id, 5), learner_id, course.id, at(660), SECRET, 80)
    assert again.already_recorded and again.submitted_at == at(600)
    assert (again.score, again.passed) == (first.score, first.passed) == (80, True)
    assert [(r.position, r.question.id, r.item, r.response, r.correct, r.score) for r in again.rows] == \
        [(r.position, r.question.id, r.item, r.response, r.correct, r.score) for r in first.rows]
    assert mock_records(db) == (1, 5)
    assert {qid: entry.times_wrong for qid, entry in book(db, learner_id).items()} == wrong_book
    # The same paper with its signature written another way (base64's spare bits) is the same paper.
    body, signature = token.rsplit(".", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    for spare in range(4):   # 20 bytes in 27 letters: the last letter's 2 lowest bits are not read
        variant = body + "." + signature[:-1] + alphabet[(last & ~3) | spare]
        try:
            result = practice.submit_mock(variant, {}, learner_id, course.id, at(700), SECRET, 80)
        except QuizError as error:
            assert error.code == "mock_tampered"
            continue
        assert result.already_recorded and result.score == 80
    assert mock_records(db) == (1, 5)
    # Recorded after 24 hours too (the recorded result is shown, not "expired"); a new paper is recorded anew.
    late = practice.submit_mock(token, {}, learner_id, course.id, at(0) + timedelta(days=2), SECRET, 80)
    assert late.already_recorded and late.score == 80
    fresh = practice.sign_mock(paper, learner_id, course.id, at(0), SECRET)
    assert fresh != token and practice.paper_digest(fresh) != practice.paper_digest(token)
    assert not practice.submit_mock(fresh, {}, learner_id, course.id, at(700), SECRET, 80).already_recorded
    assert mock_records(db) == (2, 10)


def test_the_database_refuses_a_second_record_of_one_paper(db, course, questions, learner_id):
    """What holds two submissions at the same moment apart: the paper's digest is unique in the table."""
    row = dict(learner_id=learner_id, course_id=course.id, paper_digest="a" * 64, score=0, passed=False, rows="[]",
               submitted_at=at(0))
    db.session.add(MockSubmission(**row))
    db.session.commit()
    db.session.add(MockSubmission(**row))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_two_submissions_of_one_paper_at_the_same_moment_record_it_once(app, db, course, questions, learner_id):
    paper = practice.compose_mock(course.id, Random(5))
    choices = [mock_answers(paper, {q.id: q for q in questions}, right) for right in (4, 2)]
    course_id = course.id
    db.session.remove()   # the threads use their own sessions

    for rounds in range(1, 4):
        token = practice.sign_mock(paper, learner_id, course_id, at(0), SECRET)

        def submit(index, token=token):
            with app.app_context():
                result = practice.submit_mock(token, choices[index], learner_id, course_id, at(60), SECRET, 80)
                return result.score, result.already_recorded

        results = run_together(submit)
        assert sorted(flag for _, flag in results) == [False, True]   # one recorded it, the other was shown it
        assert len({score for score, _ in results}) == 1
        assert mock_records(db) == (rounds, 5 * rounds)


def test_a_tampered_or_foreign_mock_paper_is_refused(db, course, questions, learner_id, classmate):
    paper = practice.compose_mock(course.id, Random(5))
    token = practice.sign_mock(paper, learner_id, course.id, at(0), SECRET)
    assert "answer" not in json.dumps(token_payload(token))
    payload = token_payload(token)
    assert all(set(map(type, entry)) <= {int, list} for entry in payload["q"])   # ids, points, orders only
    choices = mock_answers(paper, {q.id: q for q in questions}, 5)

    def refused(token, learner=learner_id, course_id=course.id, now=None, secret=SECRET):
        with pytest.raises(QuizError) as error:
            practice.submit_mock(token, choices, learner, course_id, now or at(60), secret, 80)
        return error.value.code

    # Another paper (every question worth its 20 points moved to one question), re-encoded without the key.
    forged = dict(payload, q=[[qid, 100 if i == 0 else 0, order] for i, (qid, _, order) in enumerate(payload["q"])])
    assert refused(with_payload(token, forged)) == "mock_tampered"
    assert refused(practice._serializer("another-secret").dumps(forged)) == "mock_tampered"
    assert refused(token[:-2] + ("AA" if not token.endswith("AA") else "BB")) == "mock_tampered"
    assert refused("") == "mock_tampered" and refused("not-a-token") == "mock_tampered"
    assert refused(token, secret="another-secret") == "mock_tampered"
    assert refused(token, learner=classmate.id) == "mock_tampered"
    assert refused(token, course_id=course.id + 1) == "mock_tampered"
    assert refused(token, now=at(0) + practice.MOCK_MAX_AGE + timedelta(seconds=1)) == "mock_expired"
    # A forged paper signed with the right key but not worth 100 points (as if the key leaked) is still refused.
    resigned = practice._serializer(SECRET).dumps(forged)
    assert refused(resigned) == "mock_stale"
    retire(db, questions[0])
    assert refused(token) == "mock_stale"
    assert answers_count(db) == 0 and not book(db, learner_id)


def test_a_malformed_mock_answer_refuses_the_paper(db, course, questions, learner_id):
    paper = practice.compose_mock(course.id, Random(5))
    token = practice.sign_mock(paper, learner_id, course.id, at(0), SECRET)
    choices = mock_answers(paper, {q.id: q for q in questions}, 5)
    choices[2] = [9]
    with pytest.raises(QuizError) as refused:
        practice.submit_mock(token, choices, learner_id, course.id, at(60), SECRET, 80)
    assert (refused.value.code, refused.value.details["position"]) == ("bad_mock_answer", 2)
    assert answers_count(db) == 0


def test_without_usable_paper_settings_the_mock_shares_100_points_over_the_bank(db, course, questions):
    retire(db, questions[0])   # the settings need 2 true/false questions (staff may not do this to a published course)
    assert bank.paper_problems(course.id)
    paper = practice.compose_mock(course.id, Random(1))
    assert paper.fallback and len(paper.items) == 4 and {i.points for i in paper.items} == {25}
    assert practice.split_points(100, 3) == [34, 33, 33] and practice.split_points(100, 1) == [100]
    for question in questions:
        question.retired = True
    db.session.commit()
    with pytest.raises(QuizError) as refused:
        practice.compose_mock(course.id, Random(1))
    assert refused.value.code == "mock_unavailable"


def test_practice_is_closed_while_the_test_is_in_progress(db, course, approved_learner):
    for lesson in course.lessons:
        db.session.add(LessonProgress(learner_id=approved_learner.id, lesson_id=lesson.id, effective_seconds=10.0,
                                      covered_seconds=10.0, completed_at=T0))
    db.session.commit()
    assert not practice.test_in_progress(approved_learner.id, course.id, at(0))
    attempt = attempts.start_attempt(approved_learner, course, at(0), Actor(approved_learner.user), Random(1))
    assert practice.test_in_progress(approved_learner.id, course.id, at(1))
    assert not practice.test_in_progress(approved_learner.id, course.id, attempt.deadline + timedelta(seconds=1))


# --- HTTP: who may practise -----------------------------------------------------------------------------

def get_routes(course_id, question_id):
    base = f"/quiz/courses/{course_id}/practice"
    return [base, base + "/sequential", base + "/sequential?n=2", base + "/mock", base + "/wrong",
            base + "/favourites", base + "/search?q=题", f"{base}/questions/{question_id}?mode=search"]


def post_routes(course_id, question_id):
    base = f"/quiz/courses/{course_id}/practice"
    return [(f"{base}/questions/{question_id}/answer", {"mode": "sequential", "choice": "0"}),
            (f"{base}/questions/{question_id}/favourite", {"on": "1"}),
            (base + "/mock", {"paper": "x"})]


def test_each_page_opens_for_a_learner_of_the_course(db, course, questions, me_client):
    for url in get_routes(course.id, questions[0].id):
        response = me_client.get(url)
        assert response.status_code == 200, url
        assert "练习" in response.get_data(as_text=True) or "模拟考试" in response.get_data(as_text=True), url
    # Wrong-book replay with an empty book: back to the (empty) book, said in Chinese.
    response = me_client.get(f"/quiz/courses/{course.id}/practice/wrong/replay", follow_redirects=True)
    assert "错题本是空的" in response.get_data(as_text=True)


def test_a_learner_outside_the_course_gets_404_and_staff_403(app, db, course, questions, other_learner, staff):
    outsider = signed_in(app, other_learner.id_number)
    staff_client = signed_in(app, staff.username)
    routes = get_routes(course.id, questions[0].id) + [f"/quiz/courses/{course.id}/practice/wrong/replay"]
    for url in routes:
        assert outsider.get(url).status_code == 404, url
        assert staff_client.get(url).status_code == 403, url
    for url, data in post_routes(course.id, questions[0].id):
        assert outsider.post(url, data=data).status_code == 404, url
        assert staff_client.post(url, data=data).status_code == 403, url
    assert answers_count(db) == 0 and db.session.scalar(select(func.count(Favourite.id))) == 0
    assert app.test_client().get(routes[0]).status_code == 302   # signed out: to the sign-in page


def test_a_question_of_another_course_or_unknown_is_404_with_a_message(db, staff, other_staff, course, questions,
                                                                        me_client, short_video):
    from lms.player import services
    from tests.quizdata import drafts
    other = services.create_course(staff.institution_id, services.CourseDraft("另一门课", "危化品", 1.0, "", "1.0",
                                                                              T0.date()), utcnow(), Actor(staff))
    foreign = bank.add_question(other, next(drafts()), utcnow(), Actor(staff))
    base = f"/quiz/courses/{course.id}/practice/questions"
    for question_id in (foreign.id, 999999):
        page = me_client.get(f"{base}/{question_id}")
        assert page.status_code == 404 and "该题不在本课程的题库中" in page.get_data(as_text=True)
        posted = me_client.post(f"{base}/{question_id}/answer", json={"mode": "sequential", "choice": [0]})
        assert posted.status_code == 404 and posted.get_json()["code"] == "unknown_question"
        assert "题库" in posted.get_json()["error"]
        assert me_client.post(f"{base}/{question_id}/favourite", json={"on": True}).status_code == 404
    assert answers_count(db) == 0


# --- HTTP: the key never reaches the page before the answer is recorded ---------------------------------

def test_sequential_page_holds_no_key_until_answered(db, course, questions, me_client, learner_id):
    question = questions[2]  # single 1, key B, explanation "解析1：选乙。"
    url = f"/quiz/courses/{course.id}/practice/sequential?n=3"
    page = me_client.get(url).get_data(as_text=True)
    assert question.stem in page and "选项丙" in page
    assert question.explanation not in page and "answer-key" not in page
    # Someone else's recorded answer named in the URL reveals nothing.
    posted = me_client.post(f"/quiz/courses/{course.id}/practice/questions/{question.id}/answer",
                            data={"mode": "sequential", "choice": "0"})
    assert posted.status_code == 302 and "n=3" in posted.location and "answer=" in posted.location
    shown = me_client.get(posted.location).get_data(as_text=True)
    assert question.explanation in shown and "answer-key" in shown and "回答错误" in shown
    assert book(db, learner_id)[question.id].last_response == "A"
    # Resumes at the first question not answered in sequence.
    assert "第 1 题，共 5 题" in me_client.get(f"/quiz/courses/{course.id}/practice/sequential").get_data(as_text=True)


def test_json_answers_reveal_the_key_only_in_the_answer(db, course, questions, me_client, learner_id):
    question = questions[4]  # multiple, key AC
    url = f"/quiz/courses/{course.id}/practice/questions/{question.id}"
    page = me_client.get(url + "?mode=search").get_data(as_text=True)
    assert question.explanation not in page and "answer-key" not in page
    body = me_client.post(url + "/answer", json={"mode": "search", "choice": [0, 2]}).get_json()
    assert body["correct"] is True and body["key"] == "AC" and body["explanation"] == question.explanation
    assert body["in_wrong_book"] is False
    for bad, code in (({"mode": "search", "choice": [0, 0]}, "bad_answer"),
                      ({"mode": "search", "choice": "0"}, "bad_answer"),
                      ({"mode": "search", "choice": []}, "no_choice"),
                      ({"mode": "exam", "choice": [0]}, "bad_mode"),
                      ({"mode": "search"}, "bad_answer")):
        refused = me_client.post(url + "/answer", json=bad)
        assert refused.status_code == 400 and refused.get_json()["code"] == code, bad
        assert refused.get_json()["error"]
    assert answers_count(db) == 1


def test_a_malformed_form_answer_says_so_in_chinese(db, course, questions, me_client):
    url = f"/quiz/courses/{course.id}/practice/questions/{questions[2].id}/answer"
    for data in ({"mode": "sequential", "choice": "x"}, {"mode": "sequential", "choice": ["0", "1"]},
                 {"mode": "sequential"}, {"mode": "nope", "choice": "0"}):
        response = me_client.post(url, data=data, follow_redirects=True)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "答案不符合此题要求" in text or "请先选择答案" in text or "未知的练习方式" in text, data
        assert questions[2].explanation not in text
    assert answers_count(db) == 0
    bad_n = me_client.get(f"/quiz/courses/{course.id}/practice/sequential?n=99", follow_redirects=True)
    assert "没有第 99 题" in bad_n.get_data(as_text=True)


def test_the_mock_page_holds_no_key_and_grades_on_submit(app, db, course, questions, me_client, learner_id):
    page = me_client.get(f"/quiz/courses/{course.id}/practice/mock").get_data(as_text=True)
    assert "解析" not in page and "answer-key" not in page
    assert '"seconds": 300' in page  # a countdown of 60 s per question
    token = page.split('name="paper" value="')[1].split('"')[0]
    paper = practice.open_mock(token, learner_id, course.id, utcnow(), app.config["SECRET_KEY"])
    choices = mock_answers(paper, {q.id: q for q in questions}, 5)
    form = {"paper": token}
    form.update({f"q{position}": [str(c) for c in chosen] for position, chosen in choices.items()})
    result = me_client.post(f"/quiz/courses/{course.id}/practice/mock", data=form)
    text = result.get_data(as_text=True)
    assert result.status_code == 200 and "100/100" in text and "通过" in text
    assert all(q.explanation in text for q in questions)
    assert text.count('class="inline star-form"') == 5   # each question may be starred from the result
    assert answers_count(db) == 5 and "已提交过" not in text
    # Sent again (a double click, the browser's back and resend): the recorded result, recorded once.
    wrong_choices = dict(form, **{f"q{position}": ["9"] for position in choices})
    again = me_client.post(f"/quiz/courses/{course.id}/practice/mock", data=wrong_choices)
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and "100/100" in text and "此模拟试卷已于" in text and "只记录一次" in text
    assert answers_count(db) == 5
    # A changed paper (another learner's token, a forged one) is refused in Chinese and writes nothing.
    forged = dict(form, paper=token[:-3] + "abc")
    refused = me_client.post(f"/quiz/courses/{course.id}/practice/mock", data=forged)
    assert refused.status_code == 400 and "模拟试卷已被改动" in refused.get_data(as_text=True)
    fresh = me_client.get(f"/quiz/courses/{course.id}/practice/mock").get_data(as_text=True)
    malformed = dict(form, paper=fresh.split('name="paper" value="')[1].split('"')[0], q1="x")
    refused = me_client.post(f"/quiz/courses/{course.id}/practice/mock", data=malformed)
    assert refused.status_code == 400 and "第 1 题" in refused.get_data(as_text=True)
    assert answers_count(db) == 5


# --- HTTP: the wrong-question book, favourites, search ---------------------------------------------------

def test_the_wrong_book_replays_and_empties(db, course, questions, me_client, learner_id):
    practice.record_answer(learner_id, questions[1], [1], practice.SEQUENTIAL, at(0))   # 错误 for a 正确
    practice.record_answer(learner_id, questions[3], [3], practice.SEQUENTIAL, at(1))   # D for B
    listing = me_client.get(f"/quiz/courses/{course.id}/practice/wrong").get_data(as_text=True)
    assert questions[1].stem in listing and questions[3].stem in listing and "answer-key" not in listing
    replay = me_client.get(f"/quiz/courses/{course.id}/practice/wrong/replay").get_data(as_text=True)
    assert questions[1].stem in replay and "上次错误答案" in replay and questions[1].explanation not in replay
    posted = me_client.post(f"/quiz/courses/{course.id}/practice/questions/{questions[1].id}/answer",
                            data={"mode": "wrong", "choice": "0"})
    shown = me_client.get(posted.location).get_data(as_text=True)
    assert "回答正确" in shown and questions[1].explanation in shown and "已移出错题本" in shown
    assert f"q={questions[3].id}" in shown   # the next wrong question
    assert set(book(db, learner_id)) == {questions[3].id}


def test_a_learner_never_sees_another_learners_book_or_favourites(app, db, course, questions, learner_id,
                                                                  classmate):
    practice.record_answer(learner_id, questions[2], [0], practice.SEQUENTIAL, at(0))
    mine = practice.record_answer(learner_id, questions[3], [1], practice.SEQUENTIAL, at(1))
    practice.set_favourite(learner_id, questions[4], True, at(2))
    other = signed_in(app, classmate.id_number)
    base = f"/quiz/courses/{course.id}/practice"
    assert questions[2].stem not in other.get(base + "/wrong").get_data(as_text=True)
    assert questions[4].stem not in other.get(base + "/favourites").get_data(as_text=True)
    replay = other.get(f"{base}/wrong/replay?q={questions[2].id}", follow_redirects=True).get_data(as_text=True)
    assert "该题不在您的错题本中" in replay and questions[2].explanation not in replay
    # Naming my recorded answer in the URL shows the question unanswered to someone else.
    peek = other.get(f"{base}/sequential?n=4&answer={mine.id}").get_data(as_text=True)
    assert questions[3].explanation not in peek and "answer-key" not in peek
    counts = other.get(base).get_data(as_text=True)
    assert 'id="practice-counts"' in counts
    assert practice.practice_counts(classmate.id, course.id).wrong == 0


def test_favourites_show_keys_only_for_answered_questions(db, course, questions, me_client, learner_id):
    base = f"/quiz/courses/{course.id}/practice"
    for question in (questions[0], questions[2]):
        starred = me_client.post(f"{base}/questions/{question.id}/favourite",
                                 data={"on": "1", "next": f"{base}/sequential?n=1"})
        assert starred.status_code == 302 and starred.location.endswith(f"{base}/sequential?n=1")
    assert me_client.post(f"{base}/questions/{questions[0].id}/favourite",
                          data={"on": "1", "next": "https://evil.example/"}).location.endswith(base)
    assert me_client.post(f"{base}/questions/{questions[0].id}/favourite", data={"on": "yes"}).status_code == 302
    assert me_client.post(f"{base}/questions/{questions[0].id}/favourite",
                          json={"on": "yes"}).get_json()["code"] == "malformed"
    practice.record_answer(learner_id, questions[2], [1], practice.SEQUENTIAL, at(0))
    page = me_client.get(base + "/favourites").get_data(as_text=True)
    assert questions[0].stem in page and questions[2].stem in page
    assert questions[2].explanation in page and questions[0].explanation not in page
    assert "先作答一次" in page
    assert me_client.post(f"{base}/questions/{questions[0].id}/favourite", json={"on": False}).get_json() == \
        {"favourite": False}
    assert practice.favourite_ids(learner_id, [q.id for q in questions]) == {questions[2].id}


def test_search_shows_keys_only_for_answered_questions(db, course, questions, me_client, learner_id):
    base = f"/quiz/courses/{course.id}/practice/search"
    practice.record_answer(learner_id, questions[2], [1], practice.SEQUENTIAL, at(0))
    page = me_client.get(base, query_string={"q": "单选题"}).get_data(as_text=True)
    assert "找到 2 道题" in page
    assert questions[2].explanation in page and questions[3].explanation not in page
    by_point = me_client.get(base, query_string={"point": "危险化学品"}).get_data(as_text=True)
    assert questions[4].stem in by_point and questions[0].stem not in by_point
    assert questions[4].explanation not in by_point
    too_long = me_client.get(base, query_string={"q": "题" * 101})
    assert too_long.status_code == 200 and "搜索内容太长" in too_long.get_data(as_text=True)


def test_practice_pages_close_while_the_test_is_in_progress(db, course, questions, me_client, approved_learner):
    for lesson in course.lessons:
        db.session.add(LessonProgress(learner_id=approved_learner.id, lesson_id=lesson.id, effective_seconds=10.0,
                                      covered_seconds=10.0, completed_at=utcnow()))
    db.session.commit()
    attempts.start_attempt(approved_learner, course, utcnow(), Actor(approved_learner.user), Random(1))
    base = f"/quiz/courses/{course.id}/practice"
    page = me_client.get(base + "/sequential", follow_redirects=True).get_data(as_text=True)
    assert "考试进行期间不能练习" in page and questions[0].stem not in page
    posted = me_client.post(f"{base}/questions/{questions[0].id}/answer", json={"mode": "search", "choice": [0]})
    assert posted.status_code == 409 and posted.get_json()["code"] == "test_in_progress"
    assert answers_count(db) == 0


def test_odd_numbers_in_urls_and_forms_never_break_a_page(db, course, questions, me_client):
    base = f"/quiz/courses/{course.id}/practice"
    huge = "9" * 30
    for url in (f"{base}/sequential?n=²", f"{base}/sequential?n={huge}", f"{base}/sequential?n=-1",
                f"{base}/sequential?n=1&answer={huge}", f"{base}/sequential?n=1&answer=²",
                f"{base}/wrong/replay?q=²", f"{base}/wrong/replay?q={huge}",
                f"{base}/questions/{questions[0].id}?answer={huge}&mode=x", f"{base}/search?point={'点' * 65}"):
        response = me_client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        assert questions[0].explanation not in response.get_data(as_text=True), url
    answer_url = f"{base}/questions/{questions[0].id}/answer"
    assert me_client.post(answer_url, data={"mode": "sequential", "choice": "²"}).status_code == 302
    assert me_client.post(answer_url, json={"mode": "sequential", "choice": [10**30]}).status_code == 400
    assert me_client.post(answer_url, data=b"", content_type="application/json").status_code == 400
    assert me_client.post(f"{base}/mock", data={"paper": "x" * 5000, "q1": "²"}).status_code == 400
    assert answers_count(db) == 0
