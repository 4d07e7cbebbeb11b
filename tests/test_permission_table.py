"""Every route, every kind of user: who may and who may not, in one table.

A row names a route (endpoint and method), the URL of one target in the world of
tests/permission_world.py, and the actors allowed. Every other actor must be refused (403 or 404,
or sent to sign in). A route that has no row fails test_every_route_has_a_row, so a new route
cannot ship without a decision about who may use it.

Refusals run first, on an untouched world; then the allowed requests, with the ones that end
the actor's session last.
"""
from dataclasses import dataclass

import pytest

from .conftest import _empty_tables, signed_in
from .permission_world import ACTORS, build_world

ALL = frozenset(ACTORS)
SIGNED_IN = ALL - {"anonymous"}
LEARNERS = frozenset({"learner", "other_learner"})
STAFF = frozenset({"staff_approving", "staff_applied", "staff_unrelated"})
REGULATORS = frozenset({"regulator", "other_regulator"})
ADMIN = frozenset({"admin"})
# Who sees the learner's record: every institution the learner applied to, the region, the admin.
SEES_LEARNER = frozenset({"staff_approving", "staff_applied", "regulator", "admin"})
# Who acts on the learner's account (password, face photo) or owns the learner's checks.
ACTS_FOR_LEARNER = frozenset({"staff_approving", "admin"})
ENDS_SESSION = {"accounts.logout", "accounts.sign_out_everywhere"}
EXEMPT_ENDPOINTS = {"static", "player.static", "proctor.static", "registration.static", "quiz.static", "hours.static",
                    "accounts.static"}


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    path: str                 # formatted with the world's ids
    allowed: frozenset
    json: bool = False        # send a JSON body instead of a form
    body: tuple = ()          # (field, world key) pairs to send


TABLE = [
    Row("accounts.index", "GET", "/", ALL),
    Row("accounts.login", "GET", "/login", ALL),
    Row("accounts.login", "POST", "/login", ALL),
    Row("accounts.set_password", "GET", "/set-password/not-a-token", ALL),
    Row("accounts.open_link", "GET", "/one-time-link", ALL),
    Row("accounts.open_link", "POST", "/one-time-link", ALL),
    Row("accounts.set_password_form", "GET", "/set-password", ALL),
    Row("accounts.set_password_form", "POST", "/set-password", ALL),
    Row("accounts.manage", "GET", "/accounts", STAFF | ADMIN),
    Row("accounts.manage", "POST", "/accounts", STAFF | ADMIN),
    Row("accounts.reset_link", "POST", "/accounts/{learner_user}/reset-link", ACTS_FOR_LEARNER),
    Row("accounts.reset_link", "POST", "/accounts/{colleague_user}/reset-link", {"staff_approving", "admin"}),
    Row("accounts.logout", "POST", "/logout", SIGNED_IN),
    Row("accounts.sign_out_everywhere", "POST", "/sign-out-everywhere", SIGNED_IN),
    Row("admin.home", "GET", "/admin/", ADMIN),
    Row("admin.institutions", "GET", "/admin/institutions", ADMIN),
    Row("admin.institutions", "POST", "/admin/institutions", ADMIN),
    Row("admin.hours", "GET", "/admin/hours", ADMIN),
    Row("admin.hours", "POST", "/admin/hours", ADMIN),
    Row("admin.update_rule", "POST", "/admin/hours/rules/{rule}", ADMIN),
    Row("audit.log", "GET", "/audit", STAFF | REGULATORS | ADMIN),
    Row("audit.export", "GET", "/audit/export.csv", STAFF | REGULATORS | ADMIN),
    Row("catalogue.qualifications", "GET", "/catalogue", SIGNED_IN),
    Row("institutions.dashboard", "GET", "/institution", STAFF),
    Row("institutions.overview", "GET", "/region", REGULATORS),
    Row("institutions.classes", "GET", "/classes", SIGNED_IN),
    Row("institutions.new_class", "GET", "/classes/new", STAFF),
    Row("institutions.new_class", "POST", "/classes/new", STAFF),
    Row("institutions.class_detail", "GET", "/classes/{class_a}", LEARNERS | {"staff_approving", "regulator", "admin"}),
    Row("institutions.publish", "POST", "/classes/{class_a}/publish", {"staff_approving"}),
    Row("institutions.apply", "POST", "/classes/{class_a}/apply", LEARNERS),
    Row("institutions.applications", "GET", "/applications", STAFF | REGULATORS | ADMIN),
    Row("institutions.application_detail", "GET", "/applications/{application_a}",
        {"staff_approving", "regulator", "admin"}),
    Row("institutions.application_detail", "GET", "/applications/{application_b}",
        {"staff_applied", "regulator", "admin"}),
    Row("institutions.approve", "POST", "/applications/{application_b}/approve", {"staff_applied", "admin"}),
    Row("institutions.return_", "POST", "/applications/{application_b}/return", {"staff_applied", "admin"}),
    Row("registration.register", "GET", "/register", ALL),
    Row("registration.register", "POST", "/register", ALL),
    Row("learners.home", "GET", "/me", LEARNERS),
    Row("registration.materials", "GET", "/me/materials", LEARNERS),
    Row("registration.materials", "POST", "/me/materials", LEARNERS),
    Row("learners.material_file", "GET", "/learners/{learner}/materials/photo", SEES_LEARNER | {"learner"}),
    Row("player.courses", "GET", "/courses", STAFF),
    Row("player.new_course", "GET", "/courses/new", STAFF),
    Row("player.new_course", "POST", "/courses/new", STAFF),
    Row("player.course_detail", "GET", "/courses/{course_a}", {"staff_approving"}),
    Row("player.course_detail", "POST", "/courses/{course_a}", {"staff_approving"}),
    Row("player.course_status", "POST", "/courses/{course_a}/status", {"staff_approving"}),
    Row("player.video_status", "GET", "/courses/{course_a}/videos.json", {"staff_approving"}),
    Row("player.curriculum", "GET", "/classes/{class_a}/curriculum", {"staff_approving"}),
    Row("player.curriculum", "POST", "/classes/{class_a}/curriculum", {"staff_approving"}),
    Row("player.learner_study", "GET", "/learners/{learner}/study", SEES_LEARNER),
    Row("player.study", "GET", "/study", LEARNERS),
    Row("player.course_page", "GET", "/study/courses/{course_a}", {"learner"}),
    Row("player.enrol", "POST", "/study/courses/{course_a}/enrol", {"learner"}),
    Row("player.lesson_page", "GET", "/study/lessons/{lesson_a}", {"learner"}),
    Row("player.media", "GET", "{media_url}", {"learner"}),
    Row("player.api_ping", "GET", "/api/ping", ALL),
    Row("player.api_start", "POST", "/api/player/start", {"learner"}, json=True, body=(("lesson_id", "lesson_a"),)),
    Row("player.api_heartbeat", "POST", "/api/player/heartbeat", LEARNERS, json=True),
    Row("player.api_still_here", "POST", "/api/player/still-here", LEARNERS, json=True),
    Row("player.api_idle_timeout", "POST", "/api/player/idle-timeout", LEARNERS, json=True),
    Row("quiz.bank_list", "GET", "/quiz/courses/{course_a}/bank", {"staff_approving"}),
    Row("quiz.new_question", "GET", "/quiz/courses/{course_a}/bank/new", {"staff_approving"}),
    Row("quiz.new_question", "POST", "/quiz/courses/{course_a}/bank/new", {"staff_approving"}),
    Row("quiz.edit_question", "GET", "/quiz/courses/{course_a}/bank/{question_a}/edit", {"staff_approving"}),
    Row("quiz.edit_question", "POST", "/quiz/courses/{course_a}/bank/{question_a}/edit", {"staff_approving"}),
    Row("quiz.remove_question", "POST", "/quiz/courses/{course_a}/bank/{question_a}/remove", {"staff_approving"}),
    Row("quiz.import_questions", "GET", "/quiz/courses/{course_a}/bank/import", {"staff_approving"}),
    Row("quiz.import_questions", "POST", "/quiz/courses/{course_a}/bank/import", {"staff_approving"}),
    Row("quiz.export_xlsx", "GET", "/quiz/courses/{course_a}/bank/export.xlsx", {"staff_approving"}),
    Row("quiz.export_csv", "GET", "/quiz/courses/{course_a}/bank/export.csv", {"staff_approving"}),
    Row("quiz.import_template", "GET", "/quiz/courses/{course_a}/bank/template.xlsx", {"staff_approving"}),
    Row("quiz.paper_settings", "GET", "/quiz/courses/{course_a}/paper", {"staff_approving"}),
    Row("quiz.paper_settings", "POST", "/quiz/courses/{course_a}/paper", {"staff_approving"}),
    Row("quiz.paper_preview", "GET", "/quiz/courses/{course_a}/paper/preview", {"staff_approving"}),
    Row("quiz.practice_home", "GET", "/quiz/courses/{course_a}/practice", {"learner"}),
    Row("quiz.practice_sequential", "GET", "/quiz/courses/{course_a}/practice/sequential", {"learner"}),
    Row("quiz.practice_answer", "POST", "/quiz/courses/{course_a}/practice/questions/{question_a}/answer", {"learner"}),
    Row("quiz.practice_favourite", "POST", "/quiz/courses/{course_a}/practice/questions/{question_a}/favourite",
        {"learner"}),
    Row("quiz.practice_question", "GET", "/quiz/courses/{course_a}/practice/questions/{question_a}", {"learner"}),
    Row("quiz.practice_wrong", "GET", "/quiz/courses/{course_a}/practice/wrong", {"learner"}),
    Row("quiz.practice_wrong_replay", "GET", "/quiz/courses/{course_a}/practice/wrong/replay", {"learner"}),
    Row("quiz.practice_favourites", "GET", "/quiz/courses/{course_a}/practice/favourites", {"learner"}),
    Row("quiz.practice_search", "GET", "/quiz/courses/{course_a}/practice/search", {"learner"}),
    Row("quiz.practice_mock", "GET", "/quiz/courses/{course_a}/practice/mock", {"learner"}),
    Row("quiz.practice_mock", "POST", "/quiz/courses/{course_a}/practice/mock", {"learner"}),
    Row("quiz.test_home", "GET", "/quiz/courses/{course_a}/test", {"learner"}),
    Row("quiz.start_test", "POST", "/quiz/courses/{course_a}/test/start", {"learner"}),
    Row("quiz.sit", "GET", "/quiz/attempts/{attempt_a}/sit", {"learner"}),
    Row("quiz.api_next", "POST", "/quiz/api/attempts/{attempt_a}/next", {"learner"}, json=True),
    Row("quiz.api_answer", "POST", "/quiz/api/attempts/{attempt_a}/answer", {"learner"}, json=True),
    Row("quiz.attempt_record", "GET", "/quiz/attempts/{attempt_a}", {"learner", "staff_approving", "regulator", "admin"}),
    Row("quiz.my_results", "GET", "/quiz/results", LEARNERS),
    Row("quiz.learner_results", "GET", "/quiz/learners/{learner}/results", SEES_LEARNER),
    Row("quiz.course_results", "GET", "/quiz/courses/{course_a}/results", {"staff_approving", "admin"}),
    Row("proctor.my_face", "GET", "/me/face", LEARNERS),
    Row("proctor.my_face", "POST", "/me/face", LEARNERS),
    Row("proctor.appeal", "POST", "/me/face/checks/{check_failed}/appeal", {"learner"}),
    Row("proctor.api_challenge", "POST", "/api/proctor/checks/{check_in_review}/challenges", {"learner"}, json=True),
    Row("proctor.api_attempt", "POST", "/api/proctor/checks/{check_in_review}/attempts", {"learner"}, json=True),
    Row("proctor.learner_checks", "GET", "/learners/{learner}/face-checks", SEES_LEARNER),
    Row("proctor.frame", "GET", "/proctor/checks/{check_in_review}/frames/{frame}.jpg",
        {"learner", "staff_approving", "regulator", "admin"}),
    Row("proctor.enrolment_photo", "GET", "/proctor/enrolments/{replacement}/photo", SEES_LEARNER | {"learner"}),
    Row("proctor.reviews", "GET", "/proctor/reviews", STAFF | ADMIN),
    Row("hours.my_hours", "GET", "/hours/", LEARNERS),
    Row("hours.study_record_pdf", "GET", "/hours/me/study-record.pdf", LEARNERS),
    Row("hours.test_results_pdf", "GET", "/hours/me/test-results.pdf", LEARNERS),
    Row("hours.certificate_page", "GET", "/hours/certificates/{certificate}", {"learner", "staff_approving",
                                                                                "regulator", "admin"}),
    Row("hours.certificate_pdf", "GET", "/hours/certificates/{certificate}.pdf", {"learner", "staff_approving",
                                                                                   "regulator", "admin"}),
    Row("hours.revoke_certificate", "POST", "/hours/certificates/{certificate}/revoke", {"staff_approving", "admin"}),
    Row("hours.class_hours", "GET", "/hours/classes/{class_a}", {"staff_approving", "regulator", "admin"}),
    Row("hours.learner_hours", "GET", "/hours/learners/{learner}", SEES_LEARNER),
    Row("hours.correct_hours", "POST", "/hours/learners/{learner}/courses/{course_a}/corrections",
        {"staff_approving"}),
    Row("hours.export_form", "GET", "/hours/export", STAFF | REGULATORS | ADMIN),
    Row("hours.export_range", "GET", "/hours/export.zip", STAFF | REGULATORS | ADMIN),
    Row("hours.export_class", "GET", "/hours/classes/{class_a}/export.zip", {"staff_approving", "regulator", "admin"}),
    Row("hours.verify_scanned", "GET", "{scanned}", ALL),
    Row("hours.verify_form", "GET", "/hours/verify", ALL),
    Row("hours.api_verify", "GET", "/hours/api/verify?number=XS2026NOTHERE1", ALL),
    Row("hours.public_keys", "GET", "/hours/keys.json", ALL),
    Row("proctor.review", "GET", "/proctor/reviews/{review}", {"staff_approving", "regulator", "admin"}),
    Row("proctor.review", "POST", "/proctor/reviews/{review}", ACTS_FOR_LEARNER),
    Row("proctor.enrolment_request", "GET", "/proctor/enrolments/{replacement}", ACTS_FOR_LEARNER),
    Row("proctor.enrolment_request", "POST", "/proctor/enrolments/{replacement}", ACTS_FOR_LEARNER),
]


def _cases():
    refusals, allowed, last = [], [], []
    for row in TABLE:
        for actor in ACTORS:
            case = pytest.param(row, actor, id=f"{row.endpoint}-{row.method}-{row.path}-{actor}")
            if actor not in row.allowed:
                refusals.append(case)
            elif row.endpoint in ENDS_SESSION:
                last.append(case)
            else:
                allowed.append(case)
    return refusals + allowed + last


@pytest.fixture(scope="module")
def world(app, tmp_path_factory):
    import shutil

    from lms.extensions import db

    from .conftest import make_video
    video = make_video(tmp_path_factory.mktemp("world") / "lesson.mp4", 2)
    with app.app_context():
        built = build_world(db, video)
        yield built
        db.session.remove()
        _empty_tables()
    shutil.rmtree(app.config["MEDIA_ROOT"], ignore_errors=True)


@pytest.fixture(scope="module")
def clients(app, world):
    signed = {actor: signed_in(app, identifier) for actor, identifier in world.logins.items()}
    return dict(signed, anonymous=app.test_client())


def _refused(response) -> bool:
    """403/404, or sent to sign in first (Flask-Login adds ``next``; a plain redirect to /login after
    signing out is the success of logout)."""
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("Location", "")
    return response.status_code in (302, 303) and "/login" in location and "next=" in location


@pytest.mark.parametrize(("row", "actor"), _cases())
def test_route_permission(row, actor, world, clients):
    path = row.path.format(**world.ids)
    client = clients[actor]
    if row.endpoint in ENDS_SESSION and actor in world.logins:
        client = signed_in(client.application, world.logins[actor])  # its own session to end
    body = {name: world[key] for name, key in row.body}
    kwargs = {"json": body} if row.json else {"data": body}
    response = client.open(path, method=row.method, **({} if row.method == "GET" else kwargs))
    assert response.status_code < 500, response.status_code
    if actor in row.allowed:
        assert not _refused(response), f"{actor} was refused: {response.status_code} {response.headers.get('Location')}"
    else:
        assert _refused(response), f"{actor} was let through: {response.status_code}"


def test_every_route_has_a_row(app):
    covered = {(row.endpoint, row.method) for row in TABLE}
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods
              if method not in ("HEAD", "OPTIONS") and rule.endpoint not in EXEMPT_ENDPOINTS}
    missing = sorted(routes - covered)
    assert not missing, f"routes without a row in the permission table: {missing}"
    assert not covered - routes, f"rows for routes that do not exist: {sorted(covered - routes)}"
