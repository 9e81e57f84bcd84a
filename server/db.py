"""The application database: one SQLite file, opened per request through a Peewee proxy.

Everything SQLite-specific about the application database (PRAGMAs, the file location) lives
here, so another backend is one more function, not a rewrite.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from peewee import DatabaseProxy, SqliteDatabase

database = DatabaseProxy()

#: WAL lets readers carry on while one writer works; ``synchronous=FULL`` makes each committed
#: transaction survive a power cut, not just a crash of Sheaf; the busy timeout makes a second
#: writer wait its turn instead of failing with "database is locked". On macOS ``fsync`` stops
#: at the drive's cache: the two ``fullfsync`` pragmas make commits and checkpoints reach the
#: disk there (SQLite ignores them elsewhere).
PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "full",
    "fullfsync": 1,
    "checkpoint_fullfsync": 1,
    "busy_timeout": 10_000,
}


def open_database(path: Path | str) -> SqliteDatabase:
    """Bind the proxy to the SQLite file at ``path`` and return the real database."""
    # Transactions take the write lock when they begin (IMMEDIATE): one that read first and
    # tried to write later could otherwise fail at once with "database is locked" instead of
    # waiting its turn behind another writer.
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, timeout=10, lock_type="IMMEDIATE")
    database.initialize(db)
    return db


def init_app(app: Flask) -> None:
    """A connection per request: opened before it, closed after it, whatever happened."""

    @app.before_request
    def _connect() -> None:
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()
