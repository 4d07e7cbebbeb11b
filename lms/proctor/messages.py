"""User-facing texts for face rules and check results."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

FACE_ERRORS = {
    "unreadable": _l("This image cannot be read."),
    "no_face": _l("No face was found. Use a clear, front-facing photo of yourself in which the face fills a good part of the picture."),
    "multiple_faces": _l("More than one face was found. Only you may be in the picture."),
    "face_cut_off": _l("Part of the face is cut off. The whole face must be in the picture."),
    "face_too_small": _l("The face is too small. Come closer, or use a photo in which the face fills more of the picture."),
    "blurry": _l("The photo is not sharp enough. Hold still and take it again in good light."),
    "not_enrolled": _l("You need a usable face photo before you can study. Please upload one."),
    "not_pending": _l("This photo is no longer waiting for a decision."),
    "note_required": _l("Please give a reason."),
    "frames": _l("The pictures from the camera are missing or incomplete. Please try again."),
    "frame_invalid": _l("A picture from the camera could not be read. Please try again."),
    "check_closed": _l("This check is already finished."),
    "busy": _l("Another try for this check is being judged. Please wait a moment."),
    "not_appealable": _l("Only a failed check can be appealed."),
    "already_appealed": _l("This check has already been appealed."),
    "statement_required": _l("Please say why the check should pass."),
    "already_decided": _l("This review has already been decided."),
    "forbidden": _l("This decision belongs to another institution."),
    "no_challenge": _l("This try has not started yet or is already over. Please start it again."),
    "no_attempts_left": _l("No tries are left for this check."),
    # The phone photos fallback refused (fallback.py): say that a camera is needed and how to get one.
    "photos_off": _l("A camera is required for face checks. Open the course in WeChat on a phone with a camera, or on a computer with a webcam, and allow the camera. If you have neither, ask your training institution."),
    "camera_seen": _l("The camera was working earlier in this session, so photos cannot replace it now. Allow the camera in your browser or WeChat settings and try again, or ask your training institution."),
    "photo_limit": _l("Photos instead of the camera may be used only a few times in 24 hours, and you have used them up. A camera is required: open the course in WeChat on a phone with a camera, or on a computer with a webcam. If you have neither, ask your training institution."),
}

# Why one try did not pass, as the learner reads it.
ATTEMPT_REASONS = {
    "no_face": _l("No face was seen in every picture. Keep your face in the frame."),
    "multiple_faces": _l("More than one face was seen. Only you may be in front of the camera."),
    "face_too_small": _l("Your face is too small in the picture. Come closer to the camera."),
    "mismatch": _l("The face does not match your enrolment photo."),
    "identical": _l("The pictures do not change: a still image cannot pass the check."),
    "no_motion": _l("No head movement was seen in time. When the arrow appears, move your head clearly the way it points."),
    "challenge": _l("The head did not move as asked: hold still until the arrow appears, then move the way it points."),
    "cut": _l("The pictures jump instead of showing one head moving. Stay in front of the camera and move your head smoothly the way the arrow points."),
    "flat": _l("The movement looks like a photo being moved, not a head turning."),
    "replayed": _l("These pictures were sent before. Every check needs new pictures from the camera."),
    "stale": _l("This answer does not belong to the current try."),
    "late": _l("The answer arrived too late for this try."),
    "early": _l("The answer arrived sooner than the camera could take the pictures."),
    "overdue": _l("The time for this check ran out."),
}


def face_error(code: str) -> str:
    return str(FACE_ERRORS.get(code, FACE_ERRORS["unreadable"]))


def attempt_message(result) -> str:
    reason = str(ATTEMPT_REASONS.get(result.reason, "")) if result.reason else ""
    if result.status == "passed":
        return _("Identity confirmed. You can continue.")
    if result.status == "review" and result.reason == "photo_fallback":
        return _("Your photos were received. Because they were not taken with the live camera, staff of your training institution will review them. You can continue; the time since the last check counts once staff confirm.")
    if result.status == "review":
        return _("The result is unclear and was sent to staff for review. You can continue; the time since the last check counts once staff confirm.")
    if result.status == "retry":
        return _("Check failed: %(reason)s Tries left: %(left)s.", reason=reason, left=result.attempts_left)
    if result.status == "missed":
        return _("The time for the identity check ran out. You have been signed out; the time since the last passed check was voided.")
    return _("Check failed: %(reason)s You have been signed out; the time since the last passed check was voided. You can appeal on your face check page after signing in again.", reason=reason)
