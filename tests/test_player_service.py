"""Courses, transcoding and heartbeats with real ffmpeg and a real database."""
from datetime import timedelta
from pathlib import Path

import pytest

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.player import heartbeats, jobs, progress, services
from lms.player.accounting import Beat, Rules
from lms.player.checks import StudyTime
from lms.player.models import FAILED, READY, Heartbeat, Rendition, Video

from .conftest import make_video, ready_course

RULES = Rules(heartbeat_interval=2, max_gap=10, daily_cap_seconds=3600)
IDLE_LIMIT = 60.0


def send(learner, token, beat, now, interacted=True):
    return heartbeats.record_heartbeat(learner.user_id, token, beat, interacted, now, "127.0.0.1", RULES, IDLE_LIMIT)


def test_transcoding_makes_renditions_without_upscaling(db, staff, open_class, tmp_path):
    source = make_video(tmp_path / "hd.mp4", 3, size="1280x720")
    course = ready_course(db, staff, open_class, [source])
    video = course.lessons[0].video
    assert video.status == READY and abs(video.duration - 3) < 0.2
    assert [(r.name, r.width, r.height) for r in video.renditions] == [
        ("360p", 640, 360), ("480p", 854, 480), ("720p", 1280, 720)]
    small = make_video(tmp_path / "small.mp4", 2, size="480x270", audio=False)
    other = services.create_course(staff.institution_id, services.CourseDraft("小视频", "", 1, "", "1", utcnow().date()),
                                   utcnow(), Actor(staff))
    with open(small, "rb") as stream:
        lesson = services.add_lesson(other, "小", "small.mp4", stream, utcnow(), Actor(staff), 10**9)
    jobs.run_once()
    assert [(r.name, r.height) for r in lesson.video.renditions] == [("360p", 270)]  # never upscaled


def test_corrupt_upload_ends_in_a_clear_error_state(db, staff, open_class, tmp_path):
    course = services.create_course(staff.institution_id, services.CourseDraft("坏视频", "", 1, "", "1", utcnow().date()),
                                    utcnow(), Actor(staff))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 1000)
    with open(junk, "rb") as stream:
        lesson = services.add_lesson(course, "坏", "junk.mp4", stream, utcnow(), Actor(staff), 10**9)
    jobs.run_once()
    db.session.refresh(lesson.video)
    assert lesson.video.status == FAILED and lesson.video.error == "unreadable"
    with pytest.raises(services.StudyError) as error:
        services.set_course_status(course, "published", utcnow(), Actor(staff))
    assert error.value.code == "videos_not_ready"


def test_wrong_file_type_is_refused_before_saving(db, staff, app):
    course = services.create_course(staff.institution_id, services.CourseDraft("x", "", 1, "", "1", utcnow().date()),
                                    utcnow(), Actor(staff))
    import io
    with pytest.raises(services.StudyError):
        services.add_lesson(course, "exe", "setup.exe", io.BytesIO(b"MZ"), utcnow(), Actor(staff), 10**9)
    assert db.session.query(Video).count() == 0
    assert not list((Path(app.config["MEDIA_ROOT"]) / "videos").glob("*/*"))


def test_interrupted_job_is_taken_over_after_its_lease(db, staff, short_video, app):
    course = services.create_course(staff.institution_id, services.CourseDraft("x", "", 1, "", "1", utcnow().date()),
                                    utcnow(), Actor(staff))
    with open(short_video, "rb") as stream:
        lesson = services.add_lesson(course, "l", "a.mp4", stream, utcnow(), Actor(staff), 10**9)
    claimed = jobs.claim_next(utcnow())  # a worker claims it, then "dies" before finishing
    assert claimed.id == lesson.video_id
    assert jobs.claim_next(utcnow()) is None  # nobody else takes a job under a live lease
    later = utcnow() + timedelta(seconds=app.config["LMS_TRANSCODE_LEASE_SECONDS"] + 1)
    assert jobs.run_once(later)
    db.session.refresh(lesson.video)
    assert lesson.video.status == READY and lesson.video.attempts == 2


def watch(learner, playback, start, seconds, step=2.0, position=0.0, seq=0, **flags):
    """Send heartbeats as a page playing at 1x would, with the server clock driven explicitly."""
    results = []
    t = 0.0
    while t <= seconds + 1e-9:
        seq += 1
        beat = Beat(seq, min(position + t, 6.0), flags.get("playing", True), True, True, 1.0, None)
        results.append(send(learner, playback.token, beat, start + timedelta(seconds=t)))
        t += step
    return results


def test_watching_a_lesson_completes_it_and_unlocks_the_next(db, staff, open_class, approved_learner, short_video):
    course = ready_course(db, staff, open_class, [short_video, short_video])
    first, second = course.lessons
    actor = Actor(approved_learner.user, "127.0.0.1")
    with pytest.raises(services.StudyError) as error:
        services.start_playback(approved_learner, second, utcnow(), actor)
    assert error.value.code == "locked"
    playback = services.start_playback(approved_learner, first, utcnow(), actor)
    results = watch(approved_learner, playback, utcnow(), 6.0)
    assert results[-1].complete
    assert abs(results[-1].effective - first.video.duration) < 0.5
    assert services.lesson_unlocked(approved_learner, second)
    # Every heartbeat is kept with its verdict.
    assert db.session.query(Heartbeat).filter_by(learner_id=approved_learner.id).count() == len(results)
    # Rebuilding from heartbeats gives the same totals (what a voiding rule will rely on).
    rebuilt = progress.rebuild_progress(approved_learner.id, first.id, RULES)
    assert rebuilt.effective_seconds == pytest.approx(results[-1].effective)
    assert rebuilt.completed_at is not None


def test_second_playback_takes_over(db, staff, open_class, approved_learner, short_video):
    course = ready_course(db, staff, open_class, [short_video])
    lesson = course.lessons[0]
    actor = Actor(approved_learner.user, "127.0.0.1")
    start = utcnow()
    first = services.start_playback(approved_learner, lesson, start, actor)
    watch(approved_learner, first, start, 2.0)
    second = services.start_playback(approved_learner, lesson, start + timedelta(seconds=2.5), actor)
    old = send(approved_learner, first.token, Beat(99, 3.0, True, True, True, 1.0), start + timedelta(seconds=3))
    assert old.verdict.reason == "superseded" and old.verdict.credited == 0
    assert second.active


def test_idle_session_ends_and_stops_counting(db, app, staff, open_class, approved_learner, short_video):
    course = ready_course(db, staff, open_class, [short_video])
    start = utcnow()
    playback = services.start_playback(approved_learner, course.lessons[0], start, Actor(approved_learner.user))
    watch(approved_learner, playback, start, 2.0)
    later = start + timedelta(seconds=IDLE_LIMIT + 3)
    result = send(approved_learner, playback.token, Beat(50, 3.0, True, True, True, 1.0), later, interacted=False)
    assert result.verdict.reason == "idle" and result.verdict.credited == 0 and result.session_ended == "idle"
    from lms.audit.models import AuditLog
    ended = db.session.query(AuditLog).filter_by(action="study_session_end").one()
    assert ended.detail == "idle" and ended.user_id == approved_learner.user_id


def test_renditions_are_recorded(db, staff, open_class, short_video):
    ready_course(db, staff, open_class, [short_video])
    assert {r.name for r in db.session.query(Rendition)} == {"360p"}


def test_heartbeats_sent_together_earn_once(app, db, staff, open_class, approved_learner, tmp_path):
    """A page (or a script) firing many heartbeats at once must not multiply the credit."""
    from concurrent.futures import ThreadPoolExecutor

    from lms.player.models import LessonProgress
    course = ready_course(db, staff, open_class, [make_video(tmp_path / "long.mp4", 30, audio=False)])
    start = utcnow()
    playback = services.start_playback(approved_learner, course.lessons[0], start, Actor(approved_learner.user))
    user_id, token = approved_learner.user_id, playback.token
    send(approved_learner, token, Beat(1, 0.0, True, True, True, 1.0), start)
    seq = [1]

    def fire(second, index):
        with app.app_context():
            beat = Beat(seq[0] + index + 1, float(second), True, True, True, 1.0)
            return heartbeats.record_heartbeat(user_id, token, beat, True, start + timedelta(seconds=second),
                                               "127.0.0.1", RULES, IDLE_LIMIT).verdict.credited

    with ThreadPoolExecutor(max_workers=8) as pool:
        for second in range(1, 9):
            credits = list(pool.map(lambda i, s=second: fire(s, i), range(8)))
            seq[0] += 8
            assert sum(credits) <= 1.0 + 1e-6, credits
    db.session.expire_all()
    progress = db.session.query(LessonProgress).filter_by(learner_id=approved_learner.id).one()
    assert progress.effective_seconds <= 8.0 + 1e-6


def test_a_new_player_for_the_same_lesson_goes_on_from_the_old_ones_anchor(db, staff, open_class, approved_learner,
                                                                            short_video):
    """Fresh video links after one expired start a new playback; its first report is the next report of the
    same viewing. Before, it was a jump past the last credited point and the page was sent back."""
    lesson = ready_course(db, staff, open_class, [short_video]).lessons[0]
    actor, t0 = Actor(approved_learner.user, "127.0.0.1", "pytest"), utcnow()
    at = lambda seconds: t0 + timedelta(seconds=seconds)  # noqa: E731
    first = services.start_playback(approved_learner, lesson, at(0), actor)
    send(approved_learner, first.token, Beat(1, 0.0, True, True, True, 1.0), at(0))
    send(approved_learner, first.token, Beat(2, 2.0, True, True, True, 1.0), at(2))
    second = services.start_playback(approved_learner, lesson, at(3.5), actor)
    going_on = send(approved_learner, second.token, Beat(1, 3.5, True, True, True, 1.0), at(3.6))
    assert going_on.verdict.reason is None and going_on.verdict.credited == pytest.approx(1.5)
    old = send(approved_learner, first.token, Beat(3, 4.0, True, True, True, 1.0), at(4))
    assert old.verdict.reason == "superseded" and old.verdict.credited == 0   # counted once


def test_confirmed_time_is_worked_out_once_by_the_player():
    rows = [services.LessonSummary(None, 300.0, 120.0, 280.0, 300.0, True, True, 0.0),
            services.LessonSummary(None, 60.0, 0.0, 50.0, 300.0, False, True, 0.0)]
    assert [row.confirmed for row in rows] == [180.0, 60.0]
    totals = services.course_totals(rows)
    assert (totals.lessons, totals.complete, totals.effective, totals.provisional, totals.confirmed) == \
        (2, 1, 360.0, 120.0, 240.0)
    assert StudyTime(90.0, 30.0).confirmed == 60.0
