"""Translated display names for the codes stored in the database."""
from flask_babel import lazy_gettext as _l

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
                     "ready": _l("Ready"), "failed": _l("Failed")},
    "action": {"login": _l("Sign in"), "logout": _l("Sign out"), "session_timeout": _l("Session timed out"),
               "register": _l("Registration"), "upload": _l("Upload"), "material_view": _l("Viewed material"),
               "application_submit": _l("Application submitted"),
               "application_resubmit": _l("Application resubmitted"),
               "application_approved": _l("Application approved"),
               "application_returned": _l("Application returned"),
               "class_create": _l("Class created"), "class_publish": _l("Class published"),
               "account_create": _l("Account created"), "password_activation": _l("Account activated"),
               "password_reset": _l("Password reset"), "password_reset_link": _l("Password link issued"),
               "institution_create": _l("Institution created"), "hours_rule_update": _l("Hours rule changed"),
               "region_split_save": _l("Regional split saved"), "audit_export": _l("Log exported"),
               "study_session_start": _l("Study session started"), "study_session_end": _l("Study session ended"),
               "course_create": _l("Course created"), "lesson_add": _l("Lesson added"),
               "course_published": _l("Course published"), "course_withdrawn": _l("Course withdrawn"),
               "curriculum_add": _l("Course added to curriculum"), "course_self_enrol": _l("Optional course chosen")},
    "audit_detail": {"unknown_account": _l("Unknown account"), "locked": _l("Account locked"),
                     "wrong_password": _l("Wrong password"),
                     "wrong_password_locked": _l("Wrong password; account locked"),
                     "disabled": _l("Account disabled"), "idle": _l("No activity"), "logout": _l("Signed out")},
}


def label(kind: str, code) -> str:
    value = LABELS.get(kind, {}).get(code)
    return str(value) if value is not None else (code or "")


def choices(kind: str) -> list[tuple[str, str]]:
    return list(LABELS[kind].items())
