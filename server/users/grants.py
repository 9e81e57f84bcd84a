"""One grants only what one holds: the rule that keeps delegated permissions from escalating.

Without it, ``users.manage`` reaches everything (give oneself the Admin role, or reset an
admin's password and sign in as them) and so does ``roles.manage`` (add every permission to
one's own role). So every change to people and roles is checked here against its author's own
permissions, read afresh, and each refusal is audited before it is raised, outside any
transaction that would roll the record back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from ..audit_trail import record
from ..models import Role, User
from ..permissions import permission_label
from .errors import Refused


def held_by(author: User) -> frozenset[str]:
    """``author``'s permissions now (not a copy cached for the request)."""
    return Role.get_by_id(User.get_by_id(author.id).role_id).permission_names()


def _labels(names: Iterable[str]) -> str:
    """Permissions as people read them: their labels, not their names."""
    return ", ".join(permission_label(name) for name in names)


def _missing(author: User, permissions: Iterable[str]) -> list[str]:
    return sorted(set(permissions) - held_by(author))


def _refuse(
    author: User, kind: str, object_id: object, action: str, missing: list[str], message: str
) -> NoReturn:
    record(
        f"{kind}.change_refused",
        object_type=kind,
        object_id=object_id,
        actor=author,
        outcome="denied",
        details={"action": action, "missing": missing},
    )
    raise Refused(message)


def ensure_may_manage(author: User, person: User, action: str) -> None:
    """Changing, disabling, unlocking or resetting ``person`` would put their account in
    ``author``'s hands: only if ``author`` holds every permission ``person`` holds."""
    missing = _missing(author, person.role.permission_names())
    if missing:
        _refuse(
            author,
            "user",
            person.id,
            action,
            missing,
            f"{person.display_name} holds permissions you do not hold ({_labels(missing)}); "
            f"only someone who holds them can {action} this account.",
        )


def ensure_may_assign(author: User, role: Role, person_id: object = None) -> None:
    """Giving someone ``role`` gives its permissions: only those ``author`` holds."""
    missing = _missing(author, role.permission_names())
    if missing:
        _refuse(
            author,
            "user",
            person_id,
            f"give the {role.name} role",
            missing,
            f"The {role.name} role holds permissions you do not hold ({_labels(missing)}); "
            "you can give only roles within your own permissions.",
        )


def ensure_may_change_role(author: User, role: Role, action: str) -> None:
    """A role holding more than ``author`` is not theirs to ``action`` ("change", "delete"):
    removing what they cannot give back is no more theirs than adding it."""
    missing = _missing(author, role.permission_names())
    if missing:
        _refuse(
            author,
            "role",
            role.id,
            action,
            missing,
            f"The {role.name} role holds permissions you do not hold ({_labels(missing)}); "
            f"only someone who holds them all can {action} it.",
        )


def ensure_may_grant(author: User, permissions: Iterable[str], role: Role | None = None) -> None:
    """A role created or changed by ``author`` holds only permissions ``author`` holds (so
    nobody adds to their own role)."""
    missing = _missing(author, permissions)
    if missing:
        _refuse(
            author,
            "role",
            role.id if role else "",
            "change" if role else "create",
            missing,
            "You can give a role only permissions you hold yourself; you do not hold "
            f"{', '.join(missing)}.",
        )
