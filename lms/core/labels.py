"""Translated display names for the codes stored in the database.

A word that means different things in different places gets a message context (lazy_pgettext), so
that each place has its own translation: "Failed" is a transcoding failure for a video and a check
not passed for a face check. Extract with ``-k lazy_pgettext:1c,2`` (README, "Translations").
"""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

LABELS = {
    "role": {"learner": _l("Learner"), "staff": _l("Institution staff"),
             "regulator": _l("Regulator"), "admin": _l("Platform admin")},
    "id_type": {"resident_id": _l("Resident ID card"), "passport": _l("Passport"),
                "hk_macau_permit": _l("Mainland travel permit for Hong Kong and Macao residents"),
                "taiwan_permit": _l("Mainland travel permit for Taiwan residents"),
                "foreign_permanent_resident": _l("Foreigner's permanent residence ID card")},
    "gender": {"M": _l("Male"), "F": _l("Female")},
    "unit_category": {"hazchem_production": _l("Hazardous chemicals production unit"),
                      "hazchem_trading": _l("Hazardous chemicals trading unit"),
                      "mine": _l("Metal and non-metal mine"), "fireworks": _l("Fireworks and firecrackers"),
                      "metal_smelting": _l("Metal smelting"), "coal_mine": _l("Coal mine"),
                      "general": _l("General production and business unit")},
    "position": {"principal": _l("Principal responsible person"),
                 "safety_manager": _l("Safety manager"),
                 "special_operator": _l("Special operations worker")},
    "education_level": {"junior_high": _l("Junior high school"),
                        "senior_high": _l("Senior high / technical secondary school"),
                        "college": _l("Junior college"), "bachelor": _l("Bachelor's degree"),
                        "postgraduate": _l("Postgraduate")},
    "training_type": {"initial": _l("Initial training"), "refresher": _l("Re-training / review")},
    "audience": {"principal": _l("Principal responsible person"), "safety_manager": _l("Safety manager"),
                 "special_operation": _l("Special operations")},
    "audience_group": {"manager": _l("Principals and safety managers"),
                       "special_operation": _l("Special operations")},
    "industry_group": {"general": _l("General industry"), "high_risk": _l("High-risk industry")},
    "class_status": {"draft": _l("Draft"), "published": _l("Published")},
    "application_status": {"submitted": _l("Awaiting review"), "returned": _l("Returned"),
                           "approved": _l("Approved")},
    "material": {"photo": _l("1-inch photo (white background)"), "id_document": _l("ID document (front and back)"),
                 "recommendation": _l("Unit recommendation form"), "education": _l("Education certificate")},
    "result": {"success": _l("Success"), "failure": _l("Failure")},
    "course_status": {"draft": _l("Draft"), "published": _l("Published"), "withdrawn": _l("Withdrawn")},
    "video_status": {"pending": _l("Waiting to transcode"), "processing": _l("Transcoding"),
                     "ready": _l("Ready"), "failed": lazy_pgettext("video status", "Failed")},
    "action": {"login": _l("Sign in"), "logout": _l("Sign out"), "session_timeout": _l("Session timed out"),
               "sign_out_everywhere": _l("Signed out on all devices"),
               "register": _l("Registration"), "upload": _l("Upload"), "material_view": _l("Viewed material"),
               "application_submit": _l("Application submitted"),
               "application_resubmit": _l("Application resubmitted"),
               "application_approved": _l("Application approved"),
               "application_returned": _l("Application returned"),
               "class_create": _l("Class created"), "class_publish": _l("Class published"),
               "account_create": _l("Account created"), "password_activation": _l("Account activated"),
               "password_reset": _l("Password reset"), "password_reset_link": _l("Password link issued"),
               "password_link_open": _l("Password link opened"),
               "institution_create": _l("Institution created"), "hours_rule_update": _l("Hours rule changed"),
               "region_split_save": _l("Regional split saved"), "audit_export": _l("Log exported"),
               "study_session_start": _l("Study session started"), "study_session_end": _l("Study session ended"),
               "course_create": _l("Course created"), "lesson_add": _l("Lesson added"),
               "course_published": _l("Course published"),
               "quiz_question_add": _l("Question added"), "quiz_question_edit": _l("Question edited"),
               "quiz_question_remove": _l("Question removed"), "quiz_paper_settings": _l("Test paper set"),
               "quiz_import": _l("Questions imported"), "quiz_export": _l("Question bank exported"),
               "quiz_attempt_start": _l("Test attempt started"), "quiz_attempt_finish": _l("Test attempt ended"), "course_withdrawn": _l("Course withdrawn"),
               "hours_credit": _l("Course hours credited"), "hours_reversal": _l("Course hours taken back"),
               "hours_correction": _l("Hours corrected"), "hours_certificate_issue": _l("Study-hours certificate issued"),
               "hours_certificate_revoke": _l("Study-hours certificate revoked"),
               "hours_certificate_download": _l("Study-hours certificate downloaded"),
               "hours_export": _l("Certificates exported"), "hours_key_rotate": _l("Certificate signing key rotated"),
               "curriculum_add": _l("Course added to curriculum"), "course_self_enrol": _l("Optional course chosen"),
               "face_enrol": _l("Face photo enrolled"), "face_enrol_request": _l("Face photo replacement requested"),
               "face_enrol_decision": _l("Face photo replacement decided"), "face_check": _l("Face check"),
               "face_appeal": _l("Face check appealed"), "face_review_decision": _l("Face check reviewed"),
               "face_evidence_view": _l("Viewed face check frames"),
               "face_check_fallback": _l("Face check by two photos (no camera found)")},
    "face_status": {"open": _l("Due"), "passed": _l("Passed"), "review": _l("In staff review"),
                    "failed": lazy_pgettext("face check", "Failed"), "missed": _l("Missed")},
    "question_kind": {"true_false": _l("True/false"), "single": _l("Single choice"),
                      "multiple": _l("Multiple choice")},
    "attempt_end": {"submitted": _l("Answered to the end"), "expired": _l("Ran out of time"),
                    "face_failed": _l("Ended: face check failed"), "face_missed": _l("Ended: face check missed"),
                    "face_review_failed": _l("Face check judged failed on review")},
    "quiz_check_purpose": {"start": _l("Before the test"), "random": _l("Random check during the test")},
    "face_purpose": {"start": _l("Start of study"), "random": _l("Random check"), "in_video": _l("Check inside the video")},
    # What an answer consisted of, as the server received and judged it (see attempt_source).
    "face_mode": {"camera": _l("%(count)s frames in sequence (judged by the head-turn challenge)"),
                  "photos": _l("%(count)s photos (judged by the head-turn challenge)")},
    "face_outcome": {"pass": _l("Passed"), "doubtful": _l("Doubtful"), "fail": lazy_pgettext("face check", "Failed")},
    "face_liveness": {"ok": _l("Live"), "identical": _l("Identical frames"), "no_motion": _l("No motion"),
                      "challenge": _l("Not as asked"), "flat": _l("Flat picture")},
    "face_action": {"left": _l("Turn to own left"), "right": _l("Turn to own right")},
    "face_reason": {"no_face": _l("No face"), "multiple_faces": _l("Several faces"), "face_too_small": _l("Face too small"),
                    "mismatch": _l("Different person"), "identical": _l("Identical frames"),
                    "no_motion": _l("No motion"), "doubtful": _l("Near the threshold"), "overdue": _l("Not answered in time"),
                    "challenge": _l("Not as asked"), "flat": _l("Flat picture"), "replayed": _l("Pictures sent before"),
                    "stale": _l("Answer to another try"), "late": _l("Answer too late"),
                    "early": _l("Answer sooner than possible"),
                    "photo_fallback": _l("Photos instead of the camera, waiting for staff")},
    "face_review_kind": {"doubtful": _l("Doubtful result"), "appeal": _l("Appeal"),
                         "photo_fallback": _l("Photos instead of the camera")},
    "face_review_decision": {None: _l("Waiting"), "passed": _l("Passed"),
                             "failed": lazy_pgettext("face review decision", "Failed")},
    "enrolment_status": {"active": _l("In use"), "pending": _l("Waiting for approval"), "rejected": _l("Rejected"),
                         "superseded": _l("Replaced")},
    "audit_detail": {"unknown_account": _l("Unknown account"), "locked": _l("Account locked"),
                     "wrong_password": _l("Wrong password"),
                     "wrong_password_locked": _l("Wrong password; account locked"),
                     "disabled": _l("Account disabled"), "idle": _l("No activity"), "logout": _l("Signed out"),
                     "face_failed": _l("Face check failed"), "face_missed": _l("Face check missed")},
}


def label(kind: str, code) -> str:
    value = LABELS.get(kind, {}).get(code)
    return str(value) if value is not None else (code or "")


def attempt_source(mode: str, frames: int) -> str:
    """What one face-check answer was, by what the server received and checked: ``frames`` pictures,
    judged as a timed sequence (mode "camera") or as photos. Never "camera": that the page found one is
    its own claim (POST .../challenges {"camera": true}), and a script can post frames just as well."""
    text = LABELS["face_mode"].get(mode)
    return str(text) % {"count": frames} if text is not None else (mode or "")


def choices(kind: str) -> list[tuple[str, str]]:
    return list(LABELS[kind].items())
