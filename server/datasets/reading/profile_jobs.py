"""The first profile of a large dataset, worked out in a background thread so that the page
answers at once and shows progress (column by column) instead of holding the request for
many seconds. The result goes into the :class:`ProfileCache`, where the page finds it.

One profile runs at a time (the machine's cores also serve pages and imports); a second
waits its turn. Asking again for a profile already on its way joins it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ..storage import Column
from .profile import ProfileCache, profile_view
from .scope import Scope

log = logging.getLogger(__name__)


@dataclass
class ProfileJob:
    """One profile on its way: how far it is, and how it ended."""

    total: int
    done: int = 0
    column: str = ""  # the label of the column being worked on
    started: bool = False  # False while waiting for another profile to finish
    error: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def status(self) -> dict:
        """What the status route answers (JSON)."""
        if self.error is not None:
            state = "failed"
        elif self.finished.is_set():
            state = "done"
        else:
            state = "running" if self.started else "waiting"
        return {
            "status": state,
            "done": self.done,
            "total": self.total,
            "percent": round(100 * self.done / self.total) if self.total else 100,
            "column": self.column,
            "error": self.error,
        }


class ProfileRunner:
    """Background profiles, by cache key, feeding one :class:`ProfileCache`."""

    def __init__(self, cache: ProfileCache, at_once: int = 1) -> None:
        self.cache = cache
        self._jobs: dict[tuple, ProfileJob] = {}
        self._lock = threading.Lock()
        self._turns = threading.Semaphore(at_once)

    def job(self, key: tuple) -> ProfileJob | None:
        with self._lock:
            return self._jobs.get(key)

    def start(
        self,
        key: tuple,
        columns: list[Column],
        scope: Scope,
        open_rows: Callable[[], sqlite3.Connection],
    ) -> ProfileJob:
        """The job for ``key``: the one on its way, or a new one. ``open_rows`` is called here
        (in the request, where the person's access applies) only when a new job starts; the
        thread closes the connection."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.error is None:
                return job
            job = self._jobs[key] = ProfileJob(total=len(columns))
        try:
            con = open_rows()
        except Exception:
            with self._lock:
                self._jobs.pop(key, None)
            raise
        thread = threading.Thread(
            target=self._run,
            args=(key, job, con, columns, scope),
            name="sheaf-profile",
            daemon=True,
        )
        thread.start()
        return job

    def _run(
        self,
        key: tuple,
        job: ProfileJob,
        con: sqlite3.Connection,
        columns: list[Column],
        scope: Scope,
    ) -> None:
        def progress(done: int, column: Column) -> None:
            job.done, job.column = done, column.label

        try:
            with self._turns:
                job.started = True
                found = profile_view(con, columns, scope, progress)
            job.done, job.column = len(columns), ""
            self.cache.put(key, found)
            with self._lock:
                self._jobs.pop(key, None)  # the cache answers from now on
        except Exception as exc:  # the page says so and offers to try again
            log.exception("A background profile failed")
            job.error = f"The profile could not be worked out ({type(exc).__name__})."
        finally:
            con.close()
            job.finished.set()
