"""The search index of a large dataset is built after its import, in the background.

A million rows are browsable as soon as they are stored (about 3 s); their FTS5 index takes
as long again. So the import leaves the index empty with its progress at 0 (see
``storage.build_search_index``) and one daemon thread fills it here, a batch of rows at a
time (``storage.build_search_index_step``). Each batch holds the dataset's write lock for
about 50 ms, so an edit waits at most that long, and an edit sees the built mark the batch
left: it keeps the index in step for the rows below the mark, the build takes the rest.

The state is in the dataset file, so nothing is lost when Sheaf stops mid-build: at the next
start every dataset is looked at once and a build under way goes on. A whole-file change
(cleaning step, append, undo, go back) announces its new file through
``versions.new_file_hooks`` and the build goes on in that file, wherever it stands.

On Linux the thread runs at a lower CPU priority (nice 10), so pages stay quick meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from typing import Any

from ..db import database
from ..models import Dataset
from ..sqlite_files import connect
from . import versions
from .catalog import dataset_file
from .storage import INDEX_BATCH, build_search_index_step

log = logging.getLogger(__name__)
PAUSE_SECONDS = 0.005  # between two batches: a waiting edit gets the lock first
RETRY_SECONDS = 1.0  # after a batch failed


class IndexBuilder:
    """Builds the pending search indexes one batch at a time, a dataset after another."""

    def __init__(self, app: Any, batch: int = INDEX_BATCH) -> None:
        self.app, self.batch = app, batch
        self._pending: set[int] = set()
        self._guard = threading.Lock()
        self._wake = threading.Event()

    def want(self, dataset_id: int) -> None:
        """Look at the dataset's current file soon (a build may be under way in it)."""
        with self._guard:
            self._pending.add(dataset_id)
        self._wake.set()

    def step(self, dataset_id: int) -> bool:
        """One batch of the dataset's build; True when there is nothing more to do for it (the
        index is complete, or the dataset is gone)."""
        data_dir = self.app.config["DATA_DIR"]
        try:
            with versions.writing(dataset_id) as dataset:
                con = connect(dataset_file(data_dir, dataset.storage_key))
                try:
                    return build_search_index_step(con, self.batch)
                finally:
                    con.close()
        except versions.Busy:
            return False
        except versions.VersionError:  # the dataset was deleted
            return True

    def run_until_idle(self) -> None:
        """Build every pending index to the end (the thread's loop, and the tests')."""
        while True:
            with self._guard:
                if not self._pending:
                    return
                dataset_id = min(self._pending)
            try:
                with self.app.app_context(), database.connection_context():
                    done = self.step(dataset_id)
            except Exception:  # a damaged file: logged, tried again at a search or a restart
                log.exception("Building the search index of dataset %s failed", dataset_id)
                time.sleep(RETRY_SECONDS)
                done = True
            if done:
                with self._guard:
                    self._pending.discard(dataset_id)
            time.sleep(PAUSE_SECONDS)

    def run(self) -> None:
        _lower_priority()
        with self.app.app_context(), database.connection_context():
            for (dataset_id,) in Dataset.select(Dataset.id).tuples():
                self.want(dataset_id)  # a build a stop interrupted goes on
        while True:
            self._wake.wait()
            self._wake.clear()
            self.run_until_idle()


def _lower_priority() -> None:
    """This thread at nice 10 where threads have priorities of their own (Linux)."""
    if sys.platform.startswith("linux") and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


_builder: IndexBuilder | None = None


def start(app: Any) -> IndexBuilder:
    """Start the background builder for ``app`` (once per process)."""
    global _builder
    builder = IndexBuilder(app)
    versions.new_file_hooks[:] = [builder.want]
    _builder = builder
    threading.Thread(target=builder.run, name="sheaf-search-index", daemon=True).start()
    return builder


def wake(dataset_id: int) -> None:
    """Ask the builder (if one runs) to look at the dataset: a search found its index
    unfinished."""
    if _builder is not None:
        _builder.want(dataset_id)
