"""Imports run in background threads, at most two at a time, so a page never waits on one.

The runner keeps, per running import, its meter (rows and bytes done) and its cancel flag;
everything that must outlive the process is in the ImportJob row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...db import database
from ...importers import Limits, Meter
from . import jobs

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


def limits_from(config: Mapping[str, Any]) -> Limits:
    """The import limits set in the app's settings."""
    return Limits(
        max_cell_chars=config["IMPORT_MAX_CELL_CHARS"],
        json_max_depth=config["IMPORT_JSON_MAX_DEPTH"],
        xlsx_max_uncompressed=config["IMPORT_XLSX_MAX_UNCOMPRESSED_MIB"] * 1024**2,
        xlsx_max_ratio=config["IMPORT_XLSX_MAX_RATIO"],
        whole_sheet_max_bytes=config["IMPORT_XLSX_MAX_WHOLE_SHEET_MIB"] * 1024**2,
    )


@dataclass
class Running:
    total_bytes: int
    meter: Meter = field(default_factory=Meter)
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)


class ImportRunner:
    def __init__(self, data_dir: Path, limits: Limits, workers: int = 2) -> None:
        self.data_dir, self.limits, self._workers = Path(data_dir), limits, workers
        self._pool: ThreadPoolExecutor | None = None  # made with the first import
        self._running: dict[int, Running] = {}
        self._lock = threading.Lock()

    def start(self, job_id: int, total_bytes: int) -> None:
        with self._lock:
            self._running[job_id] = state = Running(total_bytes)
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor  # not needed at start

                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="sheaf-import")
            pool = self._pool
        pool.submit(self._run, job_id, state)

    def _run(self, job_id: int, state: Running) -> None:
        try:
            with database.connection_context():
                if state.cancel.is_set():
                    jobs.cancel_queued(jobs.ImportJob.get_by_id(job_id), self.data_dir)
                    return
                state.started = time.monotonic()
                jobs.run(job_id, self.data_dir, self.limits, state.meter, state.cancel.is_set)
        except Exception:  # logged here: the pool's future that would hold it is never read
            log.exception("Import %s stopped on an unexpected error", job_id)
        finally:
            state.done.set()
            with self._lock:
                self._running.pop(job_id, None)

    def cancel(self, job_id: int) -> bool:
        state = self._running.get(job_id)
        if state is None:
            return False
        state.cancel.set()
        return True

    def progress(self, job_id: int) -> dict | None:
        """Rows and bytes done, and the seconds left if they can be told; None when not running."""
        state = self._running.get(job_id)
        if state is None:
            return None
        try:
            done_bytes, rows = state.meter.bytes(), state.meter.rows()
        except (ValueError, OSError):  # the reader closed its file a moment ago: nearly done
            done_bytes, rows = state.total_bytes, 0
        elapsed = time.monotonic() - state.started
        fraction = done_bytes / state.total_bytes if state.total_bytes and done_bytes else None
        left = elapsed * (1 - fraction) / fraction if fraction and fraction > 0.01 else None
        return {
            "rows": rows,
            "bytes": done_bytes,
            "total_bytes": state.total_bytes,
            "fraction": round(min(fraction, 1.0), 4) if fraction is not None else None,
            "seconds_left": round(left) if left is not None else None,
            "cancelling": state.cancel.is_set(),
        }

    def wait(self, job_id: int, timeout: float | None = None) -> bool:
        """Block until the import ends (tests and shutdown)."""
        state = self._running.get(job_id)
        return True if state is None else state.done.wait(timeout)

    def busy(self) -> list[int]:
        return list(self._running)

    def shutdown(self, cancel: bool = True) -> None:
        if cancel:
            for state in list(self._running.values()):
                state.cancel.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
