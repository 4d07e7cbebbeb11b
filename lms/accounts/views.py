"""Sign-in, sign-out, one-time password links and account creation."""
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..audit.services import record
from ..catalogue.services import region_choices
from ..core.access import role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.labels import label
from ..extensions import db, limiter, login_manager
from ..institutions.models import Institution
from ..templating import local_time
from . import services
from .forms import AccountForm, LoginForm, SetPasswordForm
from .models import ADMIN, LEARNER, REGULATOR, STAFF, User
from .policy import password_errors

bp = Blueprint("accounts", __name__, template_folder="templates")

HOME_ENDPOINTS = {LEARNER: "learners.home", STAFF: "institutions.dashboard",
                  REGULATOR: "institutions.overview", ADMIN: "admin.home"}


@login_manager.user_loader
def load_user(session_id: str):
    """The session's user, unless they were signed out everywhere since the session began."""
    user_id, _, epoch = session_id.partition(":")
    try:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.session_epoch == int(epoch or 0) else None
    except ValueError:
        return None


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
        outcome = services.authenticate(form.identifier.data, form.password.data, utcnow(),
                                        current_actor(), policy)
        if outcome.user is not None:
            session.clear()
            login_user(outcome.user)
            session["last_seen"] = utcnow().timestamp()
            return redirect(_safe_next() or url_for("accounts.index"))
        if outcome.reason == "locked":
            error = _("Too many failed attempts. The account is locked until %(time)s.",
                      time=local_time(outcome.locked_until, "HH:mm"))
        elif outcome.reason == "inactive":
            error = _("This account is disabled. Please contact your training institution.")
        else:
            error = _("The account or password is wrong.")
    return render_template("accounts/login.html", form=form, error=error)


def _safe_next():
    target = request.args.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    record(current_actor(), "logout", utcnow())
    db.session.commit()
    if current_user.role == LEARNER:
        from ..player.services import end_learner_sessions
        end_learner_sessions(current_user.learner, "logout", utcnow())
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token):
    now = utcnow()
    one_time = services.usable_token(token, now)
    if one_time is None:
        return render_template("accounts/link_invalid.html"), 410
    form = SetPasswordForm()
    problems = []
    if form.validate_on_submit():
        problems = password_errors(form.password.data, services.forbidden_words(one_time.user))
        if not problems:
            services.redeem_token(one_time, form.password.data, now, current_actor())
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
    if current_user.role == ADMIN:
        form.role.choices = [(r, label("role", r)) for r in (STAFF, REGULATOR, ADMIN)]
        form.institution_id.choices = [(0, "—")] + [
            (i.id, i.name) for i in db.session.scalars(select(Institution).order_by(Institution.name))]
        form.region_code.choices = [("", "—")] + region_choices((1, 2, 3))
    else:
        form.role.choices = [(STAFF, label("role", STAFF))]
        form.institution_id.choices = [(current_user.institution_id, current_user.institution.name)]
        form.region_code.choices = [("", "—")]
    link = None
    if form.validate_on_submit():
        role = form.role.data
        institution_id = form.institution_id.data or None
        region_code = form.region_code.data or None
        if current_user.role == STAFF:
            role, institution_id, region_code = STAFF, current_user.institution_id, None
        if services.username_taken(form.username.data):
            form.username.errors.append(_("This username is already taken."))
        elif role == STAFF and not institution_id:
            form.institution_id.errors.append(_("Staff accounts belong to an institution."))
        elif role == REGULATOR and not region_code:
            form.region_code.errors.append(_("Regulator accounts need a region."))
        else:
            user, raw = services.create_account(
                role, form.username.data, form.display_name.data, utcnow(), current_actor(),
                institution_id=institution_id if role == STAFF else None,
                region_code=region_code if role == REGULATOR else None, token_lifetime=_token_lifetime())
            link = url_for("accounts.set_password", token=raw, _external=True)
            flash(_("Account %(name)s created. Give this one-time activation link to its owner; it is shown only once.",
                    name=user.username), "success")
    accounts = _visible_accounts()
    return render_template("accounts/manage.html", form=form, link=link, accounts=accounts)


def _visible_accounts():
    query = select(User).where(User.role != LEARNER).order_by(User.role, User.username)
    if current_user.role == STAFF:
        query = query.where(User.institution_id == current_user.institution_id)
    return list(db.session.scalars(query))


@bp.route("/accounts/<int:user_id>/reset-link", methods=["POST"])
@role_required(ADMIN, STAFF)
def reset_link(user_id):
    """Issue a one-time password link. Learners reset through their institution."""
    user = db.session.get(User, user_id) or abort(404)
    if not _may_reset(user):
        abort(403)
    raw = services.issue_token(user, services.RESET, current_user, utcnow(), _token_lifetime())
    record(current_actor(), "password_reset_link", utcnow(), target=f"user:{user.id}")
    db.session.commit()
    link = url_for("accounts.set_password", token=raw, _external=True)
    return render_template("accounts/reset_link.html", target=user, link=link)


def _may_reset(user: User) -> bool:
    if current_user.role == ADMIN:
        return user.id != current_user.id
    if user.role == STAFF:
        return user.institution_id == current_user.institution_id and user.id != current_user.id
    if user.role == LEARNER:
        from ..learners.services import can_view_learner
        return can_view_learner(current_user, user.learner)
    return False
