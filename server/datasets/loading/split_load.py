"""A large delimited file loads in two halves at once: this process reads the first half while
a helper process reads the second into a dataset file of its own, which is then appended.

Reading CSV in Python holds one core; a two-core office PC idles the other. The halves meet
at a byte offset between two records (``delimited.split_point``), and the first half ends in
a sentinel row that proves it: if the file fooled the split, or the helper fails in any way,
the load starts again the ordinary way (``storage.write_dataset`` does that on
:class:`RaggedRow`), so a split can cost time but never change what is stored.

The helper is started with ``spawn`` (never ``fork``: this process runs the web server's
threads), and it imports nothing beyond the importers and storage modules.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

from ...importers import ReadOptions
from ...importers.delimited import split_point, tail_rows
from ...importers.table import Limits, Meter
from ...sqlite_files import connect
from ..storage import Column
from .bulk_load import LoadResult, RaggedRow, Stopped, bulk_insert, check_values, new_table

MIN_BYTES = 16 * 1024 * 1024  # below this, starting a process costs more than it saves
POLL_SECONDS = 0.05
log = logging.getLogger(__name__)


class HelperHalf:
    """The second half of a delimited file, loaded by a helper process (see the module)."""

    def __init__(self, path: Path, options: ReadOptions, start: int, limits: Limits) -> None:
        self.path, self.options, self.start_byte, self.limits = path, options, start, limits
        self.part: Path | None = None
        self._process = None
        self._receive = None
        self._progress = None

    def bytes_read(self) -> int:
        return self._progress.value if self._progress is not None else 0

    def start(self, partial: Path, columns: list[Column], refuse: bool, nul: bool) -> None:
        self.part = partial.with_name(partial.name + ".half")
        self.part.unlink(missing_ok=True)
        try:
            context = multiprocessing.get_context("spawn")
            self._receive, send = context.Pipe(duplex=False)
            self._progress = context.Value("q", 0, lock=False)
            process = context.Process(
                target=load_half,
                args=(send, self.path, self.options, self.start_byte, self.limits, self.part),
                kwargs={
                    "columns": columns,
                    "refuse": refuse,
                    "nul": nul,
                    "progress": self._progress,
                },
                name="sheaf-import-half",
                daemon=True,
            )
            try:
                process.start()
            finally:
                send.close()
        except Exception as exc:  # e.g. no way to start a process here: load in one piece
            log.warning("The import helper could not start (%s).", exc)
            raise RaggedRow("the helper process did not start") from None
        self._process = process

    def finish(self, should_stop: Callable[[], bool] | None) -> tuple[Path, LoadResult]:
        assert self._process is not None and self._receive is not None and self.part
        while True:
            if should_stop is not None and should_stop():
                raise Stopped()
            if self._receive.poll(POLL_SECONDS) or not self._process.is_alive():
                break
        try:
            result = self._receive.recv() if self._receive.poll(0) else None
        except EOFError:
            result = None
        self._process.join()
        if not isinstance(result, LoadResult):
            log.warning("The import helper gave no result (%s); loading in one piece.", result)
            raise RaggedRow("the helper process did not load its half")
        return self.part, result

    def discard(self) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process.close()
            self._process = None
        if self._receive is not None:
            self._receive.close()
            self._receive = None
        if self.part is not None:
            self.part.unlink(missing_ok=True)


def plan(path: Path, options: ReadOptions, limits: Limits) -> HelperHalf | None:
    """A helper for the second half of ``path``, if the file is worth and fit for splitting."""
    if options.format != "delimited" or path.stat().st_size < MIN_BYTES:
        return None
    start = split_point(path, options)
    return None if start is None else HelperHalf(path, options, start, limits)


def load_half(
    send,
    path: Path,
    options: ReadOptions,
    start: int,
    limits: Limits,
    part: Path,
    *,
    columns: list[Column],
    refuse: bool,
    nul: bool,
    progress,
) -> None:
    """In the helper process: load the rows from ``start`` into ``part`` and check them; send
    the result, or the reason there is none (the first half then loads the whole file)."""
    try:
        parent = os.getppid()
        die_with_parent()
        meter = Meter()
        rows = tail_rows(path, options, start, limits, meter)

        def report() -> bool:  # True stops the load: the parent is gone (killed) or cancelled
            progress.value = meter.bytes()
            return os.getppid() != parent

        con = connect(part)
        try:
            new_table(con, columns)
            bulk_insert(con, columns, rows, report)
            result = check_values(con, columns, 1, refuse, nul)
            result.rows = con.execute("SELECT count(*) FROM rows").fetchone()[0]
        finally:
            con.close()
        send.send(result)
    except Exception as exc:  # any: the first half loads again and reports errors properly
        part.unlink(missing_ok=True)
        send.send(f"{type(exc).__name__}: {exc}")
    finally:
        send.close()


def die_with_parent() -> None:
    """In a helper process (Linux): the kernel kills it the moment its parent dies, so a killed
    Sheaf leaves no helper writing on (what it had half-written goes at the next start)."""
    import contextlib
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
