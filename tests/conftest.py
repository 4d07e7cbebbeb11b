"""Fixtures: one app per test session on SQLite or PostgreSQL (LMS_TEST_DATABASE_URL),
built with the real Alembic migrations; each test starts from empty tables."""
import base64
import io
import os
import re
import shutil
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import text

from lms.accounts.models import User
from lms.accounts.services import set_password
from lms.app import create_app
from lms.catalogue.models import REFRESHER, SAFETY_MANAGER, QualificationType
from lms.catalogue.seed import seed_reference_data
from lms.core.clock import china_date, utcnow
from lms.core.context import Actor
from lms.core.iddocs import gb11643_check_char, parse_resident_id
from lms.core.roles import ADMIN, REGULATOR, STAFF
from lms.extensions import db as _db
from lms.extensions import limiter
from lms.files.storage import check_image
from lms.institutions.models import PUBLISHED, Institution, TrainingClass
from lms.learners.services import Profile
from lms.registration.services import register_learner

from .photos import MISSING, ROOT, SHARED, face_bytes, face_path, faces_folder, missing_photos  # noqa: F401 (re-exported)

FACES = faces_folder() or SHARED  # for `FACES / name` in modules whose tests all take `faces_dir`
REFERENCE_TABLES = {"regions", "qualification_types", "hours_rules", "region_hours_splits", "alembic_version"}
PASSWORD = "Study#2026ok"


def valid_id(first17: str) -> str:
    return first17 + gb11643_check_char(first17)


def image_bytes(fmt="JPEG", size=(400, 300), color=(240, 240, 240)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def _postgres_database() -> str | None:
    """The name of the PostgreSQL test database, when the suite runs on one."""
    from sqlalchemy.engine import make_url
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    parsed = make_url(url) if url else None
    if parsed is None or parsed.get_backend_name() != "postgresql":
        return None
    return parsed.database or ""


def pytest_report_header(config):
    name = _postgres_database()
    if name is not None:
        return f"PostgreSQL: the schema of database {name!r} is dropped and recreated (only names ending in _test)"


def pytest_configure(config):
    name = _postgres_database()
    if name is not None and not name.endswith("_test"):
        raise pytest.UsageError(f"LMS_TEST_DATABASE_URL names the database {name!r}: the tests drop and recreate "
                                "its schema, so they run only on a database whose name ends in _test.")
    if os.environ.get("CI") == "true" and missing_photos():
        raise pytest.UsageError(f"CI=true, and these face photos are missing: {', '.join(missing_photos())}. "
                                f"{MISSING.split(':')[0]}; CI never skips the tests that judge real faces.")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Every skip for want of face photos gets one location, so that -ra folds them into one line."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and MISSING in str(report.longrepr[2]):
        report.longrepr = ("tests/photos.py", None, report.longrepr[2])
    return report


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The folder of the whole set of real face photos (tests/photos.py); without it the test is skipped."""
    if missing_photos():
        pytest.skip(MISSING)
    return faces_folder()


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database, lms_test -> lms_test_gw0_test, made
    by scripts/ensure_test_database.py if missing; the name still ends in _test."""
    import subprocess
    import sys

    from sqlalchemy.engine import make_url
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    parsed = make_url(url)
    if not worker or parsed.get_backend_name() != "postgresql":
        return url
    worker_db = parsed.set(database=f"{parsed.database}_{worker}_test")
    plain = worker_db.set(drivername="postgresql").render_as_string(hide_password=False)  # what psycopg reads
    subprocess.run([sys.executable, str(ROOT / "scripts" / "ensure_test_database.py"), plain], check=True)
    return worker_db.render_as_string(hide_password=False)


def _test_config(tmp_root: Path) -> dict:
    url = _worker_database(os.environ.get("LMS_TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.sqlite3'}")
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-" + os.urandom(8).hex(),
        "LMS_DATA_KEYS": "t1:" + base64.b64encode(os.urandom(32)).decode(),
        "LMS_ACTIVE_KEY_ID": "t1",
        "LMS_HMAC_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MEDIA_ROOT": str(tmp_root / "media"),
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        "LMS_FACE_CHECKS": False,  # on in the face-check tests (fixture face_checks_on)
        # Answers in tests are cut from turn_a.gif (a turn to each side); up and down need the webcam footage
        # (tests/footage.py), and the tests that use it ask for them.
        "LMS_FACE_ACTIONS": ("left", "right"),
    }


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, as in production, so that ``g`` (where
    Flask-Login caches the user) and the database session do not leak between
    requests while a test holds an outer app context."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp_root = tmp_path_factory.mktemp("lms")
    os.environ["LMS_INSTANCE_PATH"] = str(tmp_root / "instance")  # never the developer's instance/
    app = create_app("testing", _test_config(tmp_root))
    app.test_client_class = FreshContextClient
    limiter.enabled = False  # tests/test_accounts.py turns it on where it is the subject
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        from flask_migrate import upgrade
        upgrade()
        seed_reference_data()
    yield app


@pytest.fixture()
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()
        _empty_tables()
    shutil.rmtree(app.config["MEDIA_ROOT"], ignore_errors=True)


def _empty_tables():
    tables = [t.name for t in reversed(_db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture()
def face_checks_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_FACE_CHECKS", True)


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def actor():
    return Actor(None, "127.0.0.1", "pytest")


@pytest.fixture()
def institution(db):
    inst = Institution(name="佛山市测试培训中心", region_code="440604")
    db.session.add(inst)
    db.session.commit()
    return inst


@pytest.fixture()
def other_institution(db):
    inst = Institution(name="济南市另一培训中心", region_code="370102")
    db.session.add(inst)
    db.session.commit()
    return inst


def make_user(db, role, username, **extra) -> User:
    user = User(role=role, username=username, display_name=username, **extra)
    set_password(user, PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture()
def staff(db, institution):
    return make_user(db, STAFF, "staff.one", institution_id=institution.id)


@pytest.fixture()
def other_staff(db, other_institution):
    return make_user(db, STAFF, "staff.other", institution_id=other_institution.id)


@pytest.fixture()
def regulator(db):
    return make_user(db, REGULATOR, "reg.foshan", region_code="440600")


@pytest.fixture()
def other_regulator(db):
    return make_user(db, REGULATOR, "reg.jinan", region_code="370100")


@pytest.fixture()
def admin(db):
    return make_user(db, ADMIN, "root.admin")


def learner_profile(number: str, name="王建国", region="440604") -> Profile:
    return Profile(name=name, id_type="resident_id", document=parse_resident_id(number, date(2026, 11, 23)),
                   birth_date=None, gender=None, work_unit="佛山市测试化工有限公司", unit_category="hazchem_production",
                   position="safety_manager", region_code=region, education_level="senior_high")


def full_materials(photo: bytes | None = None):
    limit = 5 * 1024 * 1024
    return {"photo": check_image(photo or face_bytes(), limit), "id_document": check_image(image_bytes(), limit),
            "recommendation": check_image(image_bytes("PNG"), limit)}


@cache
def enrolment_photo(name: str = "obama_1.jpg"):
    """(photo bytes, its enrolment assessment), judged by dlib once per test session and photo.

    With the real photos: the photo and what assess_photo makes of it. Without them (a newcomer's clone)
    a plain picture and an encoding nobody's face matches, so that tests which judge no face still run
    with learners; every test that judges a face reads the real photos and is skipped there."""
    from lms.proctor import services as proctor
    from lms.proctor.faces import encoding_to_text
    if faces_folder() is None:
        shade = sum(name.encode()) % 200
        return image_bytes(size=(413, 579), color=(shade, 210, 230)), proctor.EnrolmentCandidate(
            encoding_to_text([shade / 400] * 128), face_width=200, sharpness=50.0)
    photo = face_bytes(name)
    return photo, proctor.assess_photo(photo)


def register(profile: Profile, actor: Actor, now=None):
    """A learner registered with the full materials and the session's enrolment photo."""
    from .face_frames import CLIP, enrol_on_clip
    photo, enrolment = enrolment_photo()
    learner = register_learner(profile, PASSWORD, full_materials(photo), now or utcnow(), actor, enrolment=enrolment)
    if faces_folder() is not None and CLIP.is_file():
        enrol_on_clip(learner)   # camera answers in tests show the head-turn clip's person (face_frames.py)
    return learner


@pytest.fixture()
def learner(db, actor):
    return register(learner_profile(valid_id("44060419740312123")), actor)


@pytest.fixture()
def other_learner(db, actor):
    return register(learner_profile(valid_id("37010219850607456"), name="李四", region="370102"), actor)


def make_class(db, institution, training_type=REFRESHER, audience=SAFETY_MANAGER, capacity=30,
               status=PUBLISHED, enrol_offset=(-3, 30), category="危险化学品经营单位") -> TrainingClass:
    today = china_date(utcnow())
    qualification = db.session.query(QualificationType).filter_by(audience=audience, category=category).first()
    training_class = TrainingClass(
        institution_id=institution.id, title="测试班", training_type=training_type,
        qualification_type_id=qualification.id, enrol_start=today + timedelta(days=enrol_offset[0]),
        enrol_end=today + timedelta(days=enrol_offset[1]), train_start=today, train_end=today + timedelta(days=60),
        capacity=capacity, offline_location="禅城区", total_hours=16, required_online_hours=8, status=status)
    db.session.add(training_class)
    db.session.commit()
    return training_class


@pytest.fixture()
def open_class(db, institution):
    return make_class(db, institution)


def login(client, identifier, password=PASSWORD):
    return client.post("/login", data={"identifier": identifier, "password": password})


def signed_in(app, identifier):
    client = app.test_client()
    assert login(client, identifier).status_code == 302
    return client


@pytest.fixture()
def learner_client(app, learner):
    return signed_in(app, learner.id_number)


@pytest.fixture()
def staff_client(app, staff):
    return signed_in(app, staff.username)


@pytest.fixture()
def regulator_client(app, regulator):
    return signed_in(app, regulator.username)


@pytest.fixture()
def admin_client(app, admin):
    return signed_in(app, admin.username)


def csrf_token_from(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


# --- player ------------------------------------------------------------------------------

def make_video(path: Path, seconds: float, size="640x360", audio=True) -> Path:
    """A real H.264 test clip made by ffmpeg (a moving test pattern and a tone)."""
    import subprocess
    args = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(args, check=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def transcoded_once(tmp_path_factory):
    """ffmpeg really transcodes each distinct upload once per test session; a later upload of the same bytes
    with the same plan gets copies of those renditions (the suite uploads the same few clips hundreds of
    times). A failing transcode is never cached: it raises as before."""
    import hashlib

    from lms.player import transcode
    real_run = transcode.run
    store = tmp_path_factory.mktemp("transcoded")

    def run(source_path, out_dir, source, targets, on_progress):
        key = hashlib.sha256(Path(source_path).read_bytes() + repr(targets).encode()).hexdigest()[:32]
        kept = store / key
        if not kept.is_dir():
            real_run(source_path, store / f"{key}.partial", source, targets, on_progress)
            (store / f"{key}.partial").rename(kept)
        shutil.copytree(kept, out_dir, dirs_exist_ok=True)
        on_progress(1.0)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transcode, "run", run)
        yield


@pytest.fixture(scope="session")
def short_video(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "lesson.mp4", 6)


def ready_course(db, staff, training_class, video_paths, actor=None):
    """A published course with one lesson per video, transcoded by the real worker code, a question
    bank of 5 (tests/quizdata.py), in the curriculum of ``training_class``."""
    from datetime import date

    from lms.player import jobs, services
    actor = actor or Actor(staff, "127.0.0.1", "pytest")
    course = services.create_course(staff.institution_id, services.CourseDraft(
        "危险化学品安全基础", "危化品", 2.0, "", "1.0", date(2026, 1, 1)), utcnow(), actor)
    for index, path in enumerate(video_paths, start=1):
        with open(path, "rb") as stream:
            services.add_lesson(course, f"第{index}讲", path.name, stream, utcnow(), actor, 10**9)
    while jobs.run_once():
        pass
    from tests.quizdata import stock_bank
    stock_bank(course, actor)  # publishing needs a question bank and a composable paper
    services.set_course_status(course, "published", utcnow(), actor)
    services.assign_to_class(training_class, course, utcnow(), actor)
    return course


@pytest.fixture()
def approved_learner(db, learner, open_class, staff):
    from lms.institutions.services import apply_to_class, approve_application
    application = apply_to_class(learner, open_class, "T440604197403121235", utcnow(), Actor(learner.user))
    approve_application(application, utcnow(), Actor(staff))
    return learner


# --- face-checked study (tests/test_proctor_checks.py, tests/test_player_stops.py) -----------------

@pytest.fixture()
def lesson(db, staff, open_class, approved_learner, short_video, face_checks_on):
    """A lesson of a published course in the learner's class, with face checks on."""
    return ready_course(db, staff, open_class, [short_video]).lessons[0]


@pytest.fixture()
def course(db, staff, open_class, approved_learner, short_video):
    """A published course with a 5-question bank (tests/quizdata.py) in the approved learner's class."""
    return ready_course(db, staff, open_class, [short_video])


@pytest.fixture()
def ready(course, approved_learner):
    """``course`` with every lesson complete for the approved learner: its test is open."""
    from tests.quizdata import complete_lessons
    complete_lessons(approved_learner, course)
    return course


@pytest.fixture()
def me(approved_learner):
    """The learner acting from their own browser."""
    return Actor(approved_learner.user, "10.0.0.9", "pytest")


@pytest.fixture()
def quick_capture(app, monkeypatch):
    """Over HTTP the server's clock runs: frames 1 ms apart, so that an answer posted at once is not early."""
    monkeypatch.setitem(app.config, "LMS_FACE_FRAME_INTERVAL_MS", 1)
    monkeypatch.setitem(app.config, "LMS_FACE_BURST_INTERVAL_MS", 1)
