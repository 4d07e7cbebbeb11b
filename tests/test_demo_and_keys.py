"""The demo data command and key rotation, through the real CLI."""
import base64
import os
import re

from sqlalchemy import text

from lms.core.crypto import cipher_from_config
from lms.learners.models import Learner

from .conftest import face_bytes, login


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
    assert course.status == "published"
    assert [r.name for r in course.lessons[0].video.renditions] == ["360p", "480p", "720p"]
    first_learner = logins[3]
    client = app.test_client()
    login(client, first_learner[1], first_learner[2])
    assert course.title in client.get("/study").get_data(as_text=True)
    # Running it again creates nothing new and shows the same logins.
    again = runner.invoke(args=["lms", "seed-demo"])
    assert again.output == result.output
    os.remove(os.path.join(app.instance_path, "demo-logins.txt"))


def test_rotate_keys_reencrypts_rows_and_files(app, db, learner):
    old_cipher = app.extensions["lms_cipher"]
    new_spec = app.config["LMS_DATA_KEYS"] + ",t2:" + base64.b64encode(os.urandom(32)).decode()
    app.extensions["lms_cipher"] = cipher_from_config({**app.config, "LMS_DATA_KEYS": new_spec,
                                                       "LMS_ACTIVE_KEY_ID": "t2"})
    try:
        result = app.test_cli_runner().invoke(args=["lms", "rotate-keys"])
        assert result.exit_code == 0, result.output
        raw = db.session.execute(text("SELECT name, id_number FROM learners")).one()
        assert raw.name.startswith("t2$") and raw.id_number.startswith("t2$")
        db.session.expire_all()
        assert db.session.get(Learner, learner.id).name == "王建国"
        client = app.test_client()
        login(client, learner.id_number)
        assert client.get(f"/learners/{learner.id}/materials/photo").data == face_bytes()
    finally:
        app.extensions["lms_cipher"] = old_cipher
