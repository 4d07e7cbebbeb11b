"""Learners who earn hours for tests: lessons complete, the course test passed (or failed), and the
class's requirement set so that one course reaches it. Everything goes through the real services."""
from random import Random

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.extensions import db
from lms.hours import certificates
from lms.quiz import attempts
from tests.quizdata import complete_lessons, right_choice, wrong_choice


def sit_test(learner, course, right: int = 5, now=None, seed: int = 1):
    """Start the course test and answer every question, the first ``right`` correctly (5 of 5 by
    default: 100 points; 4 of 5: 80, a pass; 3 of 5: 60, a fail). Returns the finished attempt."""
    now = now or utcnow()
    attempt = attempts.start_attempt(learner, course, now, Actor(learner.user, "10.0.0.9", "pytest"), Random(seed))
    tab = attempts.claim(attempt)
    step = attempts.next_step(attempt, tab, now)
    answered = 0
    while step.state == "question":
        choice = right_choice(step.question) if answered < right else wrong_choice(step.question)
        step = attempts.answer(attempt, tab, step.question.id, choice, now)
        answered += 1
    return attempt


def require_hours(training_class, hours: int) -> None:
    training_class.required_online_hours = hours
    db.session.commit()


def earn_certificate(learner, course, training_class, right: int = 5):
    """Lessons complete, the class needing just this course's hours, the test passed: the certificate."""
    require_hours(training_class, int(course.nominal_hours))
    complete_lessons(learner, course)
    sit_test(learner, course, right)
    return certificates.valid_certificate(learner.id, training_class.id)
