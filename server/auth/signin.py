"""Checking a sign-in attempt, with per-account throttling and a constant answer.

Whatever went wrong (unknown name, wrong password, disabled or locked account) the caller
gets the same :class:`SignInFailed`, and the work done is the same (one Argon2 verification),
so neither the message nor the timing tells whether a name exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from peewee import Case, Expression

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
    """The account for ``login`` if ``password`` is right and it may sign in; else SignInFailed.

    The account is read before the slow Argon2 check and may be locked, disabled or given a new
    password by the time it ends, so the verdict is written by conditional UPDATEs that look at
    the row as it is then (SQLite runs them one at a time), never from the copy read before."""
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
    if not user.active:
        _refuse(user, "account disabled")
    if not password_ok:
        _count_failure(user, throttle)
        raise SignInFailed(GENERIC_FAILURE)
    new_hash = hasher.hash(password) if needs_rehash(hasher, user.password_hash) else None
    changes = {User.last_sign_in: utcnow()}
    if new_hash is not None:
        changes[User.password_hash] = new_hash
    with database.atomic():
        admitted = _clear_failures(user, changes)
        if admitted:
            record("auth.sign_in", object_type="user", object_id=user.id, actor=user)
    if not admitted:
        _record_refusal(user)
        raise SignInFailed(GENERIC_FAILURE)
    return User.get_by_id(user.id)


def _unlocked(now: datetime) -> Expression:
    return User.locked_until.is_null() | (User.locked_until <= now)


def _clear_failures(user: User, changes: dict) -> bool:
    """Reset the failure count (with ``changes``) unless, since ``user`` was read, the account
    was locked, disabled or given another password: a success never lifts a lock set meanwhile."""
    now = utcnow()
    query = User.update({User.failed_attempts: 0, User.locked_until: None, **changes}).where(
        (User.id == user.id)
        & (User.active == True)  # noqa: E712
        & (User.password_hash == user.password_hash)
        & _unlocked(now)
    )
    return query.execute() == 1


def _record_refusal(user: User) -> None:
    """Audit a right password refused because of the account's state now."""
    now = User.get_by_id(user.id)
    if not now.active:
        reason = "account disabled"
    elif now.is_locked():
        reason = "account locked"
    else:
        reason = "password changed meanwhile"
    _audit_failure(user, reason)


def _refuse(user: User, reason: str) -> NoReturn:
    _audit_failure(user, reason)
    raise SignInFailed(GENERIC_FAILURE)


def _audit_failure(user: User, reason: str) -> None:
    record(
        "auth.sign_in_failed",
        object_type="user",
        object_id=user.id,
        actor=user,
        outcome="denied",
        details={"reason": reason},
    )


def _count_failure(user: User, throttle: Throttle) -> None:
    """Count a wrong password in one UPDATE that also sets the lock when it reaches the
    threshold. It matches only while the account is unlocked, so a failure decided after a
    lock (one in flight when it landed included) counts for nothing and never lifts it: at most
    ``threshold`` wrong passwords are ever judged per lock-out, however many arrive at once."""
    with database.atomic():
        now = utcnow()
        until = now + timedelta(minutes=throttle.minutes)
        reaches = User.failed_attempts + 1 >= throttle.threshold
        counted = (
            User.update(
                failed_attempts=Case(None, [(reaches, 0)], User.failed_attempts + 1),
                locked_until=Case(
                    None, [(reaches, User.locked_until.db_value(until))], User.locked_until
                ),
            )
            .where((User.id == user.id) & _unlocked(now))
            .execute()
        )
        if not counted:
            _audit_failure(user, "account locked")
            return
        _audit_failure(user, "wrong password")
        if User.get_by_id(user.id).is_locked(now):  # this failure set the lock
            record(
                "auth.locked_out",
                object_type="user",
                object_id=user.id,
                actor=user,
                outcome="denied",
                details={
                    "until": until.isoformat(timespec="seconds"),
                    "after_failures": throttle.threshold,
                },
            )


def confirm_password(user: User, password: str, hasher: PasswordHasher, throttle: Throttle) -> bool:
    """Check the signed-in person's password (idle unlock); failures count towards lock-out."""
    if not verify(hasher, user.password_hash, password):
        _count_failure(user, throttle)
        return False
    with database.atomic():
        admitted = _clear_failures(user, {})
        if admitted:
            record("auth.session_unlocked", object_type="user", object_id=user.id, actor=user)
    if not admitted:
        _record_refusal(user)
    return admitted
