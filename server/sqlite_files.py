"""Opening, copying and durably renaming SQLite files: the dataset files and backups share
these, so a file is always opened and replaced the same way (fsync before the rename, then the
folder's entry)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def connect(path: Path) -> sqlite3.Connection:
    """A connection to a dataset file (autocommit; transactions are explicit). Read-write
    even for reading, so that closing the last connection also removes the WAL files."""
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 10000")
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
        os.fsync(handle.fileno())
    os.replace(source, target)
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
