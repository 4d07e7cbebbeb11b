from datetime import timedelta

import pytest

from lms.accounts import permissions
from lms.accounts.models import User
from lms.accounts.services import (
    LoginPolicy,
    authenticate,
    create_account,
    issue_token,
    password_problems,
    redeem_token,
    usable_token,
)
from lms.audit.models import AuditLog
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.core.errors import RuleViolation
from lms.core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from lms.extensions import limiter

from .conftest import PASSWORD, csrf_token_from, login, make_user

POLICY = LoginPolicy(max_failures=3, lock_minutes=15)


def test_password_policy():
    assert password_problems("Study#2026ok") == []
    assert "length" in password_problems("Ab1#")
    assert "classes" in password_problems("alllowercase")
    assert password_problems("Abcdefgh1") == []
    assert "personal" in password_problems("Li.laoshi2026", ("li.laoshi",))


def test_login_by_username_and_by_id_number(db, staff, learner, actor):
    now = utcnow()
    assert authenticate("staff.one", PASSWORD, now, actor, POLICY).user == staff
    assert authenticate(learner.id_number.lower(), PASSWORD, now, actor, POLICY).user == learner.user
    assert authenticate("nobody", PASSWORD, now, actor, POLICY).reason == "invalid"


def test_repeated_failures_lock_the_account_for_a_while(db, staff, actor):
    now = utcnow()
    for _ in range(3):  # the failure that locks still gets the answer any failure gets
        assert authenticate("staff.one", "wrong", now, actor, POLICY).reason == "invalid"
    # Even the right password is refused while locked (and only the right one learns of the lock) ...
    outcome = authenticate("staff.one", PASSWORD, now + timedelta(minutes=14), actor, POLICY)
    assert outcome.reason == "locked" and outcome.locked_until == now + timedelta(minutes=15)
    assert authenticate("staff.one", "wrong", now + timedelta(minutes=14), actor, POLICY).reason == "invalid"
    # ... and accepted once the lock has run out.
    assert authenticate("staff.one", PASSWORD, now + timedelta(minutes=16), actor, POLICY).user == staff
    results = [(row.action, row.result) for row in db.session.query(AuditLog).order_by(AuditLog.id)]
    assert results.count(("login", "failure")) == 5 and results[-1] == ("login", "success")


def test_failed_login_page_says_why(client, staff):
    response = login(client, "staff.one", "wrong")
    assert response.status_code == 200
    assert "账号或密码错误" in response.get_data(as_text=True)
    for _ in range(2):
        response = login(client, "staff.one", "wrong")
    assert "账号或密码错误" in response.get_data(as_text=True) and "锁定" not in response.get_data(as_text=True)
    assert "账号已锁定" in login(client, "staff.one").get_data(as_text=True)  # only the right password learns it


def test_login_rate_limit_per_address(app, client, staff):
    app.config["LMS_LOGIN_RATE_LIMIT"] = "3 per minute"
    limiter.enabled = True
    try:
        statuses = [login(client, "nobody", "x").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert "尝试次数过多" in client.post("/login", data={}).get_data(as_text=True)
        assert client.get("/login").status_code == 200  # only sign-in attempts are limited
    finally:
        limiter.enabled = False
        limiter.reset()
        app.config["LMS_LOGIN_RATE_LIMIT"] = "20 per minute"


def test_activation_link_sets_password_once(client, db, admin, actor, institution):
    now = utcnow()
    user, raw = create_account(STAFF, "new.staff", "新员工", now, actor, institution_id=institution.id,
                               token_lifetime=timedelta(hours=72))
    assert user.password_hash is None and not user.is_active  # no default password exists
    landing = client.post("/one-time-link", data={"token": raw})  # the page posts the token from the fragment
    assert landing.status_code == 302 and landing.headers["Location"] == "/set-password"
    assert client.get("/set-password").status_code == 200
    weak = client.post("/set-password", data={"password": "123456", "confirm": "123456"})
    assert "至少 8 个字符" in weak.get_data(as_text=True) or "至少8个字符" in weak.get_data(as_text=True)
    ok = client.post("/set-password", data={"password": "Fresh#Pass1", "confirm": "Fresh#Pass1"})
    assert ok.status_code == 302
    assert client.post("/one-time-link", data={"token": raw}).status_code == 410
    assert login(client, "new.staff", "Fresh#Pass1").status_code == 302


def test_expired_link_is_refused(db, staff, actor):
    now = utcnow()
    raw = issue_token(staff, "reset", None, now, timedelta(hours=1))
    db.session.commit()
    assert usable_token(raw, now + timedelta(minutes=59)) is not None
    assert usable_token(raw, now + timedelta(minutes=61)) is None
    redeem_token(usable_token(raw, now), "Another#Pass2", now, actor)
    assert usable_token(raw, now) is None


def test_admin_creates_staff_with_activation_link(admin_client, institution, db):
    response = admin_client.post("/accounts", data={
        "username": "wang.staff", "display_name": "王老师", "role": "staff",
        "institution_id": institution.id, "region_code": ""})
    html = response.get_data(as_text=True)
    assert "/one-time-link#" in html
    user = db.session.query(User).filter_by(username="wang.staff").one()
    assert user.institution_id == institution.id and user.password_hash is None


def test_staff_can_only_create_colleagues_in_own_institution(staff_client, staff, other_institution, db,
                                                             monkeypatch):
    # The form offers staff only their own role and institution: a forged choice is refused outright ...
    forged = staff_client.post("/accounts", data={"username": "sneaky", "display_name": "x", "role": "admin",
                                                  "institution_id": other_institution.id})
    assert forged.status_code == 200 and "/one-time-link#" not in forged.get_data(as_text=True)
    assert db.session.query(User).filter_by(username="sneaky").one_or_none() is None
    # ... and behind the form the service makes every account a staff member creates a colleague: with the role
    # list widened so that "admin" passes the form, the account is still staff of the creator's institution.
    monkeypatch.setattr(permissions, "creatable_roles", lambda user: (STAFF, ADMIN))
    created = staff_client.post("/accounts", data={"username": "sneaky", "display_name": "x", "role": "admin",
                                                   "institution_id": staff.institution_id, "region_code": ""})
    assert "/one-time-link#" in created.get_data(as_text=True)
    user = db.session.query(User).filter_by(username="sneaky").one()
    assert (user.role, user.institution_id, user.region_code) == (STAFF, staff.institution_id, None)


def test_create_account_holds_the_account_rules_for_every_caller(db, staff, admin, institution, actor):
    """The rules the account form shows, in the service: a caller without the form meets them too."""
    def create(creator_actor, role, username, **where):
        return create_account(role, username, "x", utcnow(), creator_actor, token_lifetime=timedelta(hours=1), **where)

    for role, where, code in ((STAFF, {}, "institution_required"), (REGULATOR, {}, "region_required"),
                              (LEARNER, {}, "forbidden")):
        with pytest.raises(RuleViolation) as refusal:
            create(Actor(admin), role, f"new.{role}", **where)
        assert refusal.value.code == code
    with pytest.raises(RuleViolation) as refusal:
        create(Actor(make_user(db, REGULATOR, "reg.creator", region_code="440600")), STAFF, "by.regulator",
               institution_id=institution.id)
    assert refusal.value.code == "forbidden"
    # A staff member creates a colleague of their own institution, whatever they asked for.
    colleague, _ = create(Actor(staff), ADMIN, "colleague", region_code="440600")
    assert (colleague.role, colleague.institution_id, colleague.region_code) == (STAFF, staff.institution_id, None)
    # Where an account is kept only for the role that has one: a regulator has no institution.
    regulator, _ = create(Actor(admin), REGULATOR, "new.regulator", region_code="440600", institution_id=institution.id)
    assert (regulator.institution_id, regulator.region_code) == (None, "440600")
    assert db.session.query(User).filter(User.username.in_(["new.staff", "new.learner", "by.regulator"])).count() == 0


def test_staff_issues_reset_link_only_for_learners_they_approved(staff_client, learner, other_learner, open_class, db,
                                                                  staff):
    from lms.institutions.services import apply_to_class, approve_application
    application = apply_to_class(learner, open_class, "T440604197403121235", utcnow(), Actor(learner.user))
    assert staff_client.post(f"/accounts/{learner.user_id}/reset-link").status_code == 403  # applied only
    approve_application(application, utcnow(), Actor(staff))
    assert staff_client.post(f"/accounts/{learner.user_id}/reset-link").status_code == 200
    assert staff_client.post(f"/accounts/{other_learner.user_id}/reset-link").status_code == 403


def test_logout_is_logged_and_ends_session(staff_client, db):
    assert staff_client.post("/logout").status_code == 302
    assert staff_client.get("/institution").status_code == 302
    assert db.session.query(AuditLog).filter_by(action="logout").count() == 1


def test_idle_session_times_out(app, staff_client, db):
    with staff_client.session_transaction() as session:
        session["last_seen"] = (utcnow() - timedelta(minutes=app.config["LMS_SESSION_IDLE_MINUTES"] + 1)).timestamp()
    response = staff_client.get("/institution")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.query(AuditLog).filter_by(action="session_timeout").count() == 1


def test_session_cookie_flags(client, staff):
    response = login(client, "staff.one")
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csrf_is_enforced_on_state_changes(app, client, staff):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post("/login", data={"identifier": "staff.one", "password": PASSWORD})
        assert refused.status_code == 400 and "表单已过期" in refused.get_data(as_text=True)
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        accepted = client.post("/login", data={"identifier": "staff.one", "password": PASSWORD, "csrf_token": token})
        assert accepted.status_code == 302
        assert client.post("/logout").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
