"""Demo data for a fresh installation. Needs nothing outside the project."""
from datetime import timedelta

from sqlalchemy import select

from .accounts.models import User
from .accounts.services import set_password
from .catalogue.models import INITIAL, PRINCIPAL, REFRESHER, SAFETY_MANAGER, QualificationType
from .catalogue.seed import seed_reference_data
from .catalogue.services import hours_plan
from .core.clock import china_date
from .core.iddocs import RESIDENT_ID, gb11643_check_char, parse_resident_id
from .core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from .extensions import db
from .institutions.models import APPROVED, PUBLISHED, Application, Institution, TrainingClass
from .learners.models import Learner
from .learners.services import id_number_hash

DEMO_LEARNERS = [
    # name, first 17 digits of a fictitious ID number, unit, category, position, education
    ("王建国", "44060419740312123", "佛山市禅城区华南化工有限公司", "hazchem_production", "safety_manager", "senior_high"),
    ("刘芳", "44060519880721234", "佛山市南海区顺达危险品仓储有限公司", "hazchem_trading", "principal", "bachelor"),
    ("陈志强", "44060619920105345", "佛山市顺德区美达电器制造有限公司", "general", "special_operator", "senior_high"),
]


def demo_id_number(first17: str) -> str:
    return first17 + gb11643_check_char(first17)


def build_demo(make_password, now) -> list[tuple[str, str, str]]:
    """Create the demo institution, accounts and classes; return (role, login, password) rows."""
    seed_reference_data()
    logins = []
    institution = Institution(name="佛山市安全生产培训中心（演示）", region_code="440604", created_at=now)
    db.session.add(institution)
    db.session.flush()
    for role, username, name, extra in (
            (ADMIN, "admin", "平台管理员", {}),
            (STAFF, "li.laoshi", "李老师", {"institution_id": institution.id}),
            (REGULATOR, "zhang.kezhang", "张科长", {"region_code": "440600"})):
        password = make_password()
        user = User(role=role, username=username, display_name=name, created_at=now, **extra)
        set_password(user, password)
        db.session.add(user)
        logins.append((role, username, password))
    today = china_date(now)
    for name, first17, unit, category, position, education in DEMO_LEARNERS:
        number = demo_id_number(first17)
        facts = parse_resident_id(number, today)
        password = make_password()
        user = User(role=LEARNER, created_at=now)
        set_password(user, password)
        db.session.add(Learner(user=user, name=name, id_type=RESIDENT_ID, id_number=number,
                               id_number_hash=id_number_hash(number), birth_date=facts.birth_date,
                               gender=facts.gender, work_unit=unit, unit_category=category, position=position,
                               region_code="440604", education_level=education, created_at=now))
        logins.append((LEARNER, number, password))
    classes = _demo_classes(institution, today, now)
    db.session.commit()
    _demo_course(institution, classes[0], now)
    return logins


def _demo_classes(institution, today, now) -> list[TrainingClass]:
    manager_hazchem = db.session.scalar(select(QualificationType).filter_by(
        audience=SAFETY_MANAGER, category="危险化学品经营单位"))
    principal_general = db.session.scalar(select(QualificationType).filter_by(
        audience=PRINCIPAL, category="一般生产经营单位"))
    classes = []
    for title, qualification, training_type in (
            ("危险化学品经营单位安全生产管理人员再培训（演示班）", manager_hazchem, REFRESHER),
            ("一般生产经营单位主要负责人初训（演示班）", principal_general, INITIAL)):
        plan = hours_plan(qualification, training_type, institution.region_code)
        training_class = TrainingClass(
            institution_id=institution.id, title=title, training_type=training_type,
            qualification_type_id=qualification.id, enrol_start=today - timedelta(days=7),
            enrol_end=today + timedelta(days=60), train_start=today, train_end=today + timedelta(days=90),
            capacity=50, offline_location="佛山市禅城区季华五路（演示地址）", total_hours=plan.total,
            required_online_hours=plan.online, status=PUBLISHED, published_at=now,
            created_at=now)
        db.session.add(training_class)
        classes.append(training_class)
    return classes


def _demo_course(institution, training_class, now) -> None:
    """A published course of two short generated lessons in the first class's curriculum,
    and the first demo learner approved into that class. The worker transcodes the videos."""
    import tempfile
    from pathlib import Path

    from flask import current_app

    from .core.context import Actor
    from .demo_media import make_demo_clip
    from .player import services
    from .player.models import ClassCourse

    staff = db.session.scalar(select(User).filter_by(username="li.laoshi"))
    actor = Actor(staff, "cli", "seed-demo")
    course = services.create_course(institution.id, services.CourseDraft(
        "危险化学品经营单位安全管理基础（演示课程）", "危险化学品", 2.0,
        "演示课程：视频为本地生成的测试画面。", "1.0", now.date()), now, actor)
    with tempfile.TemporaryDirectory() as tmp:
        for index, (title, pattern) in enumerate((("第一讲 法律法规与安全责任", "testsrc2"),
                                                  ("第二讲 危险化学品储存与经营安全", "smptebars")), start=1):
            clip = make_demo_clip(Path(tmp) / f"demo{index}.mp4", current_app.config["LMS_DEMO_CLIP_SECONDS"], pattern)
            with open(clip, "rb") as stream:
                services.add_lesson(course, title, clip.name, stream, now, actor, 10 ** 9)
    from .demo_questions import stock_demo_bank
    stock_demo_bank(course, now, actor)
    # Published once the worker has transcoded the videos (flask lms worker --once in run_demo.sh).
    db.session.add(ClassCourse(class_id=training_class.id, course_id=course.id))
    # The demo class asks only for this course's hours, so that a demo learner reaches the study-hours
    # certificate in one sitting (a real class's online hours come from the hours rules).
    training_class.required_online_hours = int(course.nominal_hours)
    first_learner = db.session.scalar(select(Learner).order_by(Learner.id))
    db.session.add(Application(class_id=training_class.id, learner_id=first_learner.id, status=APPROVED,
                               previous_certificate_no="T" + first_learner.id_number, submitted_at=now,
                               reviewed_at=now, reviewed_by_id=staff.id))
    db.session.commit()


def publish_demo_courses(now) -> None:
    """Publish demo courses whose videos are ready (run after the worker's first pass)."""
    from .core.context import Actor
    from .player import services
    from .player.models import DRAFT, Course
    staff = db.session.scalar(select(User).filter_by(username="li.laoshi"))
    for course in db.session.scalars(select(Course).where(Course.status == DRAFT)):
        try:
            services.set_course_status(course, "published", now, Actor(staff, "cli", "seed-demo"))
        except services.StudyError:
            pass
