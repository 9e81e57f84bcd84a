"""Account changes. Each function is one user action: one transaction and its audit events.

Functions raise :class:`AccountError` with a sentence meant for the person at the screen. Those
acting on someone else's account take its author (``by``): one grants only what one holds
(grants.py).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from ..audit_trail import record
from ..auth.passwords import make_hasher, password_problems, temporary_password, verify
from ..db import database
from ..models import Role, User, name_key, utcnow
from .errors import AccountError, WrongCurrentPassword
from .grants import ensure_may_assign, ensure_may_manage

if TYPE_CHECKING:
    from argon2 import PasswordHasher

LOGIN_MAX = 64
DISPLAY_NAME_MAX = 100
# Letters (any script), digits and . _ - @: readable, and safe in any log line or URL.
_LOGIN_PATTERN = re.compile(r"^[\w.@-]+$")


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int
    argon2_cost: tuple[int, int, int]  # time cost, memory cost (KiB), parallelism

    @cached_property
    def hasher(self) -> PasswordHasher:
        """Made when first needed: a page that only shows a password form needs no Argon2."""
        return make_hasher(*self.argon2_cost)

    def check(self, password: str, login: str = "") -> None:
        problems = password_problems(password, self.min_length, login)
        if problems:
            raise AccountError(" ".join(problems))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)


def clean_login(login: str) -> str:
    login = login.strip()
    if not login:
        raise AccountError("Enter a sign-in name.")
    if len(login) > LOGIN_MAX:
        raise AccountError(f"Use at most {LOGIN_MAX} characters for the sign-in name.")
    if not _LOGIN_PATTERN.match(login):
        raise AccountError(
            "Use only letters, digits, dots, dashes, underscores and @ in a sign-in name."
        )
    return login


def clean_display_name(display_name: str) -> str:
    display_name = " ".join(display_name.split())
    if not display_name:
        raise AccountError("Enter the person's name.")
    if len(display_name) > DISPLAY_NAME_MAX:
        raise AccountError(f"Use at most {DISPLAY_NAME_MAX} characters for the name.")
    if any(ord(char) < 32 or 0x7F <= ord(char) < 0xA0 for char in display_name):
        raise AccountError("The name contains control characters.")
    return display_name


def _ensure_login_free(login: str) -> None:
    if User.select().where(User.login_key == name_key(login)).exists():
        raise AccountError("That sign-in name is already taken.")


def active_admin_count(excluding: User | None = None) -> int:
    query = User.select().join(Role).where((Role.builtin == "admin") & (User.active == True))  # noqa: E712
    if excluding is not None:
        query = query.where(User.id != excluding.id)
    return query.count()


def any_account_exists() -> bool:
    return User.select().exists()


def create_first_admin(
    login: str, display_name: str, password: str, policy: PasswordPolicy
) -> User:
    """The set-up page's account; refused once any account exists."""
    login, display_name = clean_login(login), clean_display_name(display_name)
    policy.check(password, login)
    with database.atomic():
        if any_account_exists():
            raise AccountError("Sheaf is already set up.")
        user = User.create(
            login=login,
            login_key=name_key(login),
            display_name=display_name,
            password_hash=policy.hash(password),
            role=Role.get(Role.builtin == "admin"),
            last_sign_in=utcnow(),  # set-up signs the new admin in
        )
        record(
            "setup.completed",
            object_type="user",
            object_id=user.id,
            actor=user,
            details={"login": login},
        )
        record("auth.sign_in", object_type="user", object_id=user.id, actor=user)
    return user


def create_user(
    login: str, display_name: str, role: Role, policy: PasswordPolicy, *, by: User
) -> tuple[User, str]:
    """A new account with a temporary password, which is returned once and never stored."""
    login, display_name = clean_login(login), clean_display_name(display_name)
    ensure_may_assign(by, role)
    password = temporary_password(policy.min_length)
    with database.atomic():
        _ensure_login_free(login)
        user = User.create(
            login=login,
            login_key=name_key(login),
            display_name=display_name,
            password_hash=policy.hash(password),
            role=role,
            must_change_password=True,
        )
        record(
            "user.created",
            object_type="user",
            object_id=user.id,
            details={"login": login, "display_name": display_name, "role": role.name},
        )
    return user, password


def update_user(user: User, display_name: str, role: Role, *, by: User) -> User:
    """Change name and role; a role change ends the person's sessions."""
    display_name = clean_display_name(display_name)
    ensure_may_manage(by, user, "change")
    if role.id != user.role_id:
        ensure_may_assign(by, role, user.id)
    with database.atomic():
        changes = {}
        if display_name != user.display_name:
            changes["display_name"] = [user.display_name, display_name]
            user.display_name = display_name
        if role.id != user.role_id:
            old_role = user.role
            if (
                old_role.is_admin
                and not role.is_admin
                and user.active
                and active_admin_count(user) == 0
            ):
                raise AccountError(
                    f"{user.display_name} is the last active admin and must stay one."
                )
            changes["role"] = [old_role.name, role.name]
            user.role = role
            user.session_version = secrets.token_hex(16)
        if changes:
            user.save()
            record("user.updated", object_type="user", object_id=user.id, details=changes)
    return user


def set_active(user: User, active: bool, *, by: User) -> User:
    """Disable (ending every session) or enable an account. Accounts are never deleted."""
    ensure_may_manage(by, user, "enable" if active else "disable")
    with database.atomic():
        if user.active == active:
            return user
        if not active and user.role.is_admin and active_admin_count(user) == 0:
            raise AccountError(
                f"{user.display_name} is the last active admin and cannot be disabled."
            )
        user.active = active
        if not active:
            user.session_version = secrets.token_hex(16)
        user.save()
        record("user.enabled" if active else "user.disabled", object_type="user", object_id=user.id)
    return user


def unlock(user: User, *, by: User) -> User:
    """Lift a lock-out; it also resets the failure count, so it is a grant of more guesses."""
    ensure_may_manage(by, user, "unlock")
    with database.atomic():
        user.locked_until = None
        user.failed_attempts = 0
        user.save()
        record("user.unlocked", object_type="user", object_id=user.id)
    return user


def reset_password(user: User, policy: PasswordPolicy, *, by: User | None) -> str:
    """Give ``user`` a new temporary password (returned once), unlock them, end their sessions.
    Whoever reads it can sign in as them; ``by`` None is the computer's owner (command line)."""
    if by is not None:
        ensure_may_manage(by, user, "reset the password of")
    password = temporary_password(policy.min_length)
    with database.atomic():
        user.password_hash = policy.hash(password)
        user.must_change_password = True
        user.locked_until = None
        user.failed_attempts = 0
        user.session_version = secrets.token_hex(16)
        user.save()
        record("user.password_reset", object_type="user", object_id=user.id, actor=by)
    return password


def change_own_password(user: User, current: str, new: str, policy: PasswordPolicy) -> User:
    """Change one's own password (the current one is required); ends every other session."""
    if not verify(policy.hasher, user.password_hash, current):
        record(
            "auth.password_change_failed",
            object_type="user",
            object_id=user.id,
            outcome="denied",
            details={"reason": "wrong current password"},
        )
        raise WrongCurrentPassword("The current password is not right.")
    if new == current:
        raise AccountError("Choose a password different from the current one.")
    return _set_own_password(user, new, policy)


def replace_temporary_password(user: User, new: str, policy: PasswordPolicy) -> User:
    """Replace a temporary password the person typed moments ago to sign in, without asking
    for it again (the caller checks that the sign-in was recent and in this session)."""
    if not user.must_change_password:
        raise AccountError("Your password is not a temporary one; enter it to change it.")
    if verify(policy.hasher, user.password_hash, new):
        raise AccountError("Choose a password different from the temporary one.")
    return _set_own_password(user, new, policy)


def _set_own_password(user: User, new: str, policy: PasswordPolicy) -> User:
    policy.check(new, user.login)
    with database.atomic():
        user.password_hash = policy.hash(new)
        user.must_change_password = False
        user.session_version = secrets.token_hex(16)
        user.save()
        record("auth.password_changed", object_type="user", object_id=user.id)
    return user


def change_own_display_name(user: User, display_name: str) -> User:
    display_name = clean_display_name(display_name)
    if display_name != user.display_name:
        with database.atomic():
            record(
                "user.updated",
                object_type="user",
                object_id=user.id,
                details={"display_name": [user.display_name, display_name]},
            )
            user.display_name = display_name
            user.save()
    return user


def search_users(text: str = ""):
    """People whose sign-in or display name contains ``text``, by display name."""
    query = User.select(User, Role).join(Role)
    text = text.strip()
    if text:
        # contains() escapes LIKE wildcards, so "%" and "_" match themselves.
        query = query.where(
            User.login_key.contains(name_key(text)) | User.display_name.contains(text)
        )
    return query.order_by(User.display_name.collate("NOCASE"), User.id)
