"""Reading files into tables. Plain Python with no Flask in it: each reader takes a path and
:class:`ReadOptions`, gives a :class:`TableSample` for the preview, and streams every row.

    sample = inspect_file(path)                    # detect format, encoding, header, types…
    for row in iter_rows(path, sample.options, width, problems):
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import delimited
from .errors import NotATable, UnreadableFile
from .readings import (
    DEFAULT_MISSING,
    DEFAULT_THRESHOLD,
    ColumnGuess,
    Reading,
    guess_column,
    missing_set,
    reading_for,
)
from .sniff import detect_format
from .table import MAX_COLUMNS, Limits, Meter, ReadOptions, TableSample
from .types import TYPE_LABELS, TYPES

__all__ = [
    "MAX_COLUMNS",
    "TYPES",
    "TYPE_LABELS",
    "ColumnGuess",
    "Guessing",
    "Limits",
    "Meter",
    "NotATable",
    "ReadOptions",
    "Reading",
    "TableSample",
    "UnreadableFile",
    "detect_format",
    "guess_columns",
    "guess_types",
    "inspect_file",
    "iter_rows",
    "readings_for",
]

FORMATS = {
    "delimited": "Delimited text (CSV, TSV…)",
    "xlsx": "Excel workbook (.xlsx)",
    "xls": "Excel 97-2003 workbook (.xls)",
    "ods": "OpenDocument spreadsheet (.ods)",
    "json": "JSON",
}

ProblemSink = Callable[[int, str], None]


def inspect_file(
    path: Path, options: ReadOptions | None = None, limits: Limits | None = None
) -> TableSample:
    """Detect how to read ``path`` (options given win over detection) and sample its rows."""
    from . import excel, jsonfile  # the readers of other formats: when a file is read, not at start

    options = options or ReadOptions()
    limits = limits or Limits()
    fmt = options.format or detect_format(path)
    options = options.with_(format=fmt)
    readers = {"delimited": delimited.inspect, "json": jsonfile.inspect}
    readers.update(dict.fromkeys(("xlsx", "xls", "ods"), excel.inspect))
    if fmt not in readers:
        raise UnreadableFile(f"Sheaf cannot read {fmt!r} files.")
    try:
        sample = readers[fmt](path, options, limits)
    except MemoryError:
        raise UnreadableFile("The file is too large to inspect.") from None
    if not sample.labels:  # e.g. JSON records without a single field: no table to make
        raise UnreadableFile("The file holds no columns: there is nothing to make a table of.")
    return sample


def iter_rows(
    path: Path,
    options: ReadOptions,
    width: int,
    problems: ProblemSink,
    meter: Meter | None = None,
    checked: bool = True,
    limits: Limits | None = None,
) -> Iterator[list]:
    """Every data row of ``path`` as read with ``options`` (as resolved by inspect_file).

    Rows of the wrong length go to ``problems(row, message)``; ``meter`` tracks how far the read
    has got. ``checked=False`` may return an unchecked fast stream (delimited text only)."""
    from . import excel, jsonfile

    readers = {"delimited": delimited.iter_rows, "json": jsonfile.iter_rows}
    reader = readers.get(options.format, excel.iter_rows)
    return reader(path, options, width, problems, meter, checked, limits or Limits())


@dataclass(frozen=True)
class Guessing:
    """The settings and choices that guide a guess (see docs/importing.md)."""

    threshold: int = DEFAULT_THRESHOLD  # per cent of a column's values its type must fit
    missing: tuple[str, ...] = DEFAULT_MISSING  # read as empty in typed columns
    order: str = "dmy"  # dates whose values leave the order of day and month open
    decimals: tuple[str | None, ...] = ()  # a decimal mark chosen per column (None: detect)
    orders: tuple[str | None, ...] = ()  # an order chosen per column (None: detect)


def column_values(sample: TableSample, index: int) -> list:
    """The sampled values of one column (a short row lacks the last ones)."""
    return [row[index] for row in sample.rows if index < len(row)]


def guess_columns(sample: TableSample, guessing: Guessing | None = None) -> list[ColumnGuess]:
    """Each column's type, reading and fit, from the sample. A column whose values leave the
    decimal mark open takes the one the file's other number columns use."""
    guessing = guessing or Guessing()
    markers = missing_set(guessing.missing)

    def guess(index: int, decimal: str | None) -> ColumnGuess:
        chosen = guessing.orders[index] if index < len(guessing.orders) else None
        return guess_column(
            column_values(sample, index),
            threshold=guessing.threshold,
            markers=markers,
            order=chosen or guessing.order,
            decimal=decimal,
        )

    def chosen_decimal(index: int) -> str | None:
        return guessing.decimals[index] if index < len(guessing.decimals) else None

    guesses = [guess(i, chosen_decimal(i)) for i in range(len(sample.labels))]
    decided = [
        g.reading.decimal
        for i, g in enumerate(guesses)
        if g.kind == "real" and not g.open_question and chosen_decimal(i) is None
    ]
    if decided and all(mark == decided[0] for mark in decided):
        for i, g in enumerate(guesses):
            if g.open_question == "decimal" and chosen_decimal(i) is None:
                guesses[i] = guess(i, decided[0])
                guesses[i].open_question = "decimal"  # still the person's to change
    for i, g in enumerate(guesses):  # a choice made is no longer a question
        if chosen_decimal(i) is not None and g.open_question == "decimal":
            g.open_question = ""
        if i < len(guessing.orders) and guessing.orders[i] and g.open_question == "order":
            g.open_question = ""
    return guesses


def guess_types(sample: TableSample) -> list[str]:
    return [g.kind for g in guess_columns(sample)]


def _family(kind: str) -> str:
    return {"integer": "number", "real": "number", "datetime": "date"}.get(kind, kind)


def readings_for(
    sample: TableSample,
    types: list[str],
    guessing: Guessing | None = None,
    guesses: list[ColumnGuess] | None = None,
) -> list[Reading]:
    """The reading of each column for the type it is given (which the person may have
    changed from the guess): how its values are written, decided from the sample.
    ``guesses``: what :func:`guess_columns` gave for the same sample and guessing, if known."""
    guessing = guessing or Guessing()
    guesses = guesses or guess_columns(sample, guessing)
    readings = []
    for index, kind in enumerate(types):
        if _family(guesses[index].kind) == _family(kind):
            readings.append(guesses[index].reading)
            continue
        decimal = guessing.decimals[index] if index < len(guessing.decimals) else None
        order = guessing.orders[index] if index < len(guessing.orders) else None
        readings.append(
            reading_for(kind, column_values(sample, index), order or guessing.order, decimal)
        )
    return readings
