"""Face checks during the course test (issue 13): one at the start, random ones no more than 15
minutes apart between questions, and what a failed, missed or later-rejected check does to the
attempt. Real face recognition on real photos (tests/photos.py)."""
import pytest
from sqlalchemy import select

from lms.accounts.models import UserSession
from lms.proctor import services as proctor
from lms.proctor.models import FAILED, MISSED, OPEN as CHECK_OPEN, PASSED, RANDOM, REVIEW, START, FaceCheck
from lms.quiz import attempts
from lms.quiz.bank import QuizError
from lms.quiz.models import FACE_FAILED, FACE_MISSED, FACE_REVIEW_FAILED, FINISHED

from .test_proctor_checks import another_person, answer, following
from .quizdata import right_choice
from .test_quiz_attempts import at, start

pytestmark = pytest.mark.usefixtures("faces_dir", "quick_capture", "face_checks_on")




@pytest.fixture()
def me(approved_learner):
    from lms.core.context import Actor
    return Actor(approved_learner.user, "10.0.0.9", "pytest")


def the_check(db, attempt) -> FaceCheck:
    return db.session.get(FaceCheck, attempt.open_check_id)


def test_the_test_starts_with_a_check_and_serves_nothing_until_it_passes(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    check = the_check(db, attempt)
    assert (check.context_kind, check.context_id, check.purpose) == ("quiz_attempt", attempt.id, START)
    assert check.owner_institution_id == ready.institution_id  # its staff review a doubtful result
    step = attempts.next_step(attempt, tab, at(1))
    assert (step.state, step.check_id) == ("face_check", check.id)
    with pytest.raises(QuizError):
        attempts.answer(attempt, tab, attempt.questions[0].id, [0], at(2))
    assert answer(check, lambda c: following(c, 0), at(5), me).status == PASSED
    step = attempts.next_step(attempt, tab, at(10))
    assert step.state == "question" and step.question.position == 1 and step.question.served_at == at(10)
    gap = (attempt.next_check_at - at(9)).total_seconds()  # drawn when the check passed (4 s after at(5))
    # A check starts only between questions, at most one question's time after it falls due.
    assert 0 < gap <= proctor.policy().max_interval - attempts.rules().answer_limit.total_seconds()


def test_a_missed_start_check_ends_the_attempt_and_it_counts(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    window = proctor.policy().window_seconds
    step = attempts.next_step(attempt, tab, at(window + 1))
    assert step.state == "finished"
    assert (attempt.status, attempt.end_reason, attempt.passed) == (FINISHED, FACE_MISSED, False)
    assert db.session.scalar(select(FaceCheck.status).where(FaceCheck.context_id == attempt.id)) == MISSED
    assert attempts.test_status(approved_learner, ready, at(window + 2)).attempts_left == 4
    live = db.session.scalars(select(UserSession).where(UserSession.user_id == approved_learner.user_id,
                                                        UserSession.ended_at.is_(None))).all()
    assert live == []  # the proctor policy signs the learner out


def test_a_random_check_comes_between_questions_and_a_failed_one_ends_the_attempt(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    assert answer(the_check(db, attempt), lambda c: following(c, 0), at(1), me).status == PASSED
    first = attempts.next_step(attempt, tab, at(10)).question
    attempt.next_check_at = at(20)
    db.session.commit()
    step = attempts.answer(attempt, tab, first.id, right_choice(first), at(25))
    assert first.score == first.points  # answered before the check: counted
    check = db.session.get(FaceCheck, step.check_id)
    assert step.state == "face_check" and check.purpose == RANDOM and check.status == CHECK_OPEN
    assert attempts.next_step(attempt, tab, at(26)).state == "face_check"  # nothing served meanwhile
    assert attempt.current == 1
    for n, who in enumerate(["biden", "alex", "alex"][:proctor.policy().attempts]):
        result = answer(check, lambda c, who=who: another_person(c, who), at(30 + 10 * n), me)
    assert result.status == FAILED
    db.session.refresh(attempt)
    assert (attempt.status, attempt.end_reason, attempt.passed, attempt.score) == (FINISHED, FACE_FAILED, False,
                                                                                   first.points)
    assert attempts.test_status(approved_learner, ready, at(100)).attempts_left == 4


def test_a_doubtful_check_failed_on_review_takes_the_pass_away(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    check = the_check(db, attempt)
    assert answer(check, lambda c: following(c, 0), at(1), me).status == PASSED
    step, seconds = attempts.next_step(attempt, tab, at(5)), 5
    while step.state == "question":
        seconds += 3
        step = attempts.answer(attempt, tab, step.question.id, right_choice(step.question), at(seconds))
    assert attempt.passed and attempts.course_passed(approved_learner.id, ready.id)
    # As the proctor tells a module when staff decide a doubtful result (signals.check_changed).
    check.status = FAILED
    attempts.on_check_changed(attempts.CONTEXT, check=check, previous=REVIEW, now=at(200))
    db.session.commit()
    assert (attempt.passed, attempt.end_reason) == (False, FACE_REVIEW_FAILED)
    assert not attempts.course_passed(approved_learner.id, ready.id)
