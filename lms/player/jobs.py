"""Background transcoding jobs, run by `flask lms worker`, never inside a web request.

A job is a Video row. A worker claims it with a lease that it renews while
ffmpeg runs; if the worker dies (a restart), the lease runs out and the next
worker takes the job over and starts it again, up to a number of attempts.
"""
import logging
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select, update

from ..core.clock import utcnow
from ..extensions import db
from . import transcode
from .models import FAILED, PENDING, PROCESSING, READY, Rendition, Video

log = logging.getLogger(__name__)


def video_dir(video_id: int) -> Path:
    return Path(current_app.config["MEDIA_ROOT"]) / "videos" / str(video_id)


def source_path(video: Video) -> Path:
    return video_dir(video.id) / video.source_name


def rendition_path(rendition: Rendition) -> Path:
    return video_dir(rendition.video_id) / f"{rendition.name}.mp4"


def claim_next(now: datetime) -> Video | None:
    """Take the oldest pending job, or one whose worker stopped renewing its lease."""
    lease = timedelta(seconds=current_app.config["LMS_TRANSCODE_LEASE_SECONDS"])
    candidates = db.session.scalars(select(Video.id).where(or_(
        Video.status == PENDING,
        (Video.status == PROCESSING) & (Video.lease_until < now))).order_by(Video.id).limit(5)).all()
    for video_id in candidates:
        # Conditional update: only one worker wins the row even with several running.
        claimed = db.session.execute(update(Video).where(
            Video.id == video_id,
            or_(Video.status == PENDING, (Video.status == PROCESSING) & (Video.lease_until < now))
        ).values(status=PROCESSING, lease_until=now + lease, attempts=Video.attempts + 1, progress=0.0,
                 updated_at=now)).rowcount
        db.session.commit()
        if claimed:
            return db.session.get(Video, video_id)
    return None


def process(video: Video) -> None:
    """Probe, transcode and record renditions; any failure ends in a clear error state."""
    max_attempts = current_app.config["LMS_TRANSCODE_MAX_ATTEMPTS"]
    if video.attempts > max_attempts:
        _fail(video, "too_many_attempts")
        return
    try:
        info = transcode.probe(source_path(video))
        targets = transcode.plan(info)
        out_dir = video_dir(video.id) / "work"
        shutil.rmtree(out_dir, ignore_errors=True)
        transcode.run(source_path(video), out_dir, info, targets, _progress_reporter(video))
    except transcode.TranscodeError as error:
        log.warning("video %s failed: %s", video.id, error)
        _fail(video, error.code)
        return
    for target in targets:
        final = video_dir(video.id) / f"{target.name}.mp4"
        (out_dir / f"{target.name}.mp4").replace(final)
        db.session.add(Rendition(video_id=video.id, name=target.name, height=target.height, width=target.width,
                                 size=final.stat().st_size))
    shutil.rmtree(out_dir, ignore_errors=True)
    video.duration, video.width, video.height = info.duration, info.width, info.height
    video.status, video.progress, video.error, video.lease_until = READY, 1.0, None, None
    video.updated_at = utcnow()
    db.session.commit()
    log.info("video %s ready: %s", video.id, ", ".join(t.name for t in targets))


def _progress_reporter(video: Video):
    """Store progress at most once a second and renew the lease with it."""
    lease = timedelta(seconds=current_app.config["LMS_TRANSCODE_LEASE_SECONDS"])
    last = [0.0]

    def report(fraction: float) -> None:
        if time.monotonic() - last[0] < 1.0:
            return
        last[0] = time.monotonic()
        now = utcnow()
        db.session.execute(update(Video).where(Video.id == video.id).values(
            progress=round(fraction, 3), lease_until=now + lease, updated_at=now))
        db.session.commit()
    return report


def _fail(video: Video, code: str) -> None:
    video.status, video.error, video.lease_until = FAILED, code, None
    video.updated_at = utcnow()
    db.session.commit()


def run_once(now: datetime | None = None) -> bool:
    """Process one job if there is one; return whether there was."""
    video = claim_next(now or utcnow())
    if video is None:
        return False
    process(video)
    return True


def run_forever(poll_seconds: float = 2.0, housekeeping=None, housekeeping_every: float = 30.0) -> None:
    """Transcode jobs as they come; every housekeeping_every seconds, run housekeeping(now) too."""
    log.info("transcoding worker started")
    last_housekeeping = 0.0
    while True:
        if housekeeping is not None and time.monotonic() - last_housekeeping >= housekeeping_every:
            last_housekeeping = time.monotonic()
            try:
                housekeeping(utcnow())
            except Exception:
                log.exception("housekeeping error")
                db.session.rollback()
        try:
            worked = run_once()
        except Exception:  # keep the worker alive; the job's lease expires and it is retried
            log.exception("transcoding worker error")
            db.session.rollback()
            worked = False
        db.session.remove()
        if not worked:
            time.sleep(poll_seconds)
