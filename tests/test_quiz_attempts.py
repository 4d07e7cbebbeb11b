"""The course test (issue 13): opening rule, 60 s per question on the server's clock, late answers,
one question at a time, one tab, 5 attempts, the 80-point pass mark, and what a pass credits.
Face checks are off here (tests/test_quiz_face_checks.py has them); time is passed in explicitly."""
from datetime import datetime, timedelta
from random import Random

import pytest
from sqlalchemy import select

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.extensions import db as _db
from lms.player.models import Heartbeat
from lms.player.services import lessons_confirmed
from lms.quiz import attempts, bank, papers
from lms.quiz.bank import QuizError
from lms.quiz.models import EXPIRED, FINISHED, OPEN, SUBMITTED, Attempt, AttemptQuestion, WrongQuestion

from .quizdata import complete_lessons, right_choice, wrong_choice

T0 = datetime(2026, 3, 2, 1, 30)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def start(learner, course, me, seconds=0, seed=1):
    attempt = attempts.start_attempt(learner, course, at(seconds), me, Random(seed))
    return attempt, attempts.claim(attempt)


def sit_through(attempt, tab, seconds, right: int, step=5):
    """Answer every question, the first ``right`` of them correctly, ``step`` s after each is served."""
    result = attempts.next_step(attempt, tab, at(seconds))
    answered = 0
    while result.state == "question":
        seconds += step
        choice = right_choice(result.question) if answered < right else wrong_choice(result.question)
        result = attempts.answer(attempt, tab, result.question.id, choice, at(seconds))
        answered += 1
    return result, seconds


# --- pure rules ----------------------------------------------------------------------------------

def test_sixty_seconds_per_question_and_later_is_late():
    rules = attempts.TestRules(seconds_per_question=60, grace_seconds=2)
    assert not attempts.is_late(T0, at(60), rules)
    assert not attempts.is_late(T0, at(62), rules)       # the network allowance
    assert attempts.is_late(T0, at(62.001), rules)
    assert attempts.time_left(T0, at(45), rules) == 15
    assert attempts.time_left(T0, at(70), rules) == 0


def test_eighty_passes_and_seventy_nine_fails():
    rules = attempts.TestRules()
    assert attempts.passes(80, rules) and attempts.passes(100, rules)
    assert not attempts.passes(79, rules)


@pytest.mark.parametrize("seconds, needed", [(0, 1), (4, 1), (600, 1), (601, 2), (1200, 2), (7201, 13)])
def test_bank_size_is_one_question_per_ten_minutes_rounded_up(seconds, needed):
    assert papers.required_bank_size(seconds) == needed


def test_composition_draws_the_counts_totals_100_and_differs_between_attempts():
    bank_ids = {"true_false": list(range(1, 701)), "single": list(range(701, 1501)), "multiple": list(range(1501, 2001))}
    rules = papers.PaperRules(papers.KindRule(10, 2), papers.KindRule(20, 3), papers.KindRule(5, 4))
    first, second = papers.compose(rules, bank_ids, Random(1)), papers.compose(rules, bank_ids, Random(2))
    for paper in (first, second):
        assert sum(item.points for item in paper) == 100
        assert len({item.question_id for item in paper}) == 35
        assert [item.kind for item in paper].count("single") == 20
        assert all(item.question_id in bank_ids[item.kind] for item in paper)
    assert {i.question_id for i in first} != {i.question_id for i in second}


def test_rules_that_do_not_total_100_or_ask_too_much_are_refused():
    rules = papers.PaperRules(papers.KindRule(2, 20), papers.KindRule(2, 20), papers.KindRule(1, 10))
    assert papers.rule_problems(rules, {"true_false": 2, "single": 2, "multiple": 1}) == [("total", {"total": 90})]
    rules = papers.PaperRules(papers.KindRule(3, 20), papers.KindRule(2, 20), papers.KindRule(0, 0))
    assert papers.rule_problems(rules, {"true_false": 2, "single": 2}) == [
        ("not_enough", {"kind": "true_false", "needed": 3, "available": 2})]


# --- opening --------------------------------------------------------------------------------------

def test_the_test_opens_only_when_every_lesson_is_complete(db, course, approved_learner, me):
    status = attempts.test_status(approved_learner, course, at(0))
    assert status.blocked == "lessons"
    with pytest.raises(QuizError) as refused:
        attempts.start_attempt(approved_learner, course, at(0), me)
    assert refused.value.code == "lessons"
    assert db.session.scalar(select(Attempt.id)) is None
    complete_lessons(approved_learner, course)
    assert attempts.test_status(approved_learner, course, at(0)).blocked is None


def test_provisional_time_keeps_the_test_closed_until_a_check_confirms_it(db, course, approved_learner,
                                                                          face_checks_on):
    complete_lessons(approved_learner, course)
    lesson = course.lessons[0]
    db.session.add(Heartbeat(learner_id=approved_learner.id, lesson_id=lesson.id, received_at=T0, credited=5.0))
    db.session.commit()
    assert not lessons_confirmed(approved_learner.id, course)
    db.session.query(Heartbeat).update({"voided": True})
    db.session.commit()
    assert lessons_confirmed(approved_learner.id, course)


# --- serving and answering ------------------------------------------------------------------------

def test_an_attempt_copies_a_shuffled_paper_of_100_points(db, ready, approved_learner, me):
    attempt, _ = start(approved_learner, ready, me)
    questions = attempt.questions
    assert [q.position for q in questions] == [1, 2, 3, 4, 5]
    assert sum(q.points for q in questions) == 100
    assert all(q.served_at is None for q in questions)
    assert sorted(q.kind for q in questions) == ["multiple", "single", "single", "true_false", "true_false"]
    orders = {q.option_order for q in questions if q.kind != "true_false"}
    assert orders != {"[0, 1, 2, 3]"}  # seeded: the options of at least one question are shuffled


def test_questions_are_served_one_at_a_time_with_the_server_time(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    step = attempts.next_step(attempt, tab, at(10))
    assert step.state == "question" and step.question.position == 1 and step.question.served_at == at(10)
    again = attempts.next_step(attempt, tab, at(30))  # a reload: the same question, its time keeps running
    assert again.question.id == step.question.id and again.question.served_at == at(10)
    assert attempts.time_left(again.question.served_at, at(30), attempts.rules()) == 40
    second = _db.session.scalar(select(AttemptQuestion).filter_by(attempt_id=attempt.id, position=2))
    with pytest.raises(QuizError) as refused:  # not yet served
        attempts.answer(attempt, tab, second.id, [0], at(31))
    assert refused.value.code == "not_served"


def test_an_answer_in_time_scores_and_a_late_one_scores_zero(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    first = attempts.next_step(attempt, tab, at(0)).question
    second = attempts.answer(attempt, tab, first.id, right_choice(first), at(60)).question
    assert (first.score, first.late) == (first.points, False)
    third = attempts.answer(attempt, tab, second.id, right_choice(second), at(60 + 63)).question
    _db.session.refresh(second)
    assert (second.score, second.late, second.correct) == (0, True, True)
    assert second.answered_at == at(123)  # kept for the record
    assert third.position == 3 and third.served_at == at(123)


def test_a_question_whose_time_ran_out_scores_zero_and_the_next_is_served(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    first = attempts.next_step(attempt, tab, at(0)).question
    step = attempts.next_step(attempt, tab, at(70))
    _db.session.refresh(first)
    assert first.late and first.score == 0 and first.answered_at is None
    assert step.question.position == 2
    with pytest.raises(QuizError) as refused:
        attempts.answer(attempt, tab, first.id, right_choice(first), at(71))
    assert refused.value.code == "already_answered"


def test_an_answer_is_taken_once(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    first = attempts.next_step(attempt, tab, at(0)).question
    attempts.answer(attempt, tab, first.id, wrong_choice(first), at(5))
    with pytest.raises(QuizError) as refused:
        attempts.answer(attempt, tab, first.id, right_choice(first), at(6))
    assert refused.value.code == "already_answered"
    _db.session.refresh(first)
    assert first.score == 0 and first.answered_at == at(5)


def test_a_second_tab_takes_over_and_the_first_cannot_answer(db, ready, approved_learner, me):
    attempt, first_tab = start(approved_learner, ready, me)
    question = attempts.next_step(attempt, first_tab, at(0)).question
    second_tab = attempts.claim(attempt)
    with pytest.raises(QuizError) as refused:
        attempts.answer(attempt, first_tab, question.id, right_choice(question), at(3))
    assert refused.value.code == "other_tab"
    with pytest.raises(QuizError):
        attempts.next_step(attempt, first_tab, at(3))
    assert attempts.answer(attempt, second_tab, question.id, right_choice(question), at(4)).question.position == 2


def test_a_question_of_another_attempt_is_refused(db, ready, approved_learner, other_learner, me, open_class, staff):
    attempt, tab = start(approved_learner, ready, me)
    attempts.next_step(attempt, tab, at(0))
    attempts.finish(attempt, SUBMITTED, at(1))
    db.session.commit()
    second, second_tab = start(approved_learner, ready, me, seconds=2)
    foreign = attempt.questions[0]
    with pytest.raises(QuizError) as refused:
        attempts.answer(second, second_tab, foreign.id, [0], at(3))
    assert refused.value.code == "not_served"


@pytest.mark.parametrize("choice", [[9], [0, 0], ["0"], [True], [-1]])
def test_a_malformed_choice_is_refused_and_changes_nothing(db, ready, approved_learner, me, choice):
    attempt, tab = start(approved_learner, ready, me)
    question = attempts.next_step(attempt, tab, at(0)).question
    with pytest.raises(QuizError) as refused:
        attempts.answer(attempt, tab, question.id, choice, at(2))
    assert refused.value.code == "bad_answer"
    _db.session.refresh(question)
    assert question.answered_at is None and question.response is None


# --- ending, passing, five attempts ------------------------------------------------------------

def test_four_of_five_right_passes_with_80_and_credits_the_course(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    assert not attempts.course_passed(approved_learner.id, ready.id)
    result, _ = sit_through(attempt, tab, 0, right=4)
    assert result.state == "finished"
    assert (attempt.status, attempt.end_reason, attempt.score, attempt.passed) == (FINISHED, SUBMITTED, 80, True)
    assert attempts.course_passed(approved_learner.id, ready.id)
    assert attempts.test_status(approved_learner, ready, at(100)).blocked == "passed"


@pytest.mark.parametrize("single_points, passed", [(80, True), (79, False)])
def test_the_pass_mark_is_80_of_100(db, course, approved_learner, me, staff, single_points, passed):
    """A two-question paper: a wrong true/false answer leaves exactly the single-choice points."""
    rules = papers.PaperRules(papers.KindRule(1, 100 - single_points), papers.KindRule(1, single_points),
                              papers.KindRule(0, 0))
    bank.save_auto_settings(course, rules, utcnow(), Actor(staff))
    complete_lessons(approved_learner, course)
    attempt, tab = start(approved_learner, course, me)
    step = attempts.next_step(attempt, tab, at(0))
    seconds = 0
    while step.state == "question":
        seconds += 5
        q = step.question
        step = attempts.answer(attempt, tab, q.id, right_choice(q) if q.kind == "single" else wrong_choice(q),
                               at(seconds))
    assert attempt.score == single_points and attempt.passed is passed
    assert attempts.course_passed(approved_learner.id, course.id) is passed


def test_five_attempts_then_the_test_is_locked(db, ready, approved_learner, me):
    seconds = 0
    for number in range(1, 6):
        attempt, tab = start(approved_learner, ready, me, seconds=seconds, seed=number)
        assert attempt.number == number
        result, seconds = sit_through(attempt, tab, seconds, right=3)
        assert (attempt.score, attempt.passed) == (60, False)
        seconds += 10
    status = attempts.test_status(approved_learner, ready, at(seconds))
    assert (status.blocked, status.attempts_left) == ("locked", 0)
    with pytest.raises(QuizError) as refused:
        attempts.start_attempt(approved_learner, ready, at(seconds), me)
    assert refused.value.code == "locked"
    assert db.session.query(Attempt).count() == 5
    assert not attempts.course_passed(approved_learner.id, ready.id)


def test_starting_while_an_attempt_is_open_returns_it(db, ready, approved_learner, me):
    attempt, _ = start(approved_learner, ready, me)
    again = attempts.start_attempt(approved_learner, ready, at(5), me)
    assert again.id == attempt.id and db.session.query(Attempt).count() == 1


def test_an_abandoned_attempt_ends_at_its_deadline_and_counts(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    attempts.answer(attempt, tab, attempts.next_step(attempt, tab, at(0)).question.id,
                    right_choice(attempt.questions[0]), at(5))
    assert attempt.deadline == at(5 * 62 + 30 * 60)
    attempts.settle(attempt, at(5 * 62 + 30 * 60 + 1))
    assert (attempt.status, attempt.end_reason, attempt.passed) == (FINISHED, EXPIRED, False)
    assert attempt.score == attempt.questions[0].points
    assert attempts.test_status(approved_learner, ready, at(4000)).attempts_left == 4


def test_wrong_answers_of_a_finished_attempt_go_to_the_wrong_question_book(db, ready, approved_learner, me):
    attempt, tab = start(approved_learner, ready, me)
    sit_through(attempt, tab, 0, right=3)
    wrong = db.session.scalars(select(WrongQuestion).filter_by(learner_id=approved_learner.id)).all()
    wrong_ids = {q.question_id for q in attempt.questions if not q.correct}
    assert {w.question_id for w in wrong} == wrong_ids and len(wrong_ids) == 2


def test_an_attempt_keeps_its_copy_when_the_bank_question_is_edited_later(db, ready, approved_learner, me, staff):
    attempt, tab = start(approved_learner, ready, me)
    sit_through(attempt, tab, 0, right=5)
    served = attempt.questions[0]
    original = db.session.get(bank.Question, served.question_id)
    stem = served.stem
    bank.edit_question(original, bank.QuestionDraft(original.kind, "改过的题干", original.option_list,
                                                    original.answer), utcnow(), Actor(staff))
    db.session.refresh(served)
    assert served.stem == stem != "改过的题干"
    assert attempt.status == OPEN or attempt.passed


def test_publishing_needs_a_bank_of_one_question_per_ten_minutes(db, course, staff):
    from lms.player import services
    from lms.player.messages import study_error
    from lms.player.models import Course
    course.lessons[0].video.duration = 1201.0  # 3 questions needed; the bank holds 5
    course.status = "draft"
    db.session.commit()
    assert bank.publish_problems(course) == []
    for question in bank.bank(course.id)[:3]:
        question.retired = True
    db.session.commit()
    assert bank.publish_problems(course) == [("bank_too_small", {"needed": 3, "available": 2})] + \
        bank.paper_problems(course.id)
    with pytest.raises(services.StudyError) as refused:
        services.set_course_status(course, "published", utcnow(), Actor(staff))
    assert refused.value.code == "not_publishable"
    assert study_error(refused.value).startswith("题库至少需要 3 道题")
    db.session.rollback()
    assert db.session.get(Course, course.id).status == "draft"


def test_the_worker_ends_attempts_left_open_past_their_deadline(db, ready, approved_learner, me):
    attempt, _ = start(approved_learner, ready, me)
    assert attempts.sweep_expired(attempt.deadline) == 0
    assert attempts.sweep_expired(attempt.deadline + timedelta(seconds=1)) == 1
    db.session.refresh(attempt)
    assert (attempt.status, attempt.end_reason, attempt.score) == (FINISHED, EXPIRED, 0)


def test_a_published_course_keeps_a_bank_its_papers_can_be_drawn_from(db, course, staff):
    """The stocked paper uses both true/false questions: neither may leave the bank or change kind."""
    true_false = [q for q in bank.bank(course.id) if q.kind == "true_false"]
    with pytest.raises(QuizError) as refused:
        bank.remove_question(true_false[0], utcnow(), Actor(staff))
    assert refused.value.details["problems"] == [("not_enough", {"kind": "true_false", "needed": 2, "available": 1})]
    with pytest.raises(QuizError):
        bank.edit_question(true_false[1], bank.QuestionDraft("single", "改成单选", ["甲", "乙"], "A"), utcnow(),
                           Actor(staff))
    db.session.expire_all()
    assert [q.kind for q in bank.bank(course.id)].count("true_false") == 2
    assert not any(q.retired for q in bank.bank(course.id, include_retired=True))
    single = next(q for q in bank.bank(course.id) if q.kind == "single")
    bank.edit_question(single, bank.QuestionDraft("single", "改过的单选", ["甲", "乙"], "B"), utcnow(), Actor(staff))
    assert db.session.get(bank.Question, single.id).stem == "改过的单选"


def test_a_question_leaves_a_hand_made_paper_only_when_that_paper_is_not_in_use(db, course, staff):
    actor = Actor(staff)
    questions = bank.bank(course.id)
    bank.add_question(course, bank.QuestionDraft("true_false", "另加的判断题", [], "A"), utcnow(), actor)
    spare = bank.bank(course.id)[-1]
    bank.save_manual_paper(course, [(questions[0].id, 50), (spare.id, 50)], utcnow(), actor)
    with pytest.raises(QuizError) as refused:
        bank.remove_question(spare, utcnow(), actor)
    assert refused.value.code == "on_manual_paper"
    bank.save_auto_settings(course, papers.PaperRules(papers.KindRule(2, 20), papers.KindRule(2, 20),
                                                      papers.KindRule(1, 20)), utcnow(), actor)
    bank.remove_question(spare, utcnow(), actor)
    assert db.session.get(bank.Question, spare.id).retired
    assert [item.question_id for item in bank.manual_items(course.id)] == [questions[0].id]


def test_the_answer_hot_path_takes_only_the_common_case(db, ready, approved_learner, other_learner, me):
    from lms.quiz import answers
    rules = attempts.rules()
    attempt, tab = start(approved_learner, ready, me)
    first = attempts.next_step(attempt, tab, at(0)).question
    with pytest.raises(answers.NotYours):
        answers.quick_answer(attempt.id, other_learner.user_id, tab, first.id, right_choice(first), at(1), rules, False)
    assert answers.quick_answer(attempt.id, approved_learner.user_id, "another-tab", first.id, [0], at(1), rules,
                                False) is None
    served = answers.quick_answer(attempt.id, approved_learner.user_id, tab, first.id, right_choice(first), at(3),
                                  rules, False)
    assert (served.question.position, served.served_at, served.total) == (2, at(3), 5)
    db.session.expire_all()
    stored = db.session.get(AttemptQuestion, first.id)
    assert (stored.answered_at, stored.score, stored.correct, stored.late) == (at(3), first.points, True, False)
    assert db.session.get(Attempt, attempt.id).current == 2
    again = answers.quick_answer(attempt.id, approved_learner.user_id, tab, first.id, [0], at(4), rules, False)
    assert again is None  # answered already: the general path refuses it and says why
    second = db.session.get(AttemptQuestion, served.question.id)
    late = answers.quick_answer(attempt.id, approved_learner.user_id, tab, second.id, right_choice(second),
                                at(3 + 63), rules, False)
    db.session.expire_all()
    assert late is not None and db.session.get(AttemptQuestion, second.id).score == 0  # late: recorded, zero
    attempt = db.session.get(Attempt, attempt.id)
    attempt.next_check_at = at(60)
    db.session.commit()
    third = db.session.get(AttemptQuestion, late.question.id)
    assert answers.quick_answer(attempt.id, approved_learner.user_id, tab, third.id, right_choice(third), at(70),
                                rules, True) is None  # a face check falls due: the general path asks for it
