"""The demo data command and key rotation, through the real CLI."""
import base64
import os
import re
from pathlib import Path

from sqlalchemy import text

from lms.core.crypto import cipher_from_config
from lms.learners.models import Learner

from .conftest import enrolment_photo, login


def test_seed_demo_prints_working_random_logins(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "seed-demo"])
    assert result.exit_code == 0, result.output
    logins = re.findall(r"^\s+(\w+)\s+(\S+)\s+(\S+)$", result.output, re.M)
    roles = {role for role, _, _ in logins}
    assert roles == {"admin", "staff", "regulator", "learner"}
    assert all(password != "123456" and len(password) >= 8 for _, _, password in logins)
    for role, identifier, password in logins:
        client = app.test_client()
        assert login(client, identifier, password).status_code == 302, role
    # Demo learners have no photo yet: they are asked to upload one first.
    learner_login = next(row for row in logins if row[0] == "learner")
    client = app.test_client()
    login(client, learner_login[1], learner_login[2])
    assert 'id="materials-missing"' in client.get("/me").get_data(as_text=True)
    # The demo course's generated lessons are transcoded by the worker and published.
    assert runner.invoke(args=["lms", "worker", "--once"]).exit_code == 0
    assert runner.invoke(args=["lms", "publish-demo"]).exit_code == 0
    from lms.player.models import Course
    course = db.session.query(Course).one()
    assert course.status == "published"  # with its question bank: 13 questions, papers of 100 points
    from lms.quiz import bank
    assert bank.active_count(course.id) == 13 and bank.paper_problems(course.id) == []
    assert [r.name for r in course.lessons[0].video.renditions] == ["360p", "480p", "720p"]
    first_learner = logins[3]
    client = app.test_client()
    login(client, first_learner[1], first_learner[2])
    assert course.title in client.get("/study").get_data(as_text=True)
    # Running it again creates nothing new and shows the same logins.
    again = runner.invoke(args=["lms", "seed-demo"])
    assert again.output == result.output
    os.remove(os.path.join(app.instance_path, "demo-logins.txt"))


def _appeal(db, learner, statement):
    """A failed face check the learner appealed, with their words (an encrypted column)."""
    from lms.core.clock import utcnow
    from lms.proctor.models import APPEAL, FAILED, FaceCheck, FaceEnrolment, FaceReview
    enrolment = db.session.query(FaceEnrolment).filter_by(learner_id=learner.id).one()
    check = FaceCheck(learner_id=learner.id, enrolment_id=enrolment.id, context_kind="study_session",
                      context_id=1, purpose="start", status=FAILED, due_at=utcnow())
    db.session.add(check)
    db.session.flush()
    db.session.add(FaceReview(check_id=check.id, kind=APPEAL, opened_at=utcnow(), statement=statement))
    db.session.commit()


def _every_raw_value(db):
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                yield from ((table.name, value) for value in row)


def test_rotate_keys_leaves_no_old_key_in_any_column_or_file(app, db, learner, other_learner, open_class):
    from lms.core.clock import utcnow
    from lms.core.context import Actor
    from lms.core.crypto import FILE_MAGIC
    from lms.core.types import EncryptedText
    from lms.institutions.models import Application
    from lms.institutions.services import apply_to_class
    from lms.proctor.models import FaceEnrolment, FaceReview
    apply_to_class(learner, open_class, "T" + learner.id_number, utcnow(), Actor(learner.user))
    _appeal(db, learner, "当时网络卡顿，是我本人")
    old_cipher = app.extensions["lms_cipher"]
    new_spec = "t2:" + base64.b64encode(os.urandom(32)).decode()
    app.extensions["lms_cipher"] = cipher_from_config({**app.config, "LMS_DATA_KEYS": app.config["LMS_DATA_KEYS"]
                                                       + "," + new_spec, "LMS_ACTIVE_KEY_ID": "t2"})
    try:
        # One row per batch, so that every table takes several batches.
        result = app.test_cli_runner().invoke(args=["lms", "rotate-keys", "--batch-size", "1"])
        assert result.exit_code == 0, result.output
        assert not [(table, value) for table, value in _every_raw_value(db)
                    if isinstance(value, str) and value.startswith("t1$")]
        encrypted = [(table.name, column.name) for table in db.metadata.sorted_tables for column in table.columns
                     if isinstance(column.type, EncryptedText)]
        assert {("face_enrolments", "encoding"), ("face_reviews", "statement"), ("learners", "birth_date"),
                ("applications", "previous_certificate_no")} <= set(encrypted)
        with db.engine.connect() as conn:
            for table, column in encrypted:
                values = conn.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")).scalars()
                assert all(value.startswith("t2$") for value in values), (table, column)
        uploads = [p for p in (Path(app.config["MEDIA_ROOT"]) / "uploads").rglob("*") if p.is_file()]
        assert len(uploads) == 6 and all(p.read_bytes().startswith(FILE_MAGIC + b"\x02t2") for p in uploads)
        # The old key can go: everything reads with the new key alone.
        app.extensions["lms_cipher"] = cipher_from_config({**app.config, "LMS_DATA_KEYS": new_spec,
                                                           "LMS_ACTIVE_KEY_ID": "t2"})
        db.session.expire_all()
        person = db.session.get(Learner, learner.id)
        assert (person.name, person.birth_date.year, person.gender) == ("王建国", 1974, "M")
        assert db.session.query(Application).one().previous_certificate_no == "T" + learner.id_number
        assert db.session.query(FaceReview).one().statement == "当时网络卡顿，是我本人"
        assert all(len(e.encoding.split(",")) == 128 for e in db.session.query(FaceEnrolment))
        client = app.test_client()
        login(client, learner.id_number)
        assert client.get(f"/learners/{learner.id}/materials/photo").data == enrolment_photo()[0]
    finally:
        app.extensions["lms_cipher"] = old_cipher
