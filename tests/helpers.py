"""Helpers that several test modules share (no test module imports another)."""

from __future__ import annotations

from pathlib import Path

from server.datasets.storage import Column
from server.sqlite_files import connect


def read_rows(path: Path, columns: list[Column], limit: int, offset_rowid: int = 0) -> list[tuple]:
    """Rows after ``offset_rowid`` in storage order (keyset, never OFFSET)."""
    con = connect(path)
    try:
        names = ", ".join(c.name for c in columns)
        return con.execute(
            f"SELECT rowid, {names} FROM rows WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (offset_rowid, limit),
        ).fetchall()
    finally:
        con.close()
