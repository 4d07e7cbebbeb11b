"""The hours ledger (issue 14): hours are credited only when every rule is met, only by the ledger
service, never changed in place; certificates follow the credited hours."""
import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.extensions import db as _db
from lms.hours import certificates, ledger
from lms.hours.ledger import HoursError
from lms.hours.models import HOURS_WITHDRAWN, REVOKED, VALID, Certificate, HoursEntry
from lms.player import checks as study_checks
from lms.player.models import Heartbeat, LessonProgress, StudySession
from lms.player.signals import study_time_changed
from lms.proctor.models import FAILED, REVIEW, FaceCheck, FaceEnrolment
from lms.quiz import attempts

from .hoursdata import earn_certificate, require_hours, sit_test
from .quizdata import complete_lessons

ROOT = Path(__file__).resolve().parent.parent


def kinds(learner):
    return [(e.kind, e.tenths) for e in ledger.entries(learner.id)]


def test_nothing_is_credited_before_the_lessons_are_complete_or_the_test_passed(db, course, approved_learner,
                                                                                open_class):
    require_hours(open_class, 2)
    ledger.sync_course(approved_learner.id, course, utcnow())
    assert kinds(approved_learner) == []
    complete_lessons(approved_learner, course)
    sit_test(approved_learner, course, right=3)      # 60 points: a fail
    assert kinds(approved_learner) == []
    assert certificates.valid_certificate(approved_learner.id, open_class.id) is None


def test_a_pass_at_80_credits_the_nominal_hours_once_and_issues_the_certificate(db, course, approved_learner,
                                                                                 open_class):
    require_hours(open_class, 2)
    complete_lessons(approved_learner, course)
    attempt = sit_test(approved_learner, course, right=4)   # 80 points
    assert attempt.passed and attempt.score == 80
    (entry,) = ledger.entries(approved_learner.id)
    assert (entry.kind, entry.tenths, entry.attempt_id, entry.created_by_id) == ("credit", 20, attempt.id, None)
    ledger.sync_course(approved_learner.id, course, utcnow())      # a second sync changes nothing
    ledger.sync_learner(approved_learner.id, utcnow())
    assert kinds(approved_learner) == [("credit", 20)]
    certificate = certificates.valid_certificate(approved_learner.id, open_class.id)
    facts = certificates.facts_of(certificate)
    assert (facts.hours, facts.required_hours, facts.courses[0].score) == (2.0, 2, 80)
    assert certificates.verify_token(certificate.token).status == VALID


def test_a_class_needing_more_hours_than_credited_gets_no_certificate(db, course, approved_learner, open_class):
    require_hours(open_class, 3)                      # the course gives 2
    complete_lessons(approved_learner, course)
    sit_test(approved_learner, course)
    assert kinds(approved_learner) == [("credit", 20)]
    assert certificates.valid_certificate(approved_learner.id, open_class.id) is None
    progress = ledger.class_progress(approved_learner.id, open_class)
    assert (progress.credited, progress.required, progress.complete, progress.percent) == (2.0, 3.0, False, 66)
    with pytest.raises(HoursError):
        certificates.issue(approved_learner, open_class, progress, utcnow())


def test_time_no_longer_confirmed_after_the_credit_is_reversed_and_the_certificate_revoked(db, course,
                                                                                           approved_learner,
                                                                                           open_class):
    certificate = earn_certificate(approved_learner, course, open_class)
    progress = db.session.scalar(select(LessonProgress).where(LessonProgress.learner_id == approved_learner.id))
    progress.completed_at = None                      # e.g. a reviewed face check voided the lesson's time
    db.session.commit()
    ledger.sync_course(approved_learner.id, course, utcnow())
    db.session.commit()
    assert kinds(approved_learner) == [("credit", 20), ("reversal", -20)]
    assert (certificate.status, certificate.revoked_how, certificate.live) == (REVOKED, HOURS_WITHDRAWN, None)
    assert certificates.verify_token(certificate.token).status == REVOKED


def test_a_pass_taken_away_on_review_reverses_the_hours_before_the_commit(db, course, approved_learner, open_class):
    certificate = earn_certificate(approved_learner, course, open_class)
    (attempt,) = attempts.attempts_of(approved_learner.id, course.id)
    # As the proctor tells the quiz that staff failed a doubtful check of this attempt.
    check = SimpleNamespace(id=0, context_id=attempt.id, status=FAILED, learner_id=approved_learner.id)
    attempts.on_check_changed(attempts.CONTEXT, check=check, previous=REVIEW, now=utcnow())
    db.session.commit()
    assert kinds(approved_learner) == [("credit", 20), ("reversal", -20)]
    assert certificate.status == REVOKED


def test_study_time_voided_on_review_reverses_the_hours_through_the_players_signal(db, course, approved_learner,
                                                                                   open_class):
    """proctor -> player (voids the time, rebuilds the lesson) -> player.signals.study_time_changed ->
    hours (reversal, certificate revoked), all before the reviewer's commit."""
    certificate = earn_certificate(approved_learner, course, open_class)
    now = utcnow()
    session = StudySession(learner_id=approved_learner.id, started_at=now, last_interaction_at=now)
    db.session.add(session)
    db.session.flush()
    enrolment = db.session.scalar(select(FaceEnrolment).where(FaceEnrolment.learner_id == approved_learner.id))
    check = FaceCheck(learner_id=approved_learner.id, enrolment_id=enrolment.id, context_kind=study_checks.CONTEXT,
                      context_id=session.id, purpose="random", status=REVIEW, due_at=now)
    db.session.add(check)
    db.session.flush()
    db.session.add(Heartbeat(learner_id=approved_learner.id, lesson_id=course.lessons[0].id, received_at=now,
                             credited=5.0, check_id=check.id))
    db.session.commit()
    heard = []

    def hear(learner_id, *, now):
        heard.append(learner_id)
    study_time_changed.connect(hear)
    try:
        check.status = FAILED   # as the proctor does when staff fail the doubtful check, then tells its askers
        study_checks.on_check_changed(study_checks.CONTEXT, check=check, previous=REVIEW, now=now)
    finally:
        study_time_changed.disconnect(hear)
    assert heard == [approved_learner.id]
    assert kinds(approved_learner) == [("credit", 20), ("reversal", -20)]   # not committed yet
    assert certificate.status == REVOKED
    db.session.commit()


def test_a_system_revoked_certificate_is_issued_again_when_the_hours_return(db, course, approved_learner, open_class,
                                                                            staff):
    first = earn_certificate(approved_learner, course, open_class)
    ledger.correct(approved_learner, course, -5, "学时核减：录像检查发现代学", utcnow(), Actor(staff, "10.0.0.1"))
    assert first.status == REVOKED and first.revoked_how == HOURS_WITHDRAWN
    ledger.correct(approved_learner, course, 5, "复核后恢复", utcnow(), Actor(staff, "10.0.0.1"))
    second = certificates.valid_certificate(approved_learner.id, open_class.id)
    assert second is not None and second.number != first.number and second.status == VALID
    assert certificates.verify_token(first.token).status == REVOKED


def test_a_certificate_revoked_by_staff_stays_revoked(db, course, approved_learner, open_class, staff):
    certificate = earn_certificate(approved_learner, course, open_class)
    certificates.revoke(certificate, "材料造假", utcnow(), Actor(staff))
    ledger.correct(approved_learner, course, -5, "核减", utcnow(), Actor(staff))
    ledger.correct(approved_learner, course, 5, "恢复", utcnow(), Actor(staff))
    ledger.sync_learner(approved_learner.id, utcnow())
    db.session.commit()
    assert certificates.valid_certificate(approved_learner.id, open_class.id) is None
    with pytest.raises(HoursError, match="already_revoked"):
        certificates.revoke(certificate, "again", utcnow(), Actor(staff))


@pytest.mark.parametrize("tenths, reason, code", [
    (5, "", "reason_required"), (5, "   ", "reason_required"), (5, "x" * 501, "reason_too_long"),
    (0, "理由", "zero_correction"), (-1, "理由", "out_of_range"), (21, "理由", "out_of_range"),
])
def test_corrections_need_a_reason_and_keep_the_balance_within_the_course(db, course, approved_learner, staff,
                                                                          tenths, reason, code):
    with pytest.raises(HoursError) as refused:
        ledger.correct(approved_learner, course, tenths, reason, utcnow(), Actor(staff))
    assert refused.value.code == code
    assert kinds(approved_learner) == []


def test_a_correction_is_a_new_entry_by_its_author_with_its_reason(db, course, approved_learner, staff):
    entry = ledger.correct(approved_learner, course, 15, "线下补录：系统故障期间的学习", utcnow(),
                           Actor(staff, "10.1.2.3"))
    assert (entry.kind, entry.tenths, entry.created_by_id, entry.ip, entry.seq) == ("correction", 15, staff.id,
                                                                                    "10.1.2.3", 1)
    assert entry.reason == "线下补录：系统故障期间的学习"
    assert ledger.balances(approved_learner.id) == {course.id: 15}


def test_ledger_rows_are_never_changed_or_deleted(db, course, approved_learner, staff):
    entry = ledger.correct(approved_learner, course, 10, "补录", utcnow(), Actor(staff))
    entry.tenths = 20
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(HoursEntry, entry.id))
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    assert [(e.tenths, e.reason) for e in ledger.entries(approved_learner.id)] == [(10, "补录")]


def test_only_the_ledger_service_adds_entries(db, course, approved_learner):
    db.session.add(HoursEntry(learner_id=approved_learner.id, course_id=course.id, seq=1, kind="credit", tenths=20))
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(text("select count(*) from hours_entries")) == 0


def test_a_plain_session_outside_the_app_runs_no_hours_code(app, monkeypatch):
    """The ledger's guard and sync belong to the app's session (lms.hours.init_app has run, since the
    app exists), not to every SQLAlchemy session of the process."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("hours code ran in a session that is not the app's")
    monkeypatch.setattr(ledger, "sync_learner", refuse)
    monkeypatch.setattr(ledger, "sync_course", refuse)
    engine = create_engine("sqlite://")
    HoursEntry.metadata.create_all(engine)
    with Session(engine) as session:
        hooks = [fn for name in ("before_flush", "before_commit", "after_commit", "after_rollback")
                 for fn in getattr(session.dispatch, name)]
        assert [fn for fn in hooks if getattr(fn, "__module__", "").startswith("lms")] == []
        # The app's guard would refuse this row (not added by the ledger service).
        session.add(HoursEntry(learner_id=1, course_id=1, seq=1, kind="credit", tenths=20))
        session.commit()
        assert session.scalar(text("SELECT count(*) FROM hours_entries")) == 1


@pytest.mark.parametrize("statement", ["UPDATE hours_entries SET tenths = 99", "DELETE FROM hours_entries"])
def test_the_database_refuses_to_change_or_delete_a_ledger_row(db, course, approved_learner, staff, statement):
    ledger.correct(approved_learner, course, 10, "补录", utcnow(), Actor(staff))
    with pytest.raises(DatabaseError, match="append-only"):
        with db.engine.begin() as conn:   # plain SQL, past the app's session and its guard
            conn.execute(text(statement))
    assert [(e.tenths, e.reason) for e in ledger.entries(approved_learner.id)] == [(10, "补录")]


def _writes_entries(path: Path) -> list[str]:
    """Places in a module that construct HoursEntry or write the hours_entries table directly."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "HoursEntry":
            found.append(f"{path.name}:{node.lineno} HoursEntry(...)")
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "insert", "update", "delete") and any("HoursEntry" in ast.unparse(a) for a in node.args):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)[:60]}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                any(verb in node.value.lower() for verb in ("insert into hours_entries", "update hours_entries",
                                                            "delete from hours_entries")):
            found.append(f"{path.name}:{node.lineno} SQL")
    return found


def test_no_module_but_the_ledger_service_writes_hours_entries():
    offenders = {str(path.relative_to(ROOT)): _writes_entries(path) for path in (ROOT / "lms").rglob("*.py")
                 if path != ROOT / "lms" / "hours" / "ledger.py"}
    assert {name: found for name, found in offenders.items() if found} == {}
    assert _writes_entries(ROOT / "lms" / "hours" / "ledger.py")   # the scan does find the one writer


def test_certificate_numbers_are_unique_and_unguessable(db):
    numbers = {certificates.new_number(utcnow()) for _ in range(2000)}
    assert len(numbers) == 2000 and all(len(n) == 14 and n.startswith("XS") for n in numbers)


def test_one_valid_certificate_per_learner_and_class(db, course, approved_learner, open_class):
    certificate = earn_certificate(approved_learner, course, open_class)
    duplicate = Certificate(number="XS2026DUPLICATE", learner_id=approved_learner.id, class_id=open_class.id,
                            institution_id=certificate.institution_id, region_code=certificate.region_code,
                            key_id=certificate.key_id, token=certificate.token, issued_at=utcnow(), live=True)
    _db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        _db.session.flush()
    _db.session.rollback()


def test_a_correction_sent_twice_is_recorded_once(db, course, approved_learner, staff):
    """A slow network resends the form: the same correction by the same person moments later is refused."""
    first = utcnow()
    ledger.correct(approved_learner, course, 5, "补录", first, Actor(staff))
    with pytest.raises(HoursError, match="resent"):
        ledger.correct(approved_learner, course, 5, "补录", first + ledger.RESENT_WITHIN / 2, Actor(staff))
    ledger.correct(approved_learner, course, 5, "补录", first + ledger.RESENT_WITHIN * 2, Actor(staff))
    assert kinds(approved_learner) == [("correction", 5), ("correction", 5)]
