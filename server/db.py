"""The application database: one SQLite file, lent to each request through a Peewee proxy.

Everything SQLite-specific about the application database (PRAGMAs, the file location) lives
here, so another backend is one more function, not a rewrite.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask
from peewee import DatabaseProxy
from playhouse.pool import PooledSqliteDatabase

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


#: Requests borrow connections from a pool and give them back when they end. A new
#: connection costs about 0.45 ms before its first answer (SQLite reads the schema, and the
#: last connection to close removes the write-ahead log that the next one makes again): 7% of a
#: table page (issue #17). Idle connections hold no transaction (the pool rolls back any left
#: open) and no lock, so other processes and backups are not held up by them.
MAX_CONNECTIONS = 32


class RequestPool(PooledSqliteDatabase):
    """Only requests keep connections for the next one (:meth:`give_back`). Any other
    ``close()`` (the command line, background threads, a build step) really closes: they may
    replace or delete the file next, which Windows refuses while a connection holds it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._giving_back = threading.local()

    def close(self) -> bool:
        if getattr(self._giving_back, "on", False):
            return super().close()
        self._giving_back.on = True  # manual_close closes through close() once more
        try:
            return self.manual_close() is not False
        finally:
            self._giving_back.on = False

    def give_back(self) -> bool:
        """Return this thread's connection to the pool (the end of a request)."""
        self._giving_back.on = True
        try:
            return super().close()
        finally:
            self._giving_back.on = False


def release() -> None:
    """Close the idle pooled connections of the bound database: before its file is replaced
    in this process (an app made again, as the tests and a staged restore's next start do)."""
    previous = database.obj
    if isinstance(previous, PooledSqliteDatabase):
        previous.close_idle()


def open_database(path: Path | str) -> RequestPool:
    """Bind the proxy to the SQLite file at ``path`` and return the real database (the idle
    connections of one bound before are closed first, see :func:`release`)."""
    release()
    # Transactions take the write lock when they begin (IMMEDIATE): one that read first and
    # tried to write later could otherwise fail at once with "database is locked" instead of
    # waiting its turn behind another writer. A pooled connection may serve another thread
    # next time (one at a time): check_same_thread would refuse that. ``timeout`` is how long a
    # request waits for a free connection when all are lent (SQLite's own wait for a writer is
    # the busy_timeout pragma).
    db = RequestPool(
        str(path),
        pragmas=PRAGMAS,
        timeout=10,
        lock_type="IMMEDIATE",
        max_connections=MAX_CONNECTIONS,
        check_same_thread=False,
    )
    database.initialize(db)
    return db


def init_app(app: Flask) -> None:
    """A connection per request: borrowed before it, given back after it, whatever happened."""

    @app.before_request
    def _connect() -> None:
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        if not database.is_closed():
            database.give_back()
