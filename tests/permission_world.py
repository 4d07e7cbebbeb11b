"""Two institutions, two regions, two learners: the world in which access rules are tried.

Institution A approved the learner into a class and runs the course in which the learner's face
checks happened; institution B only received the learner's application; institution C has
nothing to do with the learner. Regulators of Foshan (the learner's and A's and B's region) and
of Jinan (C's) look on.
"""
import json
from dataclasses import dataclass, field

from flask import current_app

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.core.roles import ADMIN, REGULATOR, STAFF
from lms.files.storage import check_image, store_image
from lms.institutions.models import Institution
from lms.institutions.services import apply_to_class, approve_application
from lms.player import services as player
from lms.player.signing import signed_url
from lms.proctor import services as proctor
from lms.proctor.models import DOUBTFUL_RESULT, FAILED, REVIEW, FaceCheckAttempt, FaceReview

from .conftest import enrolment_photo, learner_profile, make_class, make_user, ready_course, register, valid_id

ACTORS = ("anonymous", "learner", "other_learner", "staff_approving", "staff_applied", "staff_unrelated",
          "regulator", "other_regulator", "admin")


@dataclass
class World:
    ids: dict = field(default_factory=dict)
    logins: dict = field(default_factory=dict)   # actor -> sign-in identifier

    def __getitem__(self, key):
        return self.ids[key]


def build_world(db, video_path) -> World:
    world = World()
    system = Actor(None, "127.0.0.1", "pytest")
    a = _institution(db, "甲 佛山市禅城区培训中心", "440604")
    b = _institution(db, "乙 佛山市南海区培训学校", "440605")
    c = _institution(db, "丙 济南市历下区培训中心", "370102")
    staff_a = make_user(db, STAFF, "staff.a", institution_id=a.id)
    staff_a2 = make_user(db, STAFF, "staff.a2", institution_id=a.id)
    make_user(db, STAFF, "staff.b", institution_id=b.id)  # staff_applied: signs in by username
    staff_c = make_user(db, STAFF, "staff.c", institution_id=c.id)
    make_user(db, REGULATOR, "reg.foshan", region_code="440600")
    make_user(db, REGULATOR, "reg.jinan", region_code="370100")
    make_user(db, ADMIN, "root.admin")

    learner = register(learner_profile(valid_id("44060419740312123")), system)
    other = register(learner_profile(valid_id("37010219850607456"), name="李四", region="370102"), system)
    class_a, class_b, class_c = make_class(db, a), make_class(db, b), make_class(db, c)
    application_a = apply_to_class(learner, class_a, "T1234567", utcnow(), Actor(learner.user))
    approve_application(application_a, utcnow(), Actor(staff_a))
    application_b = apply_to_class(learner, class_b, "T1234567", utcnow(), Actor(learner.user))
    approve_application(apply_to_class(other, class_c, "T7654321", utcnow(), Actor(other.user)),
                        utcnow(), Actor(staff_c))
    course = ready_course(db, staff_a, class_a, [video_path])
    lesson = course.lessons[0]

    playback = player.start_playback(learner, lesson, utcnow(), Actor(learner.user, "127.0.0.1", "pytest"))
    in_review = _check(learner, a, playback.session_id, lesson.id, REVIEW)
    db.session.add(FaceReview(check_id=in_review.id, kind=DOUBTFUL_RESULT, opened_at=utcnow()))
    failed = _check(learner, a, playback.session_id, lesson.id, FAILED)
    frame = _frame_of(db, in_review, learner)
    db.session.commit()
    attempt = _open_attempt(db, learner, course)
    certificate = _certificate(db, staff_a, class_a, learner, video_path)
    photo, candidate = enrolment_photo("obama_2.jpg")
    replacement = proctor.submit_photo(learner, check_image(photo, 5 * 1024 * 1024), candidate, utcnow(),
                                       Actor(learner.user))

    world.ids.update(
        institution_a=a.id, institution_b=b.id, learner=learner.id, learner_user=learner.user_id,
        other_learner=other.id, colleague_user=staff_a2.id, class_a=class_a.id, application_a=application_a.id,
        application_b=application_b.id, course_a=course.id, lesson_a=lesson.id, check_in_review=in_review.id,
        check_failed=failed.id, frame=frame, review=in_review.reviews[0].id, replacement=replacement.id,
        rule=_any_hours_rule(db), media_url=_media_url(lesson.video.renditions[0].id, learner.user_id),
        attempt_a=attempt.id, question_a=attempt.questions[0].question_id, certificate=certificate.id,
        scanned=_scanned_path(certificate.token))
    world.logins.update(learner=learner.id_number, other_learner=other.id_number, staff_approving="staff.a",
                        staff_applied="staff.b", staff_unrelated="staff.c", regulator="reg.foshan",
                        other_regulator="reg.jinan", admin="root.admin")
    return world


def _media_url(rendition_id: int, user_id: int) -> str:
    with current_app.test_request_context():
        return signed_url(rendition_id, user_id)


def _institution(db, name, region) -> Institution:
    institution = Institution(name=name, region_code=region)
    db.session.add(institution)
    db.session.commit()
    return institution


def _check(learner, institution, session_id, lesson_id, status):
    check = proctor.open_check(learner.id, "study_session", session_id, "random", utcnow(), "127.0.0.1",
                               owner_institution_id=institution.id, details={"lesson_id": lesson_id, "position": 1.0})
    check.status, check.attempts = status, 1
    return check


def _frame_of(db, check, learner) -> int:
    stored = store_image(check_image(enrolment_photo("obama_2.jpg")[0], 5 * 1024 * 1024), proctor.FRAME_KIND,
                         learner.user_id)
    db.session.flush()
    db.session.add(FaceCheckAttempt(check_id=check.id, at=utcnow(), mode="camera",
                                    frame_file_ids=json.dumps([stored.id]), distances="[0.58]", distance=0.58,
                                    outcome="doubtful", reason="doubtful"))
    return stored.id


def _open_attempt(db, learner, course):
    """The learner's test attempt on course A, open, its lessons marked complete."""
    from lms.player.models import LessonProgress
    from lms.quiz import attempts
    for lesson in course.lessons:
        db.session.add(LessonProgress(learner_id=learner.id, lesson_id=lesson.id, completed_at=utcnow()))
    db.session.commit()
    attempt = attempts.start_attempt(learner, course, utcnow(), Actor(learner.user, "127.0.0.1", "pytest"))
    attempts.claim(attempt)
    return attempt


def _any_hours_rule(db) -> int:
    from lms.catalogue.models import HoursRule
    return db.session.query(HoursRule.id).first()[0]


def _certificate(db, staff, training_class, learner, video_path):
    """The learner's study-hours certificate of class A, earned through the real rules on a second
    course of that class (course A keeps its open test attempt)."""
    from tests.hoursdata import earn_certificate
    course_b = ready_course(db, staff, training_class, [video_path])
    return earn_certificate(learner, course_b, training_class)


def _scanned_path(token: str) -> str:
    """The path a phone opens from the certificate's QR code."""
    from lms.hours.payload import verification_url
    return verification_url("http://x", token)[len("HTTP://X"):]
