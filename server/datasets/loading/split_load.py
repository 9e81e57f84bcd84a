"""A large delimited file loads in two halves at once: this process reads the first half while
a helper process reads the second into a dataset file of its own, which is then appended.

Reading CSV in Python holds one core; a two-core office PC idles the other. The halves meet
at a byte offset between two records (``delimited.split_point``), and the first half ends in
a sentinel row that proves it: if the file fooled the split, or the helper fails in any way,
the load starts again the ordinary way (``bulk_load.write_dataset`` does that on
:class:`RaggedRow`), so a split can cost time but never change what is stored.

The helper (:mod:`.helper_process`) imports nothing beyond the importers and storage
modules.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from ...importers import ReadOptions
from ...importers.delimited import split_point, tail_rows
from ...importers.table import Limits, Meter
from ...sqlite_files import connect
from ..storage import Column
from .bulk_load import (
    LoadResult,
    RaggedRow,
    Spec,
    Stopped,
    bulk_insert,
    check_values,
    new_table,
)
from .helper_process import (
    Helper,
    await_job,
    job_pipe,
    lower_priority,
    shared_counter,
    watch_parent,
)

MIN_BYTES = 16 * 1024 * 1024  # below this, starting a process costs more than it saves
log = logging.getLogger(__name__)


class HelperHalf:
    """The second half of a delimited file, loaded by a helper process (see the module).

    The process starts as soon as the split is planned and waits for its job: a new process
    takes about 0.1 s to be ready, time the parent spends finding the split and guessing the
    types, instead of time the helper's half would finish later by."""

    def __init__(self, path: Path, options: ReadOptions, limits: Limits) -> None:
        self.path, self.options, self.limits = path, options, limits
        self.start_byte = 0
        self.part: Path | None = None
        self._answered = False
        self._progress = shared_counter()
        receive, self._jobs = job_pipe()
        try:
            self._helper: Helper | None = Helper(
                await_job, (receive,), {"progress": self._progress}, name="sheaf-import-half"
            )
        except BaseException:
            self._jobs.close()
            raise
        finally:
            receive.close()  # the helper has its own end; with this one closed it sees EOF

    def bytes_read(self) -> int:
        return self._progress.value

    def start(
        self, partial: Path, columns: list[Column], on_bad: str, nul: bool, spec: Spec
    ) -> None:
        self.part = partial.with_name(partial.name + ".half")
        self.part.unlink(missing_ok=True)
        job = (
            load_half,
            (self.path, self.options, self.start_byte, self.limits, self.part),
            {"columns": columns, "on_bad": on_bad, "nul": nul, "spec": spec},
        )
        try:
            self._jobs.send(job)
        except Exception as exc:  # the helper is gone: load in one piece
            log.warning("The import helper could not take its half (%s).", exc)
            raise RaggedRow("the helper process did not start") from None
        finally:
            self._jobs.close()

    def finish(self, should_stop: Callable[[], bool] | None) -> tuple[Path, LoadResult]:
        assert self._helper is not None and self.part

        def between() -> None:
            if should_stop is not None and should_stop():
                raise Stopped()

        result = self._helper.wait(between)
        if not isinstance(result, LoadResult):
            self._helper.end(grace=30)
            log.warning("The import helper gave no result (%s); loading in one piece.", result)
            raise RaggedRow("the helper process did not load its half")
        self._answered = True  # its file is closed: it sent the result after closing it
        return self.part, result

    def discard(self) -> None:
        """End the helper (idempotent): after the load, or unused. A helper that has answered
        is left to exit by itself (it did so while its rows were appended), any other is
        stopped now."""
        self._jobs.close()
        if self._helper is not None:
            self._helper.end(grace=30 if self._answered else 0)
            self._helper = None
        if self.part is not None:
            self.part.unlink(missing_ok=True)


def plan(path: Path, options: ReadOptions, limits: Limits) -> HelperHalf | None:
    """A helper for the second half of ``path``, if the file is worth and fit for splitting
    (its process started at once, see :class:`HelperHalf`); the caller must :meth:`discard`
    it, used or not."""
    if options.format != "delimited" or path.stat().st_size < MIN_BYTES:
        return None
    try:
        half = HelperHalf(path, options, limits)
    except Exception as exc:  # e.g. no way to start a process here: load in one piece
        log.warning("The import helper could not start (%s).", exc)
        return None
    try:
        start = split_point(path, options)
    except BaseException:
        half.discard()
        raise
    if start is None:
        half.discard()
        return None
    half.start_byte = start
    return half


def load_half(
    send,
    path: Path,
    options: ReadOptions,
    start: int,
    limits: Limits,
    part: Path,
    *,
    columns: list[Column],
    on_bad: str,
    nul: bool,
    spec: Spec,
    progress,
) -> None:
    """In the helper process: load the rows from ``start`` into ``part`` and check them; send
    the result, or the reason there is none (the first half then loads the whole file)."""
    try:
        lower_priority()
        parent_gone = watch_parent()
        meter = Meter()
        rows = tail_rows(path, options, start, limits, meter)

        def report() -> bool:  # True stops the load: the parent is gone (killed) or cancelled
            progress.value = meter.bytes()
            return parent_gone()

        con = connect(part)
        try:
            new_table(con, columns)
            fine = bulk_insert(con, columns, rows, report, spec.readings)
            unsure = [c for c in columns if c.name not in fine]
            result = check_values(con, unsure, 1, on_bad, nul, spec.markers)
            # A new table, rows numbered 1 to n: the highest rowid is the count.
            result.rows = con.execute("SELECT coalesce(max(rowid), 0) FROM rows").fetchone()[0]
        finally:
            con.close()
        send.send(result)
    except Exception as exc:  # any: the first half loads again and reports errors properly
        part.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the parent is gone (killed): nobody to tell
            send.send(f"{type(exc).__name__}: {exc}")
    finally:
        send.close()
