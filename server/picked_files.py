"""Files a person chose in the desktop's native dialogs, handed to the server by token.

The window's JS bridge opens the dialog and registers the chosen path here; the page then sends
only the token. So the server reads or writes local files only where a person at the window
pointed, never a path a page made up. Tokens are single-use and expire.
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

LIFETIME = 600  # seconds


class PickedFiles:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, Path, float]] = {}
        self._lock = threading.Lock()

    def add(self, path: Path, purpose: str) -> str:
        """Register a path chosen in a dialog for ``purpose`` ("open" or "save")."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._entries = {k: v for k, v in self._entries.items() if v[2] > now}
            self._entries[token] = (purpose, Path(path), now + LIFETIME)
        return token

    def take(self, token: str | None, purpose: str) -> Path | None:
        """The path behind ``token`` if it was chosen for ``purpose``; each token works once."""
        if not token:
            return None
        with self._lock:
            entry = self._entries.pop(token, None)
        if entry is None or entry[0] != purpose or entry[2] < time.monotonic():
            return None
        return entry[1]
