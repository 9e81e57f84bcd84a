"""Who is asking: Flask-Login, CSRF, and the guard that every request passes first.

The guard makes sign-in the default: a route is open to anonymous people only when marked
:func:`public`. It also sends everyone to ``/setup`` while no account exists, locks an idle
session, and holds a person on the password page until a temporary password is changed.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from ..models import Role, User
from ..prepared import Prepared
from ..users.accounts import PasswordPolicy, any_account_exists
from . import client_throttle
from .signin import Throttle

login_manager = LoginManager()
csrf = CSRFProtect()

F = TypeVar("F", bound=Callable[..., Any])

# Every request loads the signed-in person and their role: their SQL is built once.
_user_by_id = Prepared(User, lambda user_id: User.select().where(User.id == user_id).limit(1), 1)
_role_by_id = Prepared(Role, lambda role_id: Role.select().where(Role.id == role_id).limit(1), 1)


def public(view: F) -> F:
    """Mark a view as open to people who are not signed in."""
    view.sheaf_public = True  # type: ignore[attr-defined]
    return view


def allowed_while_held(view: F) -> F:
    """Mark a view as reachable while the session is locked or a new password is due."""
    view.sheaf_allowed_while_held = True  # type: ignore[attr-defined]
    return view


def passive(view: F) -> F:
    """Mark a view that pages call by themselves (polling): it does not count as activity,
    so a screen left alone still locks."""
    view.sheaf_passive = True  # type: ignore[attr-defined]
    return view


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    user_id, _, version = token.partition(":")
    if not user_id.isdigit():
        return None
    user = _user_by_id.first(int(user_id))
    if user is None or not user.active or not hmac.compare_digest(user.session_version, version):
        return None
    role = _role_by_id.first(user.role_id)
    if role is not None:  # loaded now rather than when first asked (permissions, pages)
        user.role = role
    return user


def password_policy() -> PasswordPolicy:
    return current_app.extensions["sheaf.password_policy"]


def throttle() -> Throttle:
    config = current_app.config
    return Throttle(config["LOCKOUT_THRESHOLD"], config["LOCKOUT_MINUTES"])


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    return target


def _current_path() -> str:
    path = request.full_path
    return path[:-1] if path.endswith("?") else path


def start_session(user: User) -> None:
    """A fresh session for ``user``: nothing from before sign-in is carried over."""
    session.clear()
    login_user(user)
    session["seen"] = time.time()


def _guard() -> Response | None:
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None  # routing errors (404, 405) and assets need no account
    view = current_app.view_functions[endpoint]
    if getattr(view, "sheaf_launch_only", False):
        return None  # the desktop's own calls, authenticated by the launch secret instead
    if not current_app.extensions.get("sheaf.has_accounts"):
        if any_account_exists():
            current_app.extensions["sheaf.has_accounts"] = True
        elif endpoint == "auth.setup":
            return None
        else:
            return redirect(url_for("auth.setup"))
    if getattr(view, "sheaf_public", False):
        return None
    api = request.blueprint == "api"
    if not current_user.is_authenticated:
        if api:
            return _api_refusal("Sign in first.")
        target = _current_path() if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=target))

    held_ok = getattr(view, "sheaf_allowed_while_held", False)
    now = time.time()
    idle_limit = current_app.config["IDLE_LOCK_MINUTES"] * 60
    if session.get("locked") or now - session.get("seen", now) > idle_limit:
        session["locked"] = True
        if held_ok:
            return None
        if api:
            return _api_refusal("The session is locked; unlock it in Sheaf first.")
        target = _current_path() if request.method == "GET" else None
        return redirect(url_for("auth.unlock", next=target))
    if not getattr(view, "sheaf_passive", False):
        session["seen"] = now
    if current_user.must_change_password and not held_ok:
        if api:
            return _api_refusal("Choose a new password in Sheaf first.")
        return redirect(url_for("auth.change_password"))
    return None


def _api_refusal(message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = 401
    return response


def init_app(app: Flask) -> None:
    config = app.config
    app.extensions["sheaf.password_policy"] = PasswordPolicy(
        min_length=config["PASSWORD_MIN_LENGTH"],
        argon2_cost=(
            config["ARGON2_TIME_COST"],
            config["ARGON2_MEMORY_COST"],
            config["ARGON2_PARALLELISM"],
        ),
    )
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.sign_in"
    csrf.init_app(app)
    client_throttle.init_app(app)
    app.before_request(_guard)
