"""Sign-in, sign-out, one-time password links and account creation."""
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..audit.services import record
from ..catalogue.services import region_choices
from ..core.access import role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.errors import RuleViolation
from ..core.labels import label
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..extensions import db, limiter
from ..institutions.models import Institution
from ..templating import local_time
from . import permissions, services
from .forms import AccountForm, LoginForm, SetPasswordForm
from .models import User
from .policy import password_errors
from .sessions import SESSION_SECRET, end_current_session

bp = Blueprint("accounts", __name__, template_folder="templates", static_folder="static",
               static_url_path="/accounts/static")

HOME_ENDPOINTS = {LEARNER: "learners.home", STAFF: "institutions.dashboard",
                  REGULATOR: "institutions.overview", ADMIN: "admin.home"}


# The one-time link this browser opened (its id), between opening it and choosing the password, and the
# browser's random secret whose hash the link keeps (accounts.services.open_link).
ONE_TIME_LINK = "one_time_link"
LINK_SECRET = "one_time_link_secret"


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return render_template("accounts/welcome.html")
    return redirect(url_for(HOME_ENDPOINTS[current_user.role]))


def _login_rate_limit():
    return current_app.config["LMS_LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        policy = services.LoginPolicy(current_app.config["LMS_LOGIN_MAX_FAILURES"],
                                      current_app.config["LMS_LOGIN_LOCK_MINUTES"])
        now = utcnow()
        outcome = services.authenticate(form.identifier.data, form.password.data, now, current_actor(), policy)
        if outcome.user is not None:
            session.clear()
            login_user(outcome.user)
            session[SESSION_SECRET] = outcome.session_secret
            session["last_seen"] = now.timestamp()
            _tell_about_reset_links(outcome.user, now)
            return redirect(_safe_next() or url_for("accounts.index"))
        if outcome.reason == "locked":
            error = _("Too many failed attempts. The account is locked until %(time)s.",
                      time=local_time(outcome.locked_until, "HH:mm"))
        elif outcome.reason == "inactive":
            error = _("This account is disabled. Please contact your training institution.")
        else:
            error = _("The account or password is wrong.")
    return render_template("accounts/login.html", form=form, error=error)


def _tell_about_reset_links(user: User, now) -> None:
    """Once, at sign-in: who issued a password link for this account and when, and whether it was used."""
    for notice in services.take_reset_notices(user, now):
        who = _issuer_name(notice.issued_by)
        if notice.redeemed_at is not None:
            flash(_("Your password was reset on %(time)s by %(who)s. If this was not you, contact your "
                    "training institution.", time=local_time(notice.redeemed_at), who=who), "warning")
        else:
            flash(_("A link to reset your password was issued on %(time)s by %(who)s. If you did not ask for "
                    "it, contact your training institution.", time=local_time(notice.issued_at), who=who), "warning")


def _issuer_name(issuer: User | None) -> str:
    if issuer is None:
        return _("the platform")
    if issuer.institution is not None:
        return f"{issuer.institution.name} {issuer.username}"
    return f"{label('role', issuer.role)} {issuer.username}"


def _safe_next() -> str | None:
    """Only a path on this site. Browsers drop tabs and line breaks from a URL and read a backslash
    as a slash, so "/<tab>/evil" or "/\\evil" would leave the site: such targets are refused
    outright, as is anything with a scheme or a host."""
    target = request.args.get("next", "")
    if not target.startswith("/") or any(char == "\\" or ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def _sign_out_here(now) -> None:
    """End this browser's sign-in and any learning session it had open."""
    if current_user.role == LEARNER:
        from ..player.sessions import end_learner_sessions
        end_learner_sessions(current_user.learner, "logout", now)
    logout_user()
    session.clear()


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    now = utcnow()
    record(current_actor(), "logout", now)
    end_current_session(now, services.SESSION_LOGOUT)
    db.session.commit()
    _sign_out_here(now)
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of the account, on every device, this one included."""
    now = utcnow()
    services.sign_out_all_devices(current_user._get_current_object(), now, current_actor())
    _sign_out_here(now)
    flash(_("You have been signed out on all devices."), "info")
    return redirect(url_for("accounts.login"))


def one_time_link(raw: str) -> str:
    """The link handed to an account's owner. The token is in the fragment, which a browser never
    sends: it is in no request line and no Referer, so in no access log of gunicorn or a proxy.
    The page reads it and posts it (open_link)."""
    return url_for("accounts.open_link", _external=True) + "#" + raw


@bp.route("/one-time-link", methods=["GET", "POST"])
def open_link():
    """GET: the page the link opens; its script posts the token from the fragment and removes it from
    the address bar and history. POST: this browser claims the link and continues at /set-password."""
    if request.method == "GET":
        return render_template("accounts/open_link.html")
    return _claim_link(request.form.get("token", ""))


@bp.route("/set-password/<token>")
def set_password(token):
    """Links issued before the token moved to the fragment: the first browser to open one claims it,
    so the URL that reached the access log is of no use to anyone else afterwards."""
    return _claim_link(token)


def _claim_link(raw: str):
    secret = session.get(LINK_SECRET) or secrets.token_urlsafe(32)
    try:
        token = services.open_link(raw, secret, utcnow(), current_actor())
    except RuleViolation as refusal:
        return render_template("accounts/link_invalid.html",
                               opened_elsewhere=refusal.code == services.LINK_OPENED_ELSEWHERE), 410
    session[LINK_SECRET], session[ONE_TIME_LINK] = secret, token.id
    return redirect(url_for("accounts.set_password_form"))


@bp.route("/set-password", methods=["GET", "POST"])
def set_password_form():
    now = utcnow()
    one_time = services.opened_link(session.get(ONE_TIME_LINK), session.get(LINK_SECRET, ""), now)
    if one_time is None:
        session.pop(ONE_TIME_LINK, None)
        return render_template("accounts/link_invalid.html"), 410
    form = SetPasswordForm()
    problems = []
    if form.validate_on_submit():
        problems = password_errors(form.password.data, services.forbidden_words(one_time.user))
        if not problems:
            services.redeem_token(one_time, form.password.data, now, current_actor())
            session.pop(ONE_TIME_LINK, None)
            flash(_("Your password is set. Please sign in."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/set_password.html", form=form, problems=problems, token_user=one_time.user)


def _token_lifetime():
    return timedelta(hours=current_app.config["LMS_TOKEN_LIFETIME_HOURS"])


@bp.route("/accounts", methods=["GET", "POST"])
@role_required(ADMIN, STAFF)
def manage():
    """Admins create staff, regulator and admin accounts; staff create colleagues."""
    form = AccountForm()
    form.role.choices = [(r, label("role", r)) for r in permissions.creatable_roles(current_user)]
    if current_user.role == ADMIN:
        form.institution_id.choices = [(0, "—")] + [
            (i.id, i.name) for i in db.session.scalars(select(Institution).order_by(Institution.name))]
        form.region_code.choices = [("", "—")] + region_choices((1, 2, 3))
    else:
        form.institution_id.choices = [(current_user.institution_id, current_user.institution.name)]
        form.region_code.choices = [("", "—")]
    link = None
    if form.validate_on_submit():
        try:
            user, raw = services.create_account(
                form.role.data, form.username.data, form.display_name.data, utcnow(), current_actor(),
                institution_id=form.institution_id.data or None, region_code=form.region_code.data or None,
                token_lifetime=_token_lifetime())
        except RuleViolation as refusal:
            if refusal.code == "forbidden":  # the form offers only the roles this user may create
                abort(403)
            _refused_field(form, refusal.code).append(_account_refusal(refusal.code))
        else:
            link = one_time_link(raw)
            flash(_("Account %(name)s created. Give this one-time activation link to its owner; it is shown "
                    "only once.", name=user.username), "success")
    accounts = _visible_accounts()
    return render_template("accounts/manage.html", form=form, link=link, accounts=accounts)


def _refused_field(form: AccountForm, code: str):
    """The error list of the field that a refusal of services.create_account is about."""
    return {"institution_required": form.institution_id.errors,
            "region_required": form.region_code.errors}.get(code, form.username.errors)


def _account_refusal(code: str) -> str:
    if code == "institution_required":
        return _("Staff accounts belong to an institution.")
    if code == "region_required":
        return _("Regulator accounts need a region.")
    if code == "username_like_document":
        return _("This username could be taken for an ID document number at sign-in. Add a dot, dash or "
                 "underscore, e.g. wang.li.")
    return _("This username is already taken.")


def _visible_accounts():
    return list(db.session.scalars(permissions.visible_accounts(current_user)))


@bp.route("/accounts/<int:user_id>/reset-link", methods=["POST"])
@role_required(ADMIN, STAFF)
def reset_link(user_id):
    """Issue a one-time password link. Learners reset through their institution."""
    user = db.session.get(User, user_id) or abort(404)
    if not permissions.can_issue_reset_link(current_user, user):
        abort(403)
    raw = services.issue_reset_link(user, utcnow(), current_actor(), _token_lifetime())
    link = one_time_link(raw)
    return render_template("accounts/reset_link.html", target=user, link=link)
