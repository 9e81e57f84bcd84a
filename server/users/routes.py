"""People and roles pages. Each route checks its permission, calls one domain function, and
renders or redirects."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth.session import password_policy
from ..models import Role, User
from ..permissions import PERMISSIONS, require_permission
from . import accounts, roles
from .errors import AccountError, Refused
from .forms import PersonCreateForm, PersonEditForm, RoleForm

bp = Blueprint("users", __name__)


def _person_or_404(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        abort(404)
    return user


def _role_or_404(role_id: int) -> Role:
    role = Role.get_or_none(Role.id == role_id)
    if role is None:
        abort(404)
    return role


def _me() -> User:
    return current_user._get_current_object()


def _status(form) -> int:
    """400 when the change was refused as more than its author holds (grants.py), else 200."""
    return 400 if getattr(form, "refused", False) else 200


def _fail(form, exc: AccountError) -> None:
    form.form_errors.append(str(exc))
    form.refused = isinstance(exc, Refused)


# --- people ----------------------------------------------------------------------------------
@bp.route("/people")
@require_permission("users.manage")
def people() -> str:
    text = request.args.get("q", "")[:100]
    return render_template("users/people.html", people=list(accounts.search_users(text)), q=text)


@bp.route("/people/new", methods=["GET", "POST"])
@require_permission("users.manage")
def new_person() -> str | Response:
    form = PersonCreateForm()
    if form.validate_on_submit():
        try:
            user, password = accounts.create_user(
                form.login.data,
                form.display_name.data,
                _role_or_404(form.role.data),
                password_policy(),
                by=_me(),
            )
        except AccountError as exc:
            _fail(form, exc)
        else:
            return render_template(
                "users/temporary_password.html", person=user, password=password, created=True
            )
    elif request.method == "GET":
        form.role.data = Role.get(Role.builtin == "viewer").id
    return render_template("users/person_new.html", form=form), _status(form)


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@require_permission("users.manage")
def person(user_id: int) -> str | Response | tuple[str, int]:
    user = _person_or_404(user_id)
    form = PersonEditForm(obj=user)
    if request.method == "GET":
        form.role.data = user.role_id
    if form.validate_on_submit():
        try:
            accounts.update_user(
                user, form.display_name.data, _role_or_404(form.role.data), by=_me()
            )
        except AccountError as exc:
            _fail(form, exc)
            user = User.get_by_id(user.id)  # the page shows the account as it stays
        else:
            flash(f"{user.display_name} is saved.", "success")
            return redirect(url_for("users.person", user_id=user.id))
    return render_template("users/person.html", person=user, form=form), _status(form)


def _refused_on_person_page(user: User, exc: Refused) -> tuple[str, int]:
    form = PersonEditForm(obj=user, formdata=None)
    form.role.data = user.role_id
    form.form_errors.append(str(exc))
    return render_template("users/person.html", person=user, form=form), 400


def _person_action(
    user_id: int, action: Callable[[User], object], done: str
) -> Response | tuple[str, int]:
    user = _person_or_404(user_id)
    try:
        action(user)
    except Refused as exc:
        return _refused_on_person_page(user, exc)
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(done.format(name=user.display_name), "success")
    return redirect(url_for("users.person", user_id=user.id))


@bp.route("/people/<int:user_id>/disable", methods=["POST"])
@require_permission("users.manage")
def disable_person(user_id: int) -> Response | tuple[str, int]:
    return _person_action(
        user_id,
        lambda u: accounts.set_active(u, False, by=_me()),
        "{name} is disabled and signed out everywhere.",
    )


@bp.route("/people/<int:user_id>/enable", methods=["POST"])
@require_permission("users.manage")
def enable_person(user_id: int) -> Response | tuple[str, int]:
    return _person_action(
        user_id, lambda u: accounts.set_active(u, True, by=_me()), "{name} can sign in again."
    )


@bp.route("/people/<int:user_id>/unlock", methods=["POST"])
@require_permission("users.manage")
def unlock_person(user_id: int) -> Response | tuple[str, int]:
    return _person_action(user_id, lambda u: accounts.unlock(u, by=_me()), "{name} is unlocked.")


@bp.route("/people/<int:user_id>/reset-password", methods=["POST"])
@require_permission("users.manage")
def reset_person_password(user_id: int) -> str | tuple[str, int]:
    user = _person_or_404(user_id)
    try:
        password = accounts.reset_password(user, password_policy(), by=_me())
    except Refused as exc:
        return _refused_on_person_page(user, exc)
    return render_template(
        "users/temporary_password.html", person=user, password=password, created=False
    )


# --- roles -----------------------------------------------------------------------------------
@bp.route("/roles")
@require_permission("roles.manage")
def role_list() -> str:
    return render_template("roles/roles.html", roles=roles.list_roles(), permissions=PERMISSIONS)


@bp.route("/roles/new", methods=["GET", "POST"])
@require_permission("roles.manage")
def new_role() -> str | Response:
    form = RoleForm()
    if form.validate_on_submit():
        try:
            role = roles.create_role(
                form.name.data, form.description.data, form.permissions.data, by=_me()
            )
        except AccountError as exc:
            _fail(form, exc)
        else:
            flash(f"The role {role.name} is created.", "success")
            return redirect(url_for("users.role_list"))
    return render_template("roles/role_form.html", form=form, role=None), _status(form)


@bp.route("/roles/<int:role_id>", methods=["GET", "POST"])
@require_permission("roles.manage")
def role(role_id: int) -> str | Response | tuple[str, int]:
    role = _role_or_404(role_id)
    form = RoleForm(obj=role)
    if request.method == "GET":
        form.permissions.data = sorted(role.permission_names())
    if form.validate_on_submit():
        try:
            roles.update_role(
                role, form.name.data, form.description.data, form.permissions.data, by=_me()
            )
        except AccountError as exc:
            _fail(form, exc)
            role = Role.get_by_id(role.id)  # the page shows the role as it stays
        else:
            flash(
                f"The role {role.name} is saved; it applies from each holder's next click.",
                "success",
            )
            return redirect(url_for("users.role_list"))
    return _role_page(role, form), _status(form)


def _role_page(role: Role, form: RoleForm) -> str:
    holders = User.select().where(User.role == role).count()
    return render_template("roles/role_form.html", form=form, role=role, holders=holders)


@bp.route("/roles/<int:role_id>/delete", methods=["POST"])
@require_permission("roles.manage")
def delete_role(role_id: int) -> Response | tuple[str, int]:
    role = _role_or_404(role_id)
    try:
        roles.delete_role(role, by=_me())
    except Refused as exc:
        form = RoleForm(obj=role, formdata=None)
        form.permissions.data = sorted(role.permission_names())
        form.form_errors.append(str(exc))
        return _role_page(role, form), 400
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("users.role", role_id=role.id))
    flash(f"The role {role.name} is deleted.", "success")
    return redirect(url_for("users.role_list"))
