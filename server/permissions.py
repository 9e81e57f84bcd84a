"""The one list of permissions the app checks against, and the one way routes check them.

A role is a set of these names. The built-in Admin role holds every permission, including any
added by a later version, so an upgrade can never lock the administrator out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user

#: Name → what it lets a person do (shown on the role form and in docs/permissions.md).
PERMISSIONS: dict[str, str] = {
    "users.manage": "Add people, change their names and roles, disable, unlock and reset passwords",
    "roles.manage": "Create, change and delete roles",
    "audit.view": "Read the audit log",
    "settings.manage": "Change settings on the Settings page",
    "backup.manage": "Make, verify and restore backups",
    "datasets.import": "Import files as new datasets",
    "datasets.view_all": "Read every dataset, shared or not",
    "datasets.edit_all": "Change every dataset, shared or not",
    "datasets.share": "Share any dataset with people and roles",
    "datasets.export": "Export datasets they can read",
}

#: Name → its label: how every page, message and the audit log name a permission (people never
#: see the dotted names; tests/test_permission_labels.py checks every permission has one).
PERMISSION_LABELS: dict[str, str] = {
    "users.manage": "Manage people",
    "roles.manage": "Manage roles",
    "audit.view": "Read the audit log",
    "settings.manage": "Change settings",
    "backup.manage": "Manage backups",
    "datasets.import": "Import files",
    "datasets.view_all": "Read every dataset",
    "datasets.edit_all": "Change every dataset",
    "datasets.share": "Share any dataset",
    "datasets.export": "Export datasets",
}


def permission_label(name: str) -> str:
    """The permission's label; a name this version does not know stays as it is."""
    return PERMISSION_LABELS.get(name, name)


F = TypeVar("F", bound=Callable[..., Any])


class UnknownPermission(KeyError):
    """A permission name that is not in :data:`PERMISSIONS`: a bug, never a user error."""


def permissions_of(user: Any) -> frozenset[str]:
    """The permissions ``user`` holds right now (cached for the current request)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cache = g.setdefault("_permissions", {})
    if user.id not in cache:
        cache[user.id] = user.role.permission_names()
    return cache[user.id]


def has_permission(user: Any, name: str) -> bool:
    if name not in PERMISSIONS:
        raise UnknownPermission(name)
    return name in permissions_of(user)


def require_permission(name: str) -> Callable[[F], F]:
    """Refuse the route with 403 unless the signed-in person holds ``name``.

    Sign-in itself is enforced for every non-public route before this runs (see ``server.auth``).
    """
    if name not in PERMISSIONS:
        raise UnknownPermission(name)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not has_permission(current_user, name):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = name  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
