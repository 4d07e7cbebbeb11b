"""Response headers that protect every page: the Content-Security-Policy (and templates that can live under
it), HSTS over HTTPS, links built behind the README's nginx, and no-store on everything that may carry
personal data. Real app, real database; tests/browser/test_csp.py checks the policy in a real browser."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from lms.app import create_app
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.extensions import db as _db
from lms.proctor.models import FaceEnrolment

from .conftest import PASSWORD, ROOT, login, ready_course, signed_in
from .face_frames import following

PUBLIC_HOST = "px.example.cn"
LMS_ROOT = ROOT / "lms"


# --- Content-Security-Policy ------------------------------------------------------------------------

def directives(response) -> dict[str, set[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *values = part.split()
        parsed[name] = set(values)
    return parsed


def test_every_page_forbids_inline_script_plugins_foreign_forms_and_framing(client, learner_client):
    for response in (client.get("/login"), client.get("/register"), client.get("/no-such-page"),
                     learner_client.get("/me"), client.get("/static/css/app.css")):
        policy = directives(response)
        assert policy.get("script-src") == {"'self'"}, response.request.path
        assert policy.get("style-src") == {"'self'"}
        assert policy.get("object-src") == {"'none'"}
        assert policy.get("base-uri") == {"'self'"}
        assert policy.get("frame-ancestors") == {"'self'"}
        assert policy.get("form-action") == {"'self'"}
        assert policy.get("default-src") == {"'self'"}
        assert policy.get("connect-src") == {"'self'"}
        assert policy.get("img-src") == {"'self'", "blob:"}  # blob: for the face-check photo fallback
        assert not any("unsafe" in value for values in policy.values() for value in values)
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)


def test_no_template_holds_inline_script_event_handler_or_style_the_policy_would_block():
    """A new inline script or style= would silently stop working under the policy: catch it here."""
    offences = []
    for template in sorted(LMS_ROOT.rglob("templates/**/*.html")):
        source = template.read_text(encoding="utf-8")
        for name, pattern in (("inline <script>", INLINE_SCRIPT), ("on*= handler", EVENT_HANDLER),
                              ("style= attribute", STYLE_ATTRIBUTE), ("<style> block", re.compile(r"<style", re.I)),
                              ("javascript: URL", re.compile(r"javascript:", re.I))):
            offences += [f"{template.relative_to(ROOT)}: {name}" for _ in pattern.finditer(source)]
    assert offences == []


# --- HSTS ---------------------------------------------------------------------------------------------

HSTS = "max-age=31536000; includeSubDomains"


def test_hsts_is_sent_over_https_only_and_only_when_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_HSTS", HSTS)
    assert client.get("/login", base_url="https://localhost").headers.get("Strict-Transport-Security") == HSTS
    assert "Strict-Transport-Security" not in client.get("/login", base_url="http://localhost").headers
    monkeypatch.setitem(app.config, "LMS_HSTS", None)
    assert "Strict-Transport-Security" not in client.get("/login", base_url="https://localhost").headers


def test_production_config_asks_for_a_year_of_hsts_with_subdomains():
    import config.production
    assert config.production.LMS_HSTS == HSTS


# --- links behind the README's nginx ------------------------------------------------------------------

def readme_nginx_headers() -> dict[str, str]:
    """The proxy_set_header lines of the README's `location /` block (section "Serving videos through nginx")."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Serving videos through nginx", 1)[1].split("\n## ", 1)[0]
    block = section[section.index("location / {"):]
    block = block[:block.index("}")]
    return {name: value.strip('"') for name, value in re.findall(r"proxy_set_header\s+(\S+)\s+([^;]*);", block)}


def through_nginx(client_headers: dict[str, str]) -> dict[str, str]:
    """What nginx sends upstream for an HTTPS request: the client's own headers, Host replaced by the
    proxy_pass address unless the config sets it, then each proxy_set_header (an empty value drops the header)."""
    variables = {"$host": client_headers["Host"], "$scheme": "https", "$remote_addr": "203.0.113.9",
                 "$proxy_host": "127.0.0.1:8000"}
    upstream = dict(client_headers, Host=variables["$proxy_host"])
    for name, value in readme_nginx_headers().items():
        for variable, replacement in variables.items():
            value = value.replace(variable, replacement)
        if value:
            upstream[name] = value
        else:
            upstream.pop(name, None)
    return upstream


@pytest.fixture()
def proxied_app(app):
    """The app as production builds it behind one trusted proxy (LMS_TRUSTED_PROXIES=1), on the same
    database; rate limiting stays off as in the rest of the suite."""
    proxied = create_app("testing", dict(app.config, LMS_TRUSTED_PROXIES=1, RATELIMIT_ENABLED=False))
    yield proxied
    with proxied.app_context():
        _db.engine.dispose()  # its own connection pool; the session app's stays


def test_activation_link_made_behind_the_readme_nginx_carries_the_public_host_and_https(proxied_app, admin,
                                                                                        institution):
    # A hostile client adds its own X-Forwarded-Host: a link pointing there would hand the token to it.
    headers = through_nginx({"Host": PUBLIC_HOST, "X-Forwarded-Host": "evil.example",
                             "User-Agent": "pytest"})
    client = proxied_app.test_client()
    signed = client.post("/login", data={"identifier": admin.username, "password": PASSWORD}, headers=headers)
    assert signed.status_code == 302
    page = client.post("/accounts", headers=headers, data={
        "username": "li.staff", "display_name": "李老师", "role": "staff", "institution_id": institution.id,
        "region_code": ""}).get_data(as_text=True)
    link = re.search(r'id="activation-link">\s*([^<\s]+)', page).group(1)
    assert link.startswith(f"https://{PUBLIC_HOST}/one-time-link#")


# --- no-store on everything but static assets ---------------------------------------------------------

def sample_path(rule) -> str:
    """A URL for ``rule`` with placeholder arguments: whatever the answer (page, 403, 404, 405, redirect),
    it must not be stored."""
    values = {arg: 1 if isinstance(rule._converters[arg], IntegerConverter) else "x" for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def is_static(rule) -> bool:
    return rule.endpoint == "static" or rule.endpoint.endswith(".static")


def assert_not_stored(response, what):
    assert response.headers.get("Cache-Control") in ("no-store", "private, no-store"), what
    assert response.headers.get("Pragma") == "no-cache", what


def test_every_route_answers_no_store_to_each_role(app, client, learner_client, staff_client, regulator_client,
                                                    admin_client):
    rules = [rule for rule in app.url_map.iter_rules() if not is_static(rule)]
    assert len(rules) > 40
    for role, each in (("anonymous", client), ("learner", learner_client), ("staff", staff_client),
                       ("regulator", regulator_client), ("admin", admin_client)):
        for rule in rules:
            path = sample_path(rule)
            assert_not_stored(each.get(path), f"GET {path} as {role}")
    assert_not_stored(client.post("/register", data={"name": "王建国", "id_number": "440604197403121235"}),
                      "registration form shown again with what was typed")


def test_static_assets_stay_cacheable(client):
    for path in ("/static/css/app.css", "/player/static/player.js", "/registration/static/register.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path


@pytest.fixture()
def checked_lesson(db, staff, open_class, approved_learner, short_video, face_checks_on):
    """A learner who passed a face check in a lesson: frames, an enrolment photo and study records exist."""
    from lms.player import services
    from lms.proctor import attempts
    from lms.proctor.models import OPEN, PASSED, FaceCheck
    lesson = ready_course(db, staff, open_class, [short_video]).lessons[0]
    me = Actor(approved_learner.user, "10.0.0.9", "pytest")
    services.start_playback(approved_learner, lesson, utcnow(), me)
    check = db.session.scalar(select(FaceCheck).where(FaceCheck.learner_id == approved_learner.id,
                                                      FaceCheck.status == OPEN))
    now = utcnow()
    challenge = attempts.issue_challenge(check, True, now, me)
    answered = now + timedelta(seconds=4)   # the page takes 3.15 s to take its frames
    assert attempts.submit_attempt(check, following(challenge), challenge.nonce, answered, me).status == PASSED
    return lesson


def test_personal_data_pages_images_and_exports_are_not_stored(app, db, checked_lesson, approved_learner, staff,
                                                              regulator):
    learner_id = approved_learner.id
    staff_client = signed_in(app, staff.username)
    evidence = staff_client.get(f"/learners/{learner_id}/face-checks")
    frame = re.search(r'/proctor/checks/\d+/frames/\d+\.jpg', evidence.get_data(as_text=True)).group(0)
    enrolment = db.session.scalar(select(FaceEnrolment).where(FaceEnrolment.learner_id == learner_id))
    personal = {
        staff_client: [f"/learners/{learner_id}/face-checks", frame, f"/proctor/enrolments/{enrolment.id}/photo",
                       f"/learners/{learner_id}/materials/photo", f"/learners/{learner_id}/study",
                       "/applications", "/audit/export.csv"],
        signed_in(app, regulator.username): ["/audit/export.csv", f"/learners/{learner_id}/study"],
        signed_in(app, approved_learner.id_number): ["/me", "/me/materials", "/me/face", "/study",
                                                     f"/study/lessons/{checked_lesson.id}"],
    }
    for each, paths in personal.items():
        for path in paths:
            response = each.get(path)
            assert response.status_code == 200, path
            assert_not_stored(response, path)


def test_a_response_that_signs_out_is_not_stored_either(client, learner):
    login(client, learner.id_number)
    assert_not_stored(client.post("/logout"), "sign-out")
