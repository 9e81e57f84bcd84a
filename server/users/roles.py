"""Roles: named sets of permissions. Built-in roles cannot be deleted; Admin holds everything.
Changes take their author (``by``), who gives a role only permissions they hold (grants.py)."""

from __future__ import annotations

from collections.abc import Iterable

from peewee import JOIN, fn

from ..audit_trail import record
from ..db import database
from ..models import Role, RolePermission, User, name_key
from ..permissions import PERMISSIONS
from .errors import AccountError
from .grants import ensure_may_change_role, ensure_may_grant

NAME_MAX = 60
DESCRIPTION_MAX = 500


def _clean(
    name: str, description: str | None, permissions: Iterable[str] | None
) -> tuple[str, str, set[str]]:
    name = " ".join(name.split())
    if not name:
        raise AccountError("Enter a name for the role.")
    if len(name) > NAME_MAX:
        raise AccountError(f"Use at most {NAME_MAX} characters for the role's name.")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise AccountError(f"Use at most {DESCRIPTION_MAX} characters for the description.")
    chosen = set(permissions or ())
    unknown = chosen - PERMISSIONS.keys()
    if unknown:
        raise AccountError(f"Unknown permissions: {', '.join(sorted(unknown))}.")
    return name, description, chosen


def _ensure_name_free(name: str, role: Role | None = None) -> None:
    query = Role.select().where(Role.name_key == name_key(name))
    if role is not None:
        query = query.where(Role.id != role.id)
    if query.exists():
        raise AccountError("A role with that name already exists.")


def list_roles() -> list[Role]:
    """Every role with ``member_count`` set, built-in ones first."""
    members = fn.COUNT(User.id).alias("member_count")
    query = (
        Role.select(Role, members)
        .join(User, join_type=JOIN.LEFT_OUTER, on=(User.role == Role.id))
        .group_by(Role.id)
        .order_by(Role.builtin.is_null(), Role.id)
    )
    return list(query)


def create_role(name: str, description: str, permissions: Iterable[str], *, by: User) -> Role:
    name, description, chosen = _clean(name, description, permissions)
    ensure_may_grant(by, chosen)
    with database.atomic():
        _ensure_name_free(name)
        role = Role.create(name=name, name_key=name_key(name), description=description)
        RolePermission.insert_many(
            [(role.id, p) for p in sorted(chosen)],
            fields=[RolePermission.role, RolePermission.permission],
        ).execute()
        record(
            "role.created",
            object_type="role",
            object_id=role.id,
            details={"name": name, "permissions": sorted(chosen)},
        )
    return role


def update_role(
    role: Role, name: str, description: str, permissions: Iterable[str], *, by: User
) -> Role:
    """Change a role; people holding it get the new permissions on their next request."""
    name, description, chosen = _clean(name, description, permissions)
    if role.builtin and name != role.name:
        raise AccountError("Built-in roles keep their names.")
    if role.is_admin and chosen != set(PERMISSIONS):
        raise AccountError("The Admin role always holds every permission.")
    ensure_may_change_role(by, role, "change")
    ensure_may_grant(by, chosen, role)
    with database.atomic():
        _ensure_name_free(name, role)
        before = set(role.permission_names())
        changes: dict[str, object] = {}
        if name != role.name:
            changes["name"] = [role.name, name]
        if description != role.description:
            changes["description"] = [role.description, description]
        if chosen != before:
            changes["added"] = sorted(chosen - before)
            changes["removed"] = sorted(before - chosen)
        role.name, role.name_key, role.description = name, name_key(name), description
        role.save()
        if not role.is_admin:
            RolePermission.delete().where(RolePermission.role == role).execute()
            if chosen:
                RolePermission.insert_many(
                    [(role.id, p) for p in sorted(chosen)],
                    fields=[RolePermission.role, RolePermission.permission],
                ).execute()
        if changes:
            record("role.updated", object_type="role", object_id=role.id, details=changes)
    return role


def delete_role(role: Role, *, by: User) -> None:
    if role.builtin:
        raise AccountError("Built-in roles cannot be deleted.")
    ensure_may_change_role(by, role, "delete")
    with database.atomic():
        holders = User.select().where(User.role == role).count()
        if holders:
            raise AccountError(
                f"{holders} {'person holds' if holders == 1 else 'people hold'} this role; "
                "give them another role first."
            )
        record("role.deleted", object_type="role", object_id=role.id, details={"name": role.name})
        role.delete_instance()
