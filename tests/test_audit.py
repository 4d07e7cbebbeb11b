"""The operation log: what is recorded, who sees it, and that it cannot change."""
import csv
import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lms.audit.models import AuditLog, AuditLogImmutable
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.institutions.services import apply_to_class

from .conftest import login


def test_actions_are_recorded_with_time_user_ip_and_agent(app, db, learner, open_class, staff, admin_client):
    client = app.test_client()
    login(client, learner.id_number, "wrong-password")
    login(client, learner.id_number)
    client.post(f"/classes/{open_class.id}/apply", data={"previous_certificate_no": "T440604197403121235"},
                environ_base={"REMOTE_ADDR": "203.0.113.9"}, headers={"User-Agent": "MicroMessenger/8.0"})
    client.post("/logout")
    admin_client.post("/admin/institutions", data={"name": "新培训机构有限公司", "region_code": "440600"})
    rows = db.session.query(AuditLog).order_by(AuditLog.id).all()
    actions = [(r.action, r.result) for r in rows]
    for expected in [("register", "success"), ("upload", "success"), ("login", "failure"), ("login", "success"),
                     ("application_submit", "success"), ("logout", "success"), ("institution_create", "success")]:
        assert expected in actions
    submit = next(r for r in rows if r.action == "application_submit")
    assert submit.ip == "203.0.113.9" and "MicroMessenger" in submit.user_agent
    assert submit.user_id == learner.user_id and submit.role == "learner"
    assert submit.institution_id == open_class.institution_id and submit.region_code == "440604"
    assert submit.actor == f"learner:{learner.id}" and submit.at is not None


def test_staff_sees_own_institution_and_regulator_own_region(app, db, learner, open_class, other_institution,
                                                              staff_client, regulator_client, other_staff, actor):
    from .conftest import make_class
    apply_to_class(learner, open_class, "T440604197403121235", utcnow(), actor)
    elsewhere = make_class(db, other_institution)
    apply_to_class(learner, elsewhere, "T440604197403121235", utcnow(), actor)
    staff_page = staff_client.get("/audit?action=application_submit").get_data(as_text=True)
    assert f"class:{open_class.id}" in staff_page and f"class:{elsewhere.id}" not in staff_page
    regulator_page = regulator_client.get("/audit?action=application_submit").get_data(as_text=True)
    assert f"class:{open_class.id}" in regulator_page and f"class:{elsewhere.id}" not in regulator_page


def test_csv_export_is_filtered_and_scoped(db, staff_client, staff, learner, open_class):
    apply_to_class(learner, open_class, "T440604197403121235", utcnow(), Actor(learner.user, "127.0.0.1", "pytest"))
    response = staff_client.get("/audit/export.csv?action=application_submit")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2 and rows[1][5] == "提交报名" and rows[1][1] == f"learner:{learner.id}"
    assert db.session.query(AuditLog).filter_by(action="audit_export").count() == 1


def test_learners_cannot_read_the_log(learner_client):
    assert learner_client.get("/audit").status_code == 403
    assert learner_client.get("/audit/export.csv").status_code == 403


def test_log_rows_cannot_be_edited_or_deleted(db, learner):
    row = db.session.query(AuditLog).first()
    row.result = "failure"
    with pytest.raises(AuditLogImmutable):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.query(AuditLog).first())
    with pytest.raises(AuditLogImmutable):
        db.session.commit()
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE audit_log SET result = 'x'"))


def test_no_route_edits_the_log(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}
