"""Opening, copying and durably renaming SQLite files: the dataset files and backups share
these, so a file is always opened and replaced the same way (fsync before the rename, then the
folder's entry)."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path


def sync(fd: int) -> None:
    """Push a file's data to the disk itself. On macOS fsync stops at the drive's cache, which
    a power cut empties; F_FULLFSYNC asks the drive to write it out."""
    if sys.platform == "darwin":
        import fcntl

        try:
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
            return
        except OSError:  # a file system without it (some network shares): fsync at least
            pass
    os.fsync(fd)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows has no folder handles to sync)."""
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            sync(fd)
        finally:
            os.close(fd)


def connect(path: Path) -> sqlite3.Connection:
    """A connection to a dataset file (autocommit; transactions are explicit). Read-write
    even for reading, so that closing the last connection also removes the WAL files."""
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 10000")
    con.execute("PRAGMA fullfsync = 1")  # macOS: to the disk, not its cache (elsewhere a no-op)
    con.execute("PRAGMA checkpoint_fullfsync = 1")
    return con


def copy_file(source: Path, target: Path) -> None:
    """Copy a dataset file with SQLite's online backup (consistent even while it is read)."""
    reader = connect(source)
    writer = sqlite3.connect(target)
    try:
        with writer:
            reader.backup(writer)
    finally:
        reader.close()
        writer.close()


def durable_rename(source: Path, target: Path) -> None:
    """Replace ``target`` with ``source`` so that a crash leaves one or the other, whole."""
    with open(source, "rb+") as handle:
        sync(handle.fileno())
    os.replace(source, target)
    sync_folder(target.parent)
