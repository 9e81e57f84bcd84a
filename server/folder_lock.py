"""One Sheaf per data folder: the desktop app and ``sheaf serve`` hold an exclusive lock on
``sheaf.lock`` for as long as they run; the operating system drops it if the process dies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

LOCK_FILE = "sheaf.lock"


class FolderInUse(RuntimeError):
    """Another Sheaf is running on this data folder."""


def lock_data_folder(data_dir: Path) -> IO[str]:
    """Take the folder's lock and return the open file (keep it open to keep the lock)."""
    path = Path(data_dir) / LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the process's life
    try:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise FolderInUse(
            f"Sheaf is already open for {data_dir} (in a window or as a server). "
            "Switch to it, or close it first."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
