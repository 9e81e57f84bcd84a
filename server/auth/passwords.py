"""Password hashing (Argon2id) and the password rules (NIST SP 800-63B, OWASP ASVS 5).

The rules: a minimum length (8 by default, up to 64 by setting), at least 1,024 characters
accepted and compared exactly, no password from the shipped list of common ones, not the login
name. No composition rules and no forced rotation: both make passwords weaker in practice.
"""

from __future__ import annotations

import secrets
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # argon2 is imported when a password is first hashed or checked, not at start
    from argon2 import PasswordHasher

MAX_LENGTH = 1024  # far above ASVS's 64; bounds the hashing work one request can ask for
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def make_hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hasher: PasswordHasher, password_hash: str) -> bool:
    """True when the hash was made with other parameters than the hasher's, or is no Argon2
    hash at all."""
    from argon2.exceptions import InvalidHashError

    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def password_problems(password: str, min_length: int, login: str = "") -> list[str]:
    """Why ``password`` may not be used, as sentences for a person; empty when it is fine.

    Length counts Unicode code points, as NIST asks, so 8 accented letters are 8 characters.
    """
    problems = []
    if len(password) < min_length:
        problems.append(f"Use at least {min_length} characters.")
    elif len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    elif password.casefold() in common_passwords():
        problems.append("This password is one of the most commonly used ones; choose another.")
    elif login and password.casefold() == login.casefold():
        problems.append("The password must not be the same as the sign-in name.")
    return problems


def temporary_password(min_length: int) -> str:
    """A random password that is easy to read out and type, e.g. ``kq7m-x2pf-9wdn-hrt4``."""
    groups = max(4, -(-min_length // 4))
    return "-".join(
        "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(groups)
    )
