"""The names of the files Sheaf keeps for datasets (``datasets/<key>.sqlite``) and imports
(``originals/<key>``): keys it makes itself, 32 lowercase hex digits. The database stores
them, and a database can come from a backup someone handed over, so a key is checked every
time it becomes a path: :func:`key_path` is the one place that joins one to a folder, and it
refuses anything else (``../``, a slash, an absolute path) instead of reaching outside."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

KEY_PATTERN = "[0-9a-f]{32}"
_KEY = re.compile(KEY_PATTERN)


class BadKey(ValueError):
    """A stored file key that Sheaf did not make: its file is never touched."""


def new_key() -> str:
    return secrets.token_hex(16)


def is_key(value: object) -> bool:
    return isinstance(value, str) and _KEY.fullmatch(value) is not None


def key_path(folder: Path, key: object, suffix: str = "") -> Path:
    """``folder/<key><suffix>``, or :class:`BadKey` when ``key`` is not one Sheaf makes."""
    if not is_key(key):
        raise BadKey(f"{key!r} is not a file key Sheaf makes; its file is left alone.")
    return Path(folder) / f"{key}{suffix}"
