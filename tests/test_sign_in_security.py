"""Sessions and sign-in: server-side sessions, resets, timing, per-address lockout, redirects,
one-time links kept out of URLs, and usernames that cannot pass for identity documents."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.accounts.services import LoginPolicy, authenticate, create_account, set_password
from lms.audit.models import AuditLog
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.core.errors import RuleViolation
from lms.core.iddocs import parse_document
from lms.core.roles import STAFF
from lms.learners.services import Profile

from .conftest import PASSWORD, csrf_token_from, login, register, signed_in

POLICY = LoginPolicy(max_failures=3, lock_minutes=15)
COOKIE = "lms_session"
NEW_PASSWORD = "Renewed#Pass9"


def _saved_cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def _client_with_cookie(app, value):
    replay = app.test_client()
    replay.set_cookie(COOKIE, value)
    return replay


def _is_sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _notices(page: str) -> str:
    return " ".join(re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', page, re.S))


def _issue_reset_link(staff_client, learner) -> str:
    page = staff_client.post(f"/accounts/{learner.user_id}/reset-link").get_data(as_text=True)
    return re.search(r'id="reset-link">\s*([^<\s]+)', page).group(1)


def _choose_password_through(app, link: str, password: str):
    """What a browser does with the link: open its page, post the token from the fragment (the page's
    script), then choose the password where that leads."""
    client = app.test_client()
    path, _, token = ("/" + link.split("://", 1)[-1].split("/", 1)[1]).partition("#")
    assert client.get(path).status_code == 200
    landing = client.post(path, data={"token": token})
    assert landing.status_code == 302
    return client.post(landing.headers["Location"], data={"password": password, "confirm": password})


# 1. Logout ends the session on the server ------------------------------------------------

def test_cookie_replayed_after_logout_is_refused(app, staff_client):
    saved = _saved_cookie(staff_client)
    assert staff_client.get("/institution").status_code == 200
    assert staff_client.post("/logout").status_code == 302
    assert _is_sent_to_sign_in(_client_with_cookie(app, saved).get("/institution"))


def test_cookie_replayed_after_idle_timeout_is_refused(app, staff_client):
    saved = _saved_cookie(staff_client)
    with staff_client.session_transaction() as session:
        session["last_seen"] = (utcnow() - timedelta(minutes=app.config["LMS_SESSION_IDLE_MINUTES"] + 1)).timestamp()
    assert _is_sent_to_sign_in(staff_client.get("/institution"))
    assert _is_sent_to_sign_in(_client_with_cookie(app, saved).get("/institution"))


# 2. Sign out all devices -----------------------------------------------------------------

def test_sign_out_all_devices_ends_every_session_of_the_account(app, db, learner):
    phone, computer = signed_in(app, learner.id_number), signed_in(app, learner.id_number)
    home = phone.get("/me").get_data(as_text=True)
    assert 'action="/sign-out-everywhere"' in home and "退出所有设备" in home
    assert phone.post("/sign-out-everywhere").status_code == 302
    assert _is_sent_to_sign_in(phone.get("/me"))
    assert _is_sent_to_sign_in(computer.get("/me"))
    assert db.session.query(AuditLog).filter_by(action="sign_out_everywhere", user_id=learner.user_id).count() == 1
    assert login(phone, learner.id_number).status_code == 302  # signing in again still works


def test_sign_out_all_devices_needs_the_csrf_token(app, learner_client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert learner_client.post("/sign-out-everywhere").status_code == 400
        token = csrf_token_from(learner_client.get("/me").get_data(as_text=True))
        assert learner_client.post("/sign-out-everywhere", data={"csrf_token": token}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _is_sent_to_sign_in(learner_client.get("/me"))


# 3. A password reset ends every session and the learner is told -----------------------

def test_password_reset_ends_every_session_of_the_account(app, db, approved_learner, staff_client):
    learner = approved_learner
    learner_client = signed_in(app, learner.id_number)
    saved = _saved_cookie(learner_client)
    link = _issue_reset_link(staff_client, learner)
    assert _choose_password_through(app, link, NEW_PASSWORD).status_code == 302
    assert _is_sent_to_sign_in(learner_client.get("/me"))
    assert _is_sent_to_sign_in(_client_with_cookie(app, saved).get("/me"))


def test_learner_is_told_once_who_reset_their_password(app, db, approved_learner, staff_client):
    learner = approved_learner
    link = _issue_reset_link(staff_client, learner)
    _choose_password_through(app, link, NEW_PASSWORD)
    client = app.test_client()
    assert login(client, learner.id_number, NEW_PASSWORD).status_code == 302
    notice = _notices(client.get("/me").get_data(as_text=True))
    assert "您的密码已于" in notice and "佛山市测试培训中心" in notice and "staff.one" in notice
    client.post("/logout")
    login(client, learner.id_number, NEW_PASSWORD)
    assert "您的密码已于" not in _notices(client.get("/me").get_data(as_text=True))


def test_learner_is_told_a_reset_link_was_issued_for_them(app, db, approved_learner, staff_client):
    learner = approved_learner
    _issue_reset_link(staff_client, learner)
    assert db.session.query(AuditLog).filter_by(action="password_reset_link",
                                                target=f"user:{learner.user_id}").count() == 1
    client = signed_in(app, learner.id_number)  # the link was never used: the old password still works
    notice = _notices(client.get("/me").get_data(as_text=True))
    assert "重置密码的链接" in notice and "staff.one" in notice


# 4. Same time and same answer whether or not the account exists -------------------------

def _hash_checks(monkeypatch) -> list[str]:
    """Records each password-hash verification authenticate makes: the method and cost of the hash checked."""
    from lms.accounts import services
    seen, real = [], services.check_password_hash

    def recorded(pwhash, password):
        seen.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)
    monkeypatch.setattr(services, "check_password_hash", recorded)
    return seen


def test_unknown_account_costs_the_same_hash_check_as_a_wrong_password(app, db, staff, actor, monkeypatch):
    # What makes the two answers take equally long is checked, not the time itself (on a loaded machine a
    # timing comparison is a coin toss): one verification each, of a hash of the same method and cost.
    monkeypatch.setitem(app.config, "LMS_TEST_PASSWORD_HASH_METHOD", "scrypt")   # the cost production pays
    set_password(staff, PASSWORD)
    db.session.commit()
    seen = _hash_checks(monkeypatch)
    for identifier in ("staff.one", "nobody.here"):
        assert authenticate(identifier, "Wrong#guess1", utcnow(), actor, LoginPolicy(max_failures=100)).user is None
    assert len(seen) == 2 and seen[0] == seen[1] and seen[0].startswith("scrypt:"), seen


def test_locked_account_answered_with_a_wrong_password_looks_like_any_failure(client, staff):
    for _ in range(3):
        login(client, "staff.one", "wrong")
    answer = login(client, "staff.one", "still-wrong").get_data(as_text=True)
    assert "账号或密码错误" in answer and "锁定" not in answer
    assert "账号或密码错误" in login(client, "nobody.here", "wrong").get_data(as_text=True)
    assert "账号已锁定" in login(client, "staff.one", PASSWORD).get_data(as_text=True)


# 5. Lockout per account and source address ----------------------------------------------

def test_failures_from_one_address_do_not_lock_sign_in_from_another(db, staff):
    stranger, owner = Actor(None, "203.0.113.9", "curl"), Actor(None, "198.51.100.7", "WeChat")
    now = utcnow()
    for _ in range(3):
        authenticate("staff.one", "wrong", now, stranger, POLICY)
    assert authenticate("staff.one", PASSWORD, now, stranger, POLICY).reason == "locked"
    assert authenticate("staff.one", PASSWORD, now, owner, POLICY).user == staff


def test_failures_from_other_addresses_do_not_add_up_to_a_lock(db, staff):
    now = utcnow()
    for index in range(6):
        authenticate("staff.one", "wrong", now, Actor(None, f"203.0.113.{index}", "curl"), POLICY)
    assert authenticate("staff.one", PASSWORD, now, Actor(None, "198.51.100.7", "x"), POLICY).user == staff


# 6. next= after sign-in stays on this site ----------------------------------------------

@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/\\evil.example",
                                    "https://evil.example/", "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1",
                                    "/me%0d%0aLocation:https://evil.example", "%2F%2Fevil.example"])
def test_next_after_sign_in_accepts_only_a_path_on_this_site(client, staff, target):
    response = client.post(f"/login?next={target}", data={"identifier": "staff.one", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_after_sign_in_keeps_a_local_path(client, staff):
    response = client.post("/login?next=/audit%3Fpage%3D2", data={"identifier": "staff.one", "password": PASSWORD})
    assert response.headers["Location"] == "/audit?page=2"


# 7. One-time tokens stay out of every logged URL and work only in the browser that opened them ----------

class AccessLog:
    """What gunicorn's access log records of each request: the request line and the Referer."""

    def __init__(self, app):
        self.lines, self.wrapped, self.app = [], app.wsgi_app, app

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        self.lines.append(f'{environ["REQUEST_METHOD"]} {environ.get("PATH_INFO", "")}{"?" + query if query else ""} '
                          f'"{environ.get("HTTP_REFERER", "-")}"')
        return self.wrapped(environ, start_response)


@pytest.fixture()
def access_log(app):
    log = AccessLog(app)
    app.wsgi_app = log
    yield log
    app.wsgi_app = log.wrapped


def _link_path_and_token(page: str) -> tuple[str, str]:
    link = re.search(r'id="activation-link">\s*([^<\s]+)', page).group(1)
    path, _, token = link.partition("#")
    return path[path.index("/", len("http://")):], token


def test_a_one_time_link_carries_its_token_only_in_the_fragment_so_no_logged_url_has_it(app, db, admin, access_log):
    """The admin creates an account; its owner opens the link (a browser sends the path, never the
    fragment: the page's script posts the token) and sets a password. No request line and no Referer
    of the whole journey holds the token."""
    admin_browser = signed_in(app, admin.username)
    page = admin_browser.post("/accounts", data={"username": "new.staff", "display_name": "新员工", "role": "admin",
                                                 "institution_id": 0, "region_code": ""}).get_data(as_text=True)
    path, raw = _link_path_and_token(page)
    assert path == "/one-time-link" and len(raw) >= 40
    owner = app.test_client()
    opened = owner.get(path, headers={"Referer": "https://chat.example/"})
    assert opened.status_code == 200 and raw not in opened.get_data(as_text=True)
    assert 'id="open-link"' in opened.get_data(as_text=True) and "one_time_link.js" in opened.get_data(as_text=True)
    claimed = owner.post(path, data={"token": raw}, headers={"Referer": f"http://localhost{path}"})
    assert claimed.status_code == 302 and claimed.headers["Location"] == "/set-password"
    form_page = owner.get("/set-password", headers={"Referer": f"http://localhost{path}"})
    assert form_page.status_code == 200 and raw not in form_page.get_data(as_text=True)
    done = owner.post("/set-password", data={"password": "Fresh#Pass1", "confirm": "Fresh#Pass1"},
                      headers={"Referer": "http://localhost/set-password"})
    assert done.status_code == 302 and login(owner, "new.staff", "Fresh#Pass1").status_code == 302
    assert len(access_log.lines) >= 6 and not [line for line in access_log.lines if raw in line]
    assert owner.post(path, data={"token": raw}).status_code == 410   # used


def test_an_opened_link_works_only_in_the_browser_that_opened_it(app, db, admin, actor, institution):
    _, raw = create_account(STAFF, "new.staff", "新员工", utcnow(), actor, institution_id=institution.id,
                            token_lifetime=timedelta(hours=1))
    owner, stranger = app.test_client(), app.test_client()
    assert owner.post("/one-time-link", data={"token": raw}).status_code == 302
    refused = stranger.post("/one-time-link", data={"token": raw})
    assert refused.status_code == 410 and "已在另一个浏览器中打开" in refused.get_data(as_text=True)
    assert stranger.get("/set-password").status_code == 410
    assert stranger.post("/set-password", data={"password": "Evil#Pass1", "confirm": "Evil#Pass1"}).status_code == 410
    assert owner.post("/one-time-link", data={"token": raw}).status_code == 302   # the same browser again
    assert owner.post("/set-password", data={"password": "Fresh#Pass1", "confirm": "Fresh#Pass1"}).status_code == 302
    assert login(app.test_client(), "new.staff", "Fresh#Pass1").status_code == 302
    refusals = db.session.query(AuditLog).filter_by(action="password_link_open", result="failure").all()
    assert [row.detail for row in refusals] == ["opened_elsewhere"]


def test_a_link_of_the_old_form_read_from_the_access_log_is_refused(app, db, admin, actor, institution):
    """A link issued before the token moved to the fragment (/set-password/<token>) reached the access
    log when its owner opened it: replayed from there in another browser, it is refused."""
    _, raw = create_account(STAFF, "new.staff", "新员工", utcnow(), actor, institution_id=institution.id,
                            token_lifetime=timedelta(hours=1))
    owner, replay = app.test_client(), app.test_client()
    landing = owner.get(f"/set-password/{raw}")
    assert landing.status_code == 302 and landing.headers["Location"] == "/set-password"
    assert replay.get(f"/set-password/{raw}").status_code == 410
    assert replay.get("/set-password").status_code == 410
    assert replay.post("/set-password", data={"password": "Evil#Pass1", "confirm": "Evil#Pass1"}).status_code == 410
    assert owner.post("/set-password", data={"password": "Fresh#Pass1", "confirm": "Fresh#Pass1"}).status_code == 302
    assert login(app.test_client(), "new.staff", "Fresh#Pass1").status_code == 302
    assert owner.get(f"/set-password/{raw}").status_code == 410
    assert app.test_client().get("/set-password").status_code == 410  # no link held by a fresh browser


# 8. Usernames cannot pass for identity documents ---------------------------------------

def _passport_learner(db, actor, number="E12345678"):
    profile = Profile(name="Anna Muster", id_type="passport", document=parse_document("passport", number, date.today()),
                      birth_date=date(1985, 6, 7), gender="F", work_unit="佛山市测试化工有限公司",
                      unit_category="hazchem_production", position="safety_manager", region_code="440604",
                      education_level="bachelor")
    return register(profile, actor)


@pytest.mark.parametrize("username", ["e12345678", "H12345678", "wang2024", "44060419740312123X"])
def test_staff_username_may_not_look_like_an_identity_document(db, actor, institution, username):
    with pytest.raises(RuleViolation) as refused:
        create_account(STAFF, username, "x", utcnow(), actor, institution_id=institution.id,
                       token_lifetime=timedelta(hours=1))
    assert refused.value.code == "username_like_document"
    assert db.session.query(User).count() == 0


def test_account_form_says_in_chinese_why_a_document_like_username_is_refused(admin_client, institution, db):
    page = admin_client.post("/accounts", data={"username": "e12345678", "display_name": "x", "role": "staff",
                                                "institution_id": institution.id, "region_code": ""})
    assert "证件号码" in page.get_data(as_text=True)
    assert db.session.query(User).filter_by(username="e12345678").count() == 0


def test_passport_holder_signs_in_even_when_a_legacy_username_equals_the_number(app, db, actor, institution):
    holder = _passport_learner(db, actor)
    legacy = User(role=STAFF, username="E12345678", display_name="old", institution_id=institution.id)
    db.session.add(legacy)
    db.session.commit()
    outcome = authenticate("E12345678", PASSWORD, utcnow(), actor, POLICY)
    assert outcome.user is not None and outcome.user.id == holder.user_id


def test_usernames_are_unique_regardless_of_case(db, actor, admin_client, institution):
    create_account(STAFF, "wang.li", "王力", utcnow(), actor, institution_id=institution.id,
                   token_lifetime=timedelta(hours=1))
    with pytest.raises(RuleViolation) as refused:
        create_account(STAFF, "Wang.Li", "王力", utcnow(), actor, institution_id=institution.id,
                       token_lifetime=timedelta(hours=1))
    assert refused.value.code == "username_taken"
    page = admin_client.post("/accounts", data={"username": "WANG.LI", "display_name": "x", "role": "staff",
                                                "institution_id": institution.id, "region_code": ""})
    assert "用户名已被使用" in page.get_data(as_text=True)
    db.session.add(User(role=STAFF, username="WANG.li", institution_id=institution.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_only_the_test_settings_may_choose_a_cheaper_password_hash(app, monkeypatch):
    from lms.accounts.models import User
    user = User(role="staff", username="cost.check")
    with app.app_context():
        set_password(user, PASSWORD)
        assert user.password_hash.startswith("pbkdf2:sha256:1000$")   # config/testing.py
        monkeypatch.setattr(app, "testing", False)
        set_password(user, PASSWORD)
    assert user.password_hash.startswith("scrypt:")
