"""Classes, applications, review: rules as services and through HTTP."""
from datetime import timedelta

import pytest

from lms.catalogue.models import INITIAL, SPECIAL_OPERATION
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.institutions.models import APPROVED, DRAFT, RETURNED, SUBMITTED, Application, TrainingClass
from lms.institutions.services import (ClassPlan, EnrolmentError, apply_to_class, approve_application,
                                       create_class, publish_class, return_application)

from .conftest import learner_profile, login, make_class, register, valid_id

CERT = "T440604197403121235"


def staff_actor(user):
    return Actor(user, "10.0.0.1", "pytest")


def refused(code, call, *args):
    with pytest.raises(EnrolmentError) as error:
        call(*args)
    assert error.value.code == code


def test_apply_inside_window_and_capacity(db, learner, open_class, actor):
    application = apply_to_class(learner, open_class, CERT, utcnow(), actor)
    assert application.status == SUBMITTED and application.previous_certificate_no == CERT
    refused("already_applied", apply_to_class, learner, open_class, CERT, utcnow(), actor)


def test_window_is_enforced_on_both_sides(db, learner, institution, actor):
    before = make_class(db, institution, enrol_offset=(2, 10))
    after = make_class(db, institution, enrol_offset=(-10, -1))
    refused("not_open_yet", apply_to_class, learner, before, CERT, utcnow(), actor)
    refused("closed", apply_to_class, learner, after, CERT, utcnow(), actor)
    # The same class opens when the clock reaches its first day.
    assert apply_to_class(learner, before, CERT, utcnow() + timedelta(days=3), actor).status == SUBMITTED


def test_draft_class_takes_no_applications(db, learner, institution, actor):
    draft = make_class(db, institution, status=DRAFT)
    refused("not_published", apply_to_class, learner, draft, CERT, utcnow(), actor)


def test_capacity_counts_approved_places(db, institution, staff, actor):
    training_class = make_class(db, institution, capacity=1)
    first = register(learner_profile(valid_id("44060419740312123")), actor)
    second = register(learner_profile(valid_id("44060419800101234")), actor)
    a1 = apply_to_class(first, training_class, CERT, utcnow(), actor)
    a2 = apply_to_class(second, training_class, CERT, utcnow(), actor)
    approve_application(a1, utcnow(), staff_actor(staff))
    refused("full", approve_application, a2, utcnow(), staff_actor(staff))
    third = register(learner_profile(valid_id("44060419900101345")), actor)
    refused("full", apply_to_class, third, training_class, CERT, utcnow(), actor)


def test_refresher_needs_existing_certificate(db, learner, open_class, actor):
    refused("certificate_required", apply_to_class, learner, open_class, "", utcnow(), actor)
    refused("certificate_required", apply_to_class, learner, open_class, "12 34", utcnow(), actor)


def test_materials_and_education_certificate(db, learner, institution, actor):
    chem = make_class(db, institution, training_type=INITIAL, audience=SPECIAL_OPERATION, category="危险化学品安全作业")
    with pytest.raises(EnrolmentError) as error:
        apply_to_class(learner, chem, None, utcnow(), actor)
    assert error.value.code == "materials_missing" and error.value.details["missing"] == ["education"]


def test_return_reapply_and_approve(db, learner, open_class, staff, actor):
    application = apply_to_class(learner, open_class, CERT, utcnow(), actor)
    refused("reason_required", return_application, application, "  ", utcnow(), staff_actor(staff))
    return_application(application, "推荐表未盖章", utcnow(), staff_actor(staff))
    assert application.status == RETURNED and application.return_reason == "推荐表未盖章"
    refused("not_pending", approve_application, application, utcnow(), staff_actor(staff))
    again = apply_to_class(learner, open_class, CERT, utcnow(), actor)
    assert again.id == application.id and again.status == SUBMITTED
    approve_application(again, utcnow(), staff_actor(staff))
    assert again.status == APPROVED and again.reviewed_by_id == staff.id


def test_other_institution_cannot_review(db, learner, open_class, other_staff, actor):
    application = apply_to_class(learner, open_class, CERT, utcnow(), actor)
    refused("forbidden", approve_application, application, utcnow(), staff_actor(other_staff))


def test_class_plan_rules(db, institution, staff):
    today = utcnow().date()
    plan = ClassPlan("班", INITIAL, 1, today, today - timedelta(days=1), today, today, 10, "", 32, 16)
    refused("enrol_window", create_class, institution, plan, utcnow(), staff_actor(staff))
    plan = ClassPlan("班", INITIAL, 1, today, today, today, today, 10, "", 32, 40)
    refused("online_hours", create_class, institution, plan, utcnow(), staff_actor(staff))
    plan = ClassPlan("班", INITIAL, 1, today, today, today, today, 10, "", 32, 16)
    training_class = create_class(institution, plan, utcnow(), staff_actor(staff))
    publish_class(training_class, utcnow(), staff_actor(staff))
    refused("already_published", publish_class, training_class, utcnow(), staff_actor(staff))


# --- through HTTP ---------------------------------------------------------------

def test_staff_creates_and_publishes_class_with_hours_from_rules(staff_client, db):
    from lms.catalogue.models import QualificationType
    qualification = db.session.query(QualificationType).filter_by(
        audience="safety_manager", category="危险化学品生产单位").one()
    today = utcnow().date()
    response = staff_client.post("/classes/new", data={
        "title": "危化品生产单位安全管理人员初训", "training_type": "initial", "qualification_type_id": qualification.id,
        "enrol_start": str(today), "enrol_end": str(today + timedelta(days=30)), "train_start": str(today),
        "train_end": str(today + timedelta(days=60)), "capacity": 40, "offline_location": "禅城区"})
    assert response.status_code == 302
    training_class = db.session.query(TrainingClass).one()
    # High-risk initial: 48 hours; Foshan allows 16 online.
    assert (training_class.total_hours, training_class.required_online_hours) == (48, 16)
    assert staff_client.post(f"/classes/{training_class.id}/publish").status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingClass, training_class.id).status == "published"


def test_learner_applies_and_sees_return_reason(learner_client, staff_client, learner, open_class, db):
    response = learner_client.post(f"/classes/{open_class.id}/apply", data={"previous_certificate_no": CERT})
    assert response.status_code == 302
    application = db.session.query(Application).one()
    response = staff_client.post(f"/applications/{application.id}/return", data={"reason": "照片不是白底"})
    assert response.status_code == 302
    assert "照片不是白底" in learner_client.get("/me").get_data(as_text=True)
    assert "照片不是白底" in learner_client.get(f"/classes/{open_class.id}").get_data(as_text=True)
    learner_client.post(f"/classes/{open_class.id}/apply", data={"previous_certificate_no": CERT})
    staff_client.post(f"/applications/{application.id}/approve")
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == APPROVED


def test_learner_outside_window_gets_message(learner_client, institution, db):
    closed = make_class(db, institution, enrol_offset=(-10, -1))
    response = learner_client.post(f"/classes/{closed.id}/apply", data={"previous_certificate_no": CERT},
                                   follow_redirects=True)
    assert response.status_code == 200 and "已截止" in response.get_data(as_text=True)
    assert db.session.query(Application).count() == 0


def test_return_without_reason_is_refused(staff_client, learner, open_class, db, actor):
    application = apply_to_class(learner, open_class, CERT, utcnow(), actor)
    response = staff_client.post(f"/applications/{application.id}/return", data={"reason": ""})
    assert response.status_code == 400
    assert db.session.get(Application, application.id).status == SUBMITTED


def test_staff_of_another_institution_sees_nothing(app, db, learner, open_class, other_staff, actor):
    application = apply_to_class(learner, open_class, CERT, utcnow(), actor)
    client = app.test_client()
    login(client, other_staff.username)
    assert client.get(f"/applications/{application.id}").status_code == 404
    assert client.post(f"/applications/{application.id}/approve").status_code == 404
    assert client.get(f"/learners/{learner.id}/materials/photo").status_code == 404
    assert client.get(f"/classes/{open_class.id}").status_code == 404
    assert learner.masked_id_number not in client.get("/applications?status=all").get_data(as_text=True)
    assert db.session.get(Application, application.id).status == SUBMITTED


def test_learner_cannot_open_another_learners_materials_or_staff_pages(learner_client, other_learner):
    assert learner_client.get(f"/learners/{other_learner.id}/materials/photo").status_code == 404
    assert learner_client.get("/applications").status_code == 403
    assert learner_client.get("/audit").status_code == 403


def test_materials_are_served_decrypted_to_allowed_viewers(learner_client, staff_client, learner, open_class, actor):
    from .conftest import enrolment_photo
    assert learner_client.get(f"/learners/{learner.id}/materials/photo").data == enrolment_photo()[0]
    assert staff_client.get(f"/learners/{learner.id}/materials/photo").status_code == 404  # not applied yet
    apply_to_class(learner, open_class, CERT, utcnow(), actor)
    response = staff_client.get(f"/learners/{learner.id}/materials/photo")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"


def test_regulator_sees_own_region_only(app, db, regulator, other_regulator, learner, open_class, actor):
    application = apply_to_class(learner, open_class, CERT, utcnow(), actor)
    foshan, jinan = app.test_client(), app.test_client()
    login(foshan, regulator.username)
    login(jinan, other_regulator.username)
    assert foshan.get(f"/applications/{application.id}").status_code == 200
    assert jinan.get(f"/applications/{application.id}").status_code == 404
    assert foshan.post(f"/applications/{application.id}/approve").status_code == 403
    assert learner.id_number not in foshan.get(f"/applications/{application.id}").get_data(as_text=True)


def test_replacing_a_material_after_return(learner_client, learner, db):
    import io

    from .conftest import image_bytes
    old_id = learner.recommendation_file_id
    response = learner_client.post("/me/materials", data={
        "kind": "recommendation", "file": (io.BytesIO(image_bytes("PNG", color=(200, 10, 10))), "new.png")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.expire_all()
    assert learner.recommendation_file_id != old_id
    bad = learner_client.post("/me/materials", data={"kind": "recommendation", "file": (io.BytesIO(b"MZ..."), "x.png")},
                              content_type="multipart/form-data")
    assert bad.status_code == 200
