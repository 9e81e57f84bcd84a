"""Set-up, sign-in, sign-out, the idle lock and one's own account."""

from __future__ import annotations

import secrets
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..audit_trail import record
from ..models import User
from ..users.accounts import (
    AccountError,
    WrongCurrentPassword,
    any_account_exists,
    change_own_display_name,
    change_own_password,
    create_first_admin,
    replace_temporary_password,
)
from .client_throttle import sign_in_wait
from .forms import DisplayNameForm, SignInForm, UnlockForm, password_change_form, setup_form
from .session import allowed_while_held, password_policy, public, safe_next, start_session, throttle
from .signin import SignInFailed, authenticate, confirm_password

bp = Blueprint("auth", __name__)
_TEMPORARY_SIGN_IN = "temporary_sign_in"  # when this session signed in with a temporary password
_TEMPORARY_GRACE = 15 * 60  # seconds in which that sign-in stands in for the current password


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup() -> str | Response:
    if current_app.extensions.get("sheaf.has_accounts") or any_account_exists():
        abort(404)
    policy = password_policy()
    form = setup_form(policy.min_length)
    if form.validate_on_submit():
        try:
            user = create_first_admin(
                form.login.data, form.display_name.data, form.password.data, policy
            )
        except AccountError as exc:
            form.form_errors.append(str(exc))
        else:
            current_app.extensions["sheaf.has_accounts"] = True
            start_session(user)
            flash(
                f"Welcome, {user.display_name}. Sheaf is ready; add the people who use it.",
                "success",
            )
            return redirect(url_for("home.index"))
    return render_template("auth/setup.html", form=form)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> str | Response | tuple:
    if current_user.is_authenticated and not session.get("locked"):
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        wait = sign_in_wait()
        if wait:  # asked before the name is looked up: the answer says nothing about it
            form.form_errors.append(
                f"Too many sign-in attempts from this computer; wait {wait} "
                f"second{'' if wait == 1 else 's'}."
            )
            page = render_template("auth/sign_in.html", form=form, throttle=throttle())
            return page, 429, {"Retry-After": str(wait)}
        policy = password_policy()
        try:
            user = authenticate(form.login.data, form.password.data, policy.hasher, throttle())
        except SignInFailed as exc:
            form.form_errors.append(str(exc))
        else:
            start_session(user)
            if user.must_change_password:  # typed just now: the change page need not ask again
                session[_TEMPORARY_SIGN_IN] = time.time()
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    status = 401 if form.form_errors else 200
    return render_template("auth/sign_in.html", form=form, throttle=throttle()), status


def _end_all_sessions(user: User) -> None:
    User.update(session_version=secrets.token_hex(16)).where(User.id == user.id).execute()


@bp.route("/sign-out", methods=["POST"])
@allowed_while_held
def sign_out() -> Response:
    """Sign out here and everywhere else (the person's session version changes)."""
    user = current_user._get_current_object()
    _end_all_sessions(user)
    record("auth.sign_out", object_type="user", object_id=user.id)
    logout_user()
    session.clear()
    flash(f"{user.display_name} signed out. The next person can sign in.", "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/lock", methods=["GET", "POST"])
@allowed_while_held
def unlock() -> str | Response:
    target = safe_next(request.args.get("next")) or url_for("home.index")
    if not session.get("locked"):
        return redirect(target)
    form = UnlockForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if confirm_password(user, form.password.data, password_policy().hasher, throttle()):
            session["locked"] = False
            session.pop("seen", None)
            return redirect(target)
        user = User.get_by_id(user.id)
        if user.is_locked():
            _end_all_sessions(user)
            logout_user()
            session.clear()
            flash("Too many wrong passwords: the account is locked for now.", "error")
            return redirect(url_for("auth.sign_in"))
        form.password.errors.append("That password is not right.")
    return render_template("auth/lock.html", form=form), (401 if form.errors else 200)


@bp.route("/session/alive", methods=["POST"])
def keep_alive() -> tuple[str, int]:
    """Pinged by the page while the person is active in it, so reading is not 'idle'."""
    return "", 204


@bp.route("/account", methods=["GET", "POST"])
def account() -> str | Response:
    form = DisplayNameForm(obj=current_user)
    if form.validate_on_submit():
        try:
            change_own_display_name(current_user._get_current_object(), form.display_name.data)
        except AccountError as exc:
            form.display_name.errors.append(str(exc))
        else:
            flash("Your name is saved.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@allowed_while_held
def change_password() -> str | Response:
    if session.get("locked"):
        return redirect(url_for("auth.unlock", next=url_for("auth.change_password")))
    policy = password_policy()
    user = current_user._get_current_object()
    signed_in = session.get(_TEMPORARY_SIGN_IN)
    just_typed = bool(
        user.must_change_password and signed_in and 0 <= time.time() - signed_in < _TEMPORARY_GRACE
    )
    form = password_change_form(policy.min_length, ask_current=not just_typed)
    if form.validate_on_submit():
        try:
            if just_typed:
                user = replace_temporary_password(user, form.new_password.data, policy)
            else:
                user = change_own_password(
                    user, form.current_password.data, form.new_password.data, policy
                )
        except WrongCurrentPassword as exc:
            form.current_password.errors.append(str(exc))
        except AccountError as exc:
            form.new_password.errors.append(str(exc))
        else:
            login_user(user)  # the session version changed: keep this session, end the others
            session.pop(_TEMPORARY_SIGN_IN, None)
            flash(
                "Your password is changed. Any other sessions of yours were signed out.", "success"
            )
            return redirect(url_for("home.index"))
    return render_template(
        "auth/change_password.html", form=form, forced=current_user.must_change_password
    )
