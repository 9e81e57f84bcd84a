"""Deleting a file that someone may still be reading.

On Windows a file that any process holds open cannot be deleted (WinError 32): a dataset file
whose old version an undo or a replace left behind may be read at that moment by an export, a
backup or a page, a backup file by its download, an upload by an import's orphaned helper.
Linux and macOS delete such a file at once (the reader keeps its copy until it closes it).
Deleting through :func:`remove` never fails for that reason: a held file is noted and deleted
at the next chance (after each request, by the pruning thread, by :func:`retry`). The list is
not kept across a restart: what it held is found again there, because every deletion here is
of a file nothing refers to any more, and the start-up clean-up, the next pruning run or the
next automatic backup removes such files anyway.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_waiting: set[Path] = set()
_lock = threading.Lock()


def remove(path: Path) -> bool:
    """Delete ``path`` (gone already is fine). True when it is gone now; False when a process
    holds it (Windows), and it will be deleted once nothing does."""
    try:
        Path(path).unlink(missing_ok=True)
    except PermissionError as exc:
        with _lock:
            _waiting.add(Path(path))
        log.info("%s is in use (%s); it will be deleted when it is free.", Path(path).name, exc)
        return False
    return True


def retry() -> None:
    """Delete what :func:`remove` could not; whatever is still held waits for the next try.
    Cheap when nothing waits (it runs after every request)."""
    if not _waiting:
        return
    with _lock:
        paths = list(_waiting)
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except PermissionError:
            continue
        except OSError as exc:  # anything else will not go better next time
            log.warning("%s could not be deleted: %s", path, exc)
        with _lock:
            _waiting.discard(path)


def waiting() -> set[Path]:
    """The files waiting to be deleted (for tests and the logs)."""
    with _lock:
        return set(_waiting)
