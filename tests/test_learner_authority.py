"""Write authority over a learner stays with the institutions that hold it (issue: it leaked across tenants).

The learner is approved into a class of ``institution`` (staff) and has only applied to a class of
``other_institution`` (other_staff). Seeing the learner is shared; acting on the learner is not.
"""
import pytest
from sqlalchemy import String, literal, select

from lms.accounts.models import OneTimeToken
from lms.accounts.services import issue_reset_link
from lms.catalogue.services import in_region, region_covers
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.core.errors import RuleViolation
from lms.files.storage import check_image
from lms.institutions.services import apply_to_class
from lms.player.models import StudySession
from lms.proctor import services as proctor
from lms.proctor.models import ACTIVE, DOUBTFUL_RESULT, FAILED, PASSED, PENDING, REVIEW, FaceEnrolment, FaceReview

from .conftest import enrolment_photo, make_class, signed_in

MB5 = 5 * 1024 * 1024


@pytest.fixture()
def applied_elsewhere(db, approved_learner, other_institution, other_staff):
    """The approved learner also applied (only applied) to another institution's class."""
    apply_to_class(approved_learner, make_class(db, other_institution), "T1234567", utcnow(),
                   Actor(approved_learner.user))
    return approved_learner


def _review_in_course_of(db, learner, institution_id) -> FaceReview:
    session = StudySession(learner_id=learner.id, started_at=utcnow(), last_interaction_at=utcnow())
    db.session.add(session)
    db.session.flush()
    check = proctor.open_check(learner.id, "study_session", session.id, "random", utcnow(), "127.0.0.1",
                               owner_institution_id=institution_id)
    check.status, check.attempts = REVIEW, 1
    review = FaceReview(check_id=check.id, kind=DOUBTFUL_RESULT, opened_at=utcnow())
    db.session.add(review)
    db.session.commit()
    return review


def test_face_check_review_belongs_to_the_institution_that_owns_the_course(
        app, db, applied_elsewhere, institution, staff, other_staff):
    review = _review_in_course_of(db, applied_elsewhere, institution.id)
    check_id = review.check_id
    intruder = signed_in(app, other_staff.username)
    assert intruder.get(f"/proctor/reviews/{review.id}").status_code == 404
    assert intruder.post(f"/proctor/reviews/{review.id}", data={"decision": "pass", "note": ""}).status_code == 404
    assert f"/proctor/reviews/{review.id}" not in intruder.get("/proctor/reviews").get_data(as_text=True)
    evidence = intruder.get(f"/learners/{applied_elsewhere.id}/face-checks").get_data(as_text=True)
    assert f'id="evidence-{check_id}"' not in evidence  # the learner is visible, another institution's check is not
    with pytest.raises(proctor.FaceError) as refused:
        proctor.decide_review(db.session.get(FaceReview, review.id), True, "", utcnow(), Actor(other_staff))
    assert refused.value.code == "forbidden"
    db.session.rollback()
    assert db.session.get(FaceReview, review.id).check.status == REVIEW

    owner = signed_in(app, staff.username)
    assert f'id="evidence-{check_id}"' in owner.get(f"/learners/{applied_elsewhere.id}/face-checks").get_data(
        as_text=True)
    assert owner.post(f"/proctor/reviews/{review.id}", data={"decision": "pass", "note": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(FaceReview, review.id).check.status == PASSED


def test_an_appeal_goes_to_the_institution_that_owns_the_check(app, db, applied_elsewhere, institution, other_staff,
                                                               staff):
    review = _review_in_course_of(db, applied_elsewhere, institution.id)
    check = review.check
    check.status = FAILED
    db.session.commit()
    learner_client = signed_in(app, applied_elsewhere.id_number)
    assert learner_client.post(f"/me/face/checks/{check.id}/appeal", data={"statement": "是我本人"}).status_code == 302
    appeal = db.session.scalars(select(FaceReview).where(FaceReview.check_id == check.id,
                                                         FaceReview.kind == "appeal")).one()
    assert signed_in(app, other_staff.username).get(f"/proctor/reviews/{appeal.id}").status_code == 404
    assert signed_in(app, staff.username).get(f"/proctor/reviews/{appeal.id}").status_code == 200


def test_only_an_approving_institution_may_accept_a_replacement_face_photo(
        app, db, applied_elsewhere, staff, other_staff, other_institution, institution):
    learner = applied_elsewhere
    data, candidate = enrolment_photo("obama_2.jpg")
    pending = proctor.submit_photo(learner, check_image(data, MB5), candidate, utcnow(), Actor(learner.user))
    assert pending.status == PENDING

    intruder = signed_in(app, other_staff.username)
    assert intruder.get(f"/proctor/enrolments/{pending.id}").status_code == 404
    assert intruder.post(f"/proctor/enrolments/{pending.id}", data={"decision": "pass"}).status_code == 404
    assert f"/proctor/enrolments/{pending.id}" not in intruder.get("/proctor/reviews").get_data(as_text=True)
    with pytest.raises(proctor.FaceError):
        proctor.decide_replacement(db.session.get(FaceEnrolment, pending.id), True, "", utcnow(), Actor(other_staff))
    db.session.rollback()
    assert db.session.get(FaceEnrolment, pending.id).status == PENDING

    owner = signed_in(app, staff.username)
    assert owner.post(f"/proctor/enrolments/{pending.id}", data={"decision": "pass"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(FaceEnrolment, pending.id).status == ACTIVE
    # Every institution that has the learner sees the change in the record, and the learner is told.
    record = intruder.get(f"/learners/{learner.id}/face-checks").get_data(as_text=True)
    assert 'id="enrolment-history"' in record and institution.name in record and "staff.one" in record
    own = signed_in(app, learner.id_number).get("/me/face").get_data(as_text=True)
    assert 'id="enrolment-history"' in own and institution.name in own


def test_password_reset_link_only_from_an_approving_institution(app, db, applied_elsewhere, staff, other_staff,
                                                                regulator):
    target = applied_elsewhere.user_id
    for outsider in (other_staff, regulator):
        assert signed_in(app, outsider.username).post(f"/accounts/{target}/reset-link").status_code == 403
        with pytest.raises(RuleViolation):
            issue_reset_link(applied_elsewhere.user, utcnow(), Actor(outsider), lifetime=_day())
    assert db.session.scalar(select(OneTimeToken.id).where(OneTimeToken.user_id == target)) is None
    page = signed_in(app, other_staff.username).get(
        f"/applications/{_application_id(db, applied_elsewhere, other_staff)}").get_data(as_text=True)
    assert "/reset-link" not in page  # the button is not offered either

    response = signed_in(app, staff.username).post(f"/accounts/{target}/reset-link")
    assert response.status_code == 200 and "/one-time-link#" in response.get_data(as_text=True)


def _day():
    from datetime import timedelta
    return timedelta(days=1)


def _application_id(db, learner, staff_user) -> int:
    from lms.institutions.models import Application, TrainingClass
    return db.session.scalar(select(Application.id).join(TrainingClass).where(
        Application.learner_id == learner.id, TrainingClass.institution_id == staff_user.institution_id))


@pytest.mark.parametrize(("scope", "code", "covered"), [
    ("440600", "440604", True), ("440600", "440700", False), ("440000", "440604", True),
    ("440604", "440604", True), ("440604", "440605", False), ("370100", "440604", False),
    ("", "440604", False), ("440600", None, False), ("44%", "440604", False),
])
def test_regional_scope_is_one_rule_for_predicates_and_queries(db, scope, code, covered):
    assert region_covers(scope, code) is covered
    in_query = db.session.scalar(select(literal(1)).where(in_region(literal(code, String), scope)))
    assert (in_query == 1) is covered
