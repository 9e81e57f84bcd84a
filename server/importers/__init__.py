"""Reading files into tables. Plain Python with no Flask in it: each reader takes a path and
:class:`ReadOptions`, gives a :class:`TableSample` for the preview, and streams every row.

    sample = inspect_file(path)                    # detect format, encoding, header, types…
    for row in iter_rows(path, sample.options, width, problems):
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from . import delimited
from .errors import UnreadableFile
from .sniff import detect_format
from .table import MAX_COLUMNS, Limits, Meter, ReadOptions, TableSample
from .types import TYPE_LABELS, TYPES, guess_type

__all__ = [
    "MAX_COLUMNS",
    "TYPES",
    "TYPE_LABELS",
    "Limits",
    "Meter",
    "ReadOptions",
    "TableSample",
    "UnreadableFile",
    "guess_types",
    "inspect_file",
    "iter_rows",
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


def guess_types(sample: TableSample) -> list[str]:
    return [guess_type(row[i] for row in sample.rows) for i in range(len(sample.labels))]
