"""User-facing texts for player rules and heartbeat reasons."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# Shown when the upload is refused at once and when the worker refuses it later.
UNSUPPORTED_FORMAT = _l("This file is not a video in a supported format (MP4, MOV, WebM, MKV, AVI, FLV, 3GP, TS). "
                        "Playlists (such as M3U8) and lists of other files are not accepted.")

STUDY_ERRORS = {
    "hours": _l("Nominal hours must be more than zero."),
    "video_type": _l("Please upload a video file (MP4, MOV, WebM, MKV, AVI, FLV, 3GP, TS)."),
    "video_format": UNSUPPORTED_FORMAT,
    "video_empty": _l("The video file is empty."),
    "video_too_large": _l("The video file is too large."),
    "withdrawn": _l("This course is withdrawn."),
    "no_lessons": _l("Add at least one lesson before publishing."),
    "videos_not_ready": _l("Every lesson's video must be transcoded before the course can be published."),
    "other_institution": _l("This course belongs to another institution."),
    "not_published": _l("Only published courses can be added."),
    "already_assigned": _l("This course is already in the curriculum."),
    "not_optional": _l("This course is not open to you as an optional course."),
    "already_enrolled": _l("You have already chosen this course."),
    "not_enrolled": _l("You are not enrolled in this course."),
    "locked": _l("Finish the previous lesson first."),
    "video_not_ready": _l("This lesson's video is not ready yet."),
    "unknown_playback": _l("This player is no longer valid. Please reload the page."),
    "face_not_enrolled": _l("You need a usable face photo before you can study. Please upload one."),
}

# Why a heartbeat earned nothing, as the learner and staff read it.
REASONS = {
    "session_ended": _l("The learning session has ended; time is not counted."),
    "idle": _l("Signed out of study after a period without activity; time is not counted."),
    "superseded": _l("You continued on another page or device; this page no longer counts time."),
    "replay": _l("A repeated report was ignored."),
    "sequence": _l("A report with an impossible number was ignored."),
    "concurrent": _l("Reports arrived at the same moment; this one was not counted."),
    "client_clock": _l("This device's clock is wrong; time is not counted."),
    "beyond_length": _l("The reported position is outside the video."),
    "jump": _l("Skipping ahead is not allowed; time is not counted."),
    "rate_change": _l("Only normal speed counts; time is not counted."),
    "server_clock": _l("More progress than time allows; time is not counted."),
    "frozen": _l("The video is not moving; time is not counted."),
    "gap": _l("The connection was interrupted; that time is not counted."),
    "daily_cap": _l("You have reached today's study limit; further time is not counted."),
    "check_due": _l("An identity check is due; time is not counted until it is done."),
    "face_missed": _l("The identity check was not completed in time: study was stopped and the time since the last passed check was voided."),
    "face_failed": _l("The identity check failed: study was stopped and the time since the last passed check was voided."),
    "logout": _l("You signed out, so study stopped. Sign in again to continue."),
    "signed_out": _l("You are no longer signed in, so study stopped. Sign in again to continue."),
    "paused": _l("Paused."),
    "buffering": _l("The video is loading (buffering); timing resumes when it plays again."),
    "hidden": _l("The page went to the background; timing is paused."),
    "unfocused": _l("The window lost focus; timing is paused."),
    "seek_back": _l("Going back is fine; timing continues from here."),
    "started": _l("Timing started."),
}


def study_error(error) -> str:
    if error.code == "not_publishable":  # the reasons come translated from the module that gave them
        return " ".join(str(reason) for reason in error.details["reasons"])
    return str(STUDY_ERRORS.get(error.code, error.code))


def reason_text(code: str | None) -> str:
    return str(REASONS[code]) if code in REASONS else ""


def video_error(code: str | None) -> str:
    return {
        "unreadable": _("The file could not be read as a video (damaged or unsupported format)."),
        "format": str(UNSUPPORTED_FORMAT),
        "no_video": _("The file has no video track."),
        "dimensions": _("The video's picture is larger than 8K (8192 x 4320). Please export it at a smaller size."),
        "no_duration": _("The video's length could not be determined."),
        "ffmpeg_failed": _("Transcoding failed. Please check the file and upload it again."),
        "too_many_attempts": _("Transcoding was interrupted too many times."),
    }.get(code or "", code or "")
