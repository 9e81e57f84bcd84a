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
from .helper_process import Helper, lower_priority, shared_counter, watch_parent

MIN_BYTES = 16 * 1024 * 1024  # below this, starting a process costs more than it saves
log = logging.getLogger(__name__)


class HelperHalf:
    """The second half of a delimited file, loaded by a helper process (see the module)."""

    def __init__(self, path: Path, options: ReadOptions, start: int, limits: Limits) -> None:
        self.path, self.options, self.start_byte, self.limits = path, options, start, limits
        self.part: Path | None = None
        self._helper: Helper | None = None
        self._progress = None

    def bytes_read(self) -> int:
        return self._progress.value if self._progress is not None else 0

    def start(
        self, partial: Path, columns: list[Column], on_bad: str, nul: bool, spec: Spec
    ) -> None:
        self.part = partial.with_name(partial.name + ".half")
        self.part.unlink(missing_ok=True)
        try:
            self._progress = shared_counter()
            self._helper = Helper(
                load_half,
                (self.path, self.options, self.start_byte, self.limits, self.part),
                {
                    "columns": columns,
                    "on_bad": on_bad,
                    "nul": nul,
                    "spec": spec,
                    "progress": self._progress,
                },
                name="sheaf-import-half",
            )
        except Exception as exc:  # e.g. no way to start a process here: load in one piece
            log.warning("The import helper could not start (%s).", exc)
            raise RaggedRow("the helper process did not start") from None

    def finish(self, should_stop: Callable[[], bool] | None) -> tuple[Path, LoadResult]:
        assert self._helper is not None and self.part

        def between() -> None:
            if should_stop is not None and should_stop():
                raise Stopped()

        result = self._helper.wait(between)
        self._helper.end(grace=30)
        if not isinstance(result, LoadResult):
            log.warning("The import helper gave no result (%s); loading in one piece.", result)
            raise RaggedRow("the helper process did not load its half")
        return self.part, result

    def discard(self) -> None:
        if self._helper is not None:
            self._helper.end()
            self._helper = None
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
            result.rows = con.execute("SELECT count(*) FROM rows").fetchone()[0]
        finally:
            con.close()
        send.send(result)
    except Exception as exc:  # any: the first half loads again and reports errors properly
        part.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the parent is gone (killed): nobody to tell
            send.send(f"{type(exc).__name__}: {exc}")
    finally:
        send.close()
