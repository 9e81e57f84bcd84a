"""Checking a sign-in attempt, with per-account throttling and a constant answer.

Whatever went wrong (unknown name, wrong password, disabled or locked account) the caller
gets the same :class:`SignInFailed`, and the work done is the same (one Argon2 verification),
so neither the message nor the timing tells whether a name exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ..audit_trail import record
from ..db import database
from ..models import User, name_key, utcnow
from .passwords import needs_rehash, verify

if TYPE_CHECKING:
    from argon2 import PasswordHasher

GENERIC_FAILURE = "That sign-in name and password did not match an account that can sign in."


class SignInFailed(Exception):
    pass


@dataclass(frozen=True)
class Throttle:
    threshold: int
    minutes: int


_dummy_hashes: dict[str, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash made with the current parameters, to verify against when there is no account."""
    key = f"{hasher.time_cost}:{hasher.memory_cost}:{hasher.parallelism}"
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash("no account has this password")
    return _dummy_hashes[key]


def authenticate(login: str, password: str, hasher: PasswordHasher, throttle: Throttle) -> User:
    """The account for ``login`` if ``password`` is right and it may sign in; else SignInFailed."""
    user = User.get_or_none(User.login_key == name_key(login)) if login else None
    if user is None:
        verify(hasher, _dummy_hash(hasher), password)
        record(
            "auth.sign_in_failed",
            outcome="denied",
            details={"login": login[:64], "reason": "unknown name"},
        )
        raise SignInFailed(GENERIC_FAILURE)

    password_ok = verify(hasher, user.password_hash, password)
    if not user.active or user.is_locked():
        reason = "account disabled" if not user.active else "account locked"
        record(
            "auth.sign_in_failed",
            object_type="user",
            object_id=user.id,
            actor=user,
            outcome="denied",
            details={"reason": reason},
        )
        raise SignInFailed(GENERIC_FAILURE)
    if not password_ok:
        _count_failure(user, throttle)
        raise SignInFailed(GENERIC_FAILURE)

    with database.atomic():
        user.failed_attempts = 0
        user.locked_until = None
        user.last_sign_in = utcnow()
        if needs_rehash(hasher, user.password_hash):
            user.password_hash = hasher.hash(password)
        user.save()
        record("auth.sign_in", object_type="user", object_id=user.id, actor=user)
    return user


def _count_failure(user: User, throttle: Throttle) -> None:
    with database.atomic():
        attempts = User.get_by_id(user.id).failed_attempts + 1
        locked_until = None
        if attempts >= throttle.threshold:
            locked_until = utcnow() + timedelta(minutes=throttle.minutes)
            attempts = 0
        User.update(failed_attempts=attempts, locked_until=locked_until).where(
            User.id == user.id
        ).execute()
        record(
            "auth.sign_in_failed",
            object_type="user",
            object_id=user.id,
            actor=user,
            outcome="denied",
            details={"reason": "wrong password"},
        )
        if locked_until is not None:
            record(
                "auth.locked_out",
                object_type="user",
                object_id=user.id,
                actor=user,
                outcome="denied",
                details={
                    "until": locked_until.isoformat(timespec="seconds"),
                    "after_failures": throttle.threshold,
                },
            )


def confirm_password(user: User, password: str, hasher: PasswordHasher, throttle: Throttle) -> bool:
    """Check the signed-in person's password (idle unlock); failures count towards lock-out."""
    if verify(hasher, user.password_hash, password) and user.active and not user.is_locked():
        User.update(failed_attempts=0).where(User.id == user.id).execute()
        record("auth.session_unlocked", object_type="user", object_id=user.id, actor=user)
        return True
    _count_failure(user, throttle)
    return False
