"""From a file on disk to a dataset file: the import pipeline without any web in it.

Used by the import jobs, the benchmarks and the tests alike:

    sample = inspect_file(path)
    outcome = load_file(path, dest, sample, types)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...importers import (
    Limits,
    Meter,
    Reading,
    TableSample,
    delimited,
    guess_columns,
    guess_types,
    inspect_file,
    iter_rows,
    readings_for,
)
from ...importers.column_batches import column_converter
from ...importers.readings import DEFAULT_MISSING
from ..storage import Column, make_columns
from . import split_load
from .bulk_load import LoadResult, Problem, write_dataset


@dataclass
class Outcome:
    columns: list[Column]
    result: LoadResult
    row_problems: list[Problem] = field(default_factory=list)  # ragged rows and the like

    @property
    def problems(self) -> list[Problem]:
        return sorted(self.row_problems + self.result.problems, key=lambda p: p.row)

    @property
    def problem_count(self) -> int:
        return len(self.row_problems) + self.result.problem_count


def unit_of(reading: Reading) -> str:
    """What a column's numbers are in, shown beside its name: a currency, or per cent."""
    return reading.unit or ("%" if reading.percent else "")


def _may_hold_nul(path: Path, sample: TableSample) -> bool:
    """Whether text cells may contain NUL characters (which are then removed after the load).

    A delimited file in a byte-oriented encoding can hold one only as a zero byte: one fast
    look at the bytes spares a scan of every text cell afterwards."""
    encoding = (sample.options.encoding or "").replace("_", "-").lower()
    if sample.options.format != "delimited" or encoding.startswith(("utf-16", "utf-32")):
        return True
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            if b"\x00" in chunk:
                return True
    return False


def load_file(
    path: Path,
    dest: Path,
    sample: TableSample | None = None,
    types: list[str] | None = None,
    *,
    bad_values: str = "keep",
    meter: Meter | None = None,
    should_stop: Callable[[], bool] | None = None,
    base: Path | None = None,
    names: list[str] | None = None,
    limits: Limits | None = None,
    readings: list[Reading] | None = None,
    markers: tuple[str, ...] | None = None,
) -> Outcome:
    """Read ``path`` as ``sample`` describes it into the dataset file ``dest``, all or nothing.

    ``meter`` shows how far the read has got; ``should_stop`` returning True cancels (the
    storage layer raises ``Stopped`` and leaves nothing behind). When appending to ``base``,
    ``names`` are the names its table gives the columns, in the dataset's order (a dropped or
    retyped column leaves them neither c1…cN nor in the table's order). ``readings`` say how
    each column writes its values (None: as the sample suggests); ``markers`` are read as
    empty in typed columns (None: the usual ones, ``NA``, ``n/a``, ``-``…)."""
    sample = sample or inspect_file(path)
    # A large file's second half is loaded by a helper process, started first: it gets ready
    # while the types are guessed.
    half = split_load.plan(path, sample.options, limits or Limits()) if base is None else None
    try:
        guesses = guess_columns(sample) if sample.rows and (not types or readings is None) else None
        types = types or ([g.kind for g in guesses] if guesses else guess_types(sample))
        if readings is None:
            readings = (
                readings_for(sample, types, guesses=guesses)
                if guesses
                else [Reading()] * len(types)
            )
        columns = make_columns(sample.labels, types, [unit_of(r) for r in readings])
        if names is not None:
            columns = [replace(c, name=n) for n, c in zip(names, columns, strict=True)]
        row_problems: list[Problem] = []

        def report(row: int, message: str) -> None:
            row_problems.append(Problem(row, "", "", message))

        def checked_rows():
            row_problems.clear()
            return iter_rows(path, sample.options, len(columns), report, meter, True, limits)

        if half is None:
            fast = iter_rows(path, sample.options, len(columns), report, meter, False, limits)
        else:
            meter = meter or Meter()
            fast = delimited.iter_rows(
                path,
                sample.options,
                len(columns),
                report,
                meter,
                False,
                limits or Limits(),
                end=half.start_byte,
            )
            first_half_bytes = meter.bytes
            meter.bytes = lambda: first_half_bytes() + half.bytes_read()
        # A reader that saw every value (a streamed sheet) knows which columns need no check.
        fitting = error_free = None
        given: set[str] = set()
        if hasattr(fast, "fitting"):
            kinds = [c.type for c in columns]
            fitting = lambda: {columns[i].name for i in fast.fitting(kinds)}  # noqa: E731
            error_free = fast.error_free
            # Columns whose values SQLite takes as they are (no reading converts them) come as
            # stored: the insert binds them without its SQL for empty cells and yes/no words.
            plain = {
                i: c.type
                for i, (c, r) in enumerate(zip(columns, readings, strict=True))
                if column_converter(c.type, r) is None
            }
            given = {columns[i].name for i in fast.give_as_stored(plain)}
        result = write_dataset(
            dest,
            columns,
            fast,
            checked_rows=checked_rows,
            bad_values=bad_values,
            base=base,
            should_stop=should_stop,
            text_may_hold_nul=_may_hold_nul(path, sample),
            second_half=half,
            fitting=fitting,
            error_free=error_free,
            given=given,
            readings=readings,
            markers=DEFAULT_MISSING if markers is None else markers,
            excel=sample.options.format in ("xlsx", "xls", "ods"),
        )
        return Outcome(columns, result, row_problems)
    finally:
        if half is not None:
            half.discard()
