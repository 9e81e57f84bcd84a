"""Excel (.xlsx, .xlsm, .xlsb, .xls) and OpenDocument (.ods) sheets, read with calamine
(python-calamine-plus: python-calamine with a row-by-row reader for .xlsx; upstream
python-calamine when the fork is missing or ``SHEAF_EXCEL_READER=calamine`` asks for it, every
sheet then read whole with the fork's values: :mod:`.calamine_reader`).

.xlsx and .xlsm sheets are streamed: rows are decoded from the file as they are stored, so memory
stays flat whatever the sheet's size, and the preview reads only the first rows. The other
formats are read whole (an .xls holds 65,536 rows at most).

Before calamine sees an .xlsx/.ods archive, every part is decompressed once as a stream and its
real size counted, so a zip bomb is refused before it can fill memory; the same pass counts the
chosen sheet's error cells (#DIV/0! and friends), which are kept as written and counted, and notices
merged cells. The shared strings, which calamine holds in memory whole, may unpack to no more than
a sheet read whole may take.

A sheet whose rows are stored out of order (valid: Excel and LibreOffice open it) cannot be
streamed: the stream refuses it, and the sheet is read whole instead, within the same budget as
the formats always read whole (:mod:`.sheet_budget` counts its cells first). An import that
meets the refusal part-way raises :class:`.errors.ReadAgain`; the rows asked for again come
from the whole sheet, the same values in the same order.
"""

from __future__ import annotations

import re
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import chain, compress, islice, repeat
from operator import is_
from pathlib import Path

from . import calamine_reader, sheet_budget
from .delimited import header_is_data
from .errors import ReadAgain, UnreadableFile
from .table import (
    DEFAULT_LIMITS,
    SAMPLE_ROWS,
    Limits,
    Meter,
    ReadOptions,
    TableSample,
    decide_header_row,
    unique_labels,
)
from .types import BOOLEAN_SPELLINGS, EXCEL_ERRORS

_SHEET = re.compile(rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL = re.compile(rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"')
_REL_REVERSED = re.compile(rb'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')
_ERROR_CELL = re.compile(rb'<c\b[^>]*\bt="e"')
_MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\b")
INT64_MAX = 2**63 - 1
SMALL_PART = 64 * 1024**2  # the workbook's list of sheets and its relationships
SHARED_STRINGS = "xl/sharedStrings.xml"
_OUT_OF_ORDER = "not stored in row order"  # the stream's refusal


@dataclass
class SheetFacts:
    """What measuring a sheet's part found: its error cells, and whether cells are merged."""

    errors: int = 0
    merged: bool = False


def _xml_unescape(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    for entity, char in (
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", '"'),
        ("&apos;", "'"),
        ("&amp;", "&"),
    ):
        text = text.replace(entity, char)
    return text


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its part inside an .xlsx archive (read with regular expressions: these
    small XML files never go through an XML parser, so no entity can expand)."""
    try:
        workbook = sheet_budget.read_capped(archive, "xl/workbook.xml", SMALL_PART)
        rels = sheet_budget.read_capped(archive, "xl/_rels/workbook.xml.rels", SMALL_PART)
    except KeyError:
        return {}
    targets = {rid: target for rid, target in _REL.findall(rels)}
    targets.update({rid: target for target, rid in _REL_REVERSED.findall(rels)})
    parts = {}
    for name, rid in _SHEET.findall(workbook):
        target = targets.get(rid, b"").decode("utf-8", "replace")
        parts[_xml_unescape(name)] = (
            target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        )
    return parts


def check_archive(path: Path, limits: Limits) -> dict[str, SheetFacts]:
    """Refuse archives that expand beyond the limits; return what each sheet holds.

    Runs before calamine opens the file: calamine reads shared strings on opening."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = {part: name for name, part in _sheet_parts(archive).items()}
            budget = [limits.xlsx_max_uncompressed]
            found = {}
            for info in archive.infolist():
                if not info.is_dir():
                    facts = SheetFacts() if info.filename in sheets else None
                    _measure_part(archive, info, budget, limits, facts)
                    if facts is not None:
                        found[sheets[info.filename]] = facts
            return found
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # A damaged part, a compression method zipfile lacks, an encrypted part.
        raise UnreadableFile(f"This spreadsheet is damaged ({exc}).") from None


def _measure_part(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: list[int],
    limits: Limits,
    facts: SheetFacts | None,
) -> None:
    """Decompress one part as a stream, spending ``budget``; for a sheet, fill in ``facts``
    (merged cells are listed after the cells: only the part's last 2 MiB are searched)."""
    size, tail, last = 0, b"", [b"", b""]
    with archive.open(info) as stream:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise UnreadableFile(
                    "This spreadsheet expands to more than "
                    f"{limits.xlsx_max_uncompressed // 1024**2:,} MiB; Sheaf refuses it to protect "
                    "the computer (the limit is a setting)."
                )
            if info.filename == SHARED_STRINGS and size > limits.whole_sheet_max_bytes:
                raise UnreadableFile(
                    "This workbook's shared strings unpack to more than "
                    f"{limits.whole_sheet_max_bytes // 1024**2:,} MiB, all held in memory at "
                    "once; Sheaf refuses it to protect the computer (the limit is a setting)."
                )
            if size > 10 * 1024**2 and size > limits.xlsx_max_ratio * max(info.compress_size, 1):
                raise UnreadableFile(
                    f"This spreadsheet is compressed more than {limits.xlsx_max_ratio}:1, which "
                    "real spreadsheets never are; Sheaf refuses it as a possible zip bomb."
                )
            if facts is not None:
                seam = tail + chunk[:64]  # an error cell may start in one chunk, end in the next
                if b't="e"' in chunk or b't="e"' in seam:  # most sheets have none: search fast
                    facts.errors += (
                        len(_ERROR_CELL.findall(chunk))
                        + len(_ERROR_CELL.findall(seam))
                        - len(_ERROR_CELL.findall(tail))
                        - len(_ERROR_CELL.findall(chunk[:64]))
                    )
                tail, last = chunk[-64:], [last[1], chunk]
    if facts is not None:
        end = b"".join(last)
        facts.merged = b"mergeCell" in end and bool(_MERGE_CELL.search(end))


@contextmanager
def _reading(what: str, stream_of: tuple | None = None):
    """calamine's errors, and its panics (pyo3 raises those as a BaseException), as a
    message for the person: a broken file must never take the import or the server down.
    A stream's refusal of rows out of order (``stream_of``: the sheet's key) is ReadAgain."""
    try:
        yield
    except UnreadableFile:
        raise
    except Exception as exc:  # CalamineError, XmlError, ZipError, OSError, ValueError…
        if stream_of is not None and _OUT_OF_ORDER in str(exc):
            _unstreamable.add(stream_of)
            raise ReadAgain(str(exc)) from None
        raise UnreadableFile(f"{what} cannot be read ({exc}).") from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise  # KeyboardInterrupt, SystemExit, GeneratorExit
        raise UnreadableFile(f"{what} cannot be read (the reader gave up on it).") from None


def _open_workbook(path: Path):
    calamine = calamine_reader.binding()
    with _reading("This spreadsheet"):
        try:
            return calamine.CalamineWorkbook.from_path(str(path))
        except calamine.PasswordError:
            raise UnreadableFile(
                "This workbook is protected with a password. Save an unprotected copy and "
                "import that."
            ) from None


def _worksheets(workbook) -> list[str]:
    # The sheet type's own enum: the same test for the fork's workbooks and upstream's.
    return [meta.name for meta in workbook.sheets_metadata if meta.typ == type(meta.typ).WorkSheet]


def cell_value(value: object) -> object:
    """A calamine cell as something SQLite stores: str, int, float or None."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, bool):
        return "true" if value else "false"  # the yes/no type reads these words
    if isinstance(value, int):
        return value if -INT64_MAX <= value <= INT64_MAX else float(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)  # a duration, e.g. "10 days, 15:10:10", not a date
    if value == "":
        return None
    return value  # an error cell (#DIV/0!…) as written: counted and flagged after the load


def _choose_sheet(workbook, sheet: str | None) -> tuple[str, list[str]]:
    sheets = _worksheets(workbook)
    if not sheets:
        raise UnreadableFile("This workbook has no worksheets.")
    name = sheet or sheets[0]
    if name not in sheets:
        raise UnreadableFile(f"This workbook has no sheet named {name!r}.")
    return name, sheets


def _stream(workbook, name: str, **bounds):
    """The sheet's rows as a stream, or None for a format calamine cannot stream (or for
    upstream python-calamine, which streams nothing)."""
    if calamine_reader.is_upstream(workbook):
        return None
    import python_calamine_plus as calamine

    with _reading(f"The sheet {name!r}"):
        try:
            return workbook.stream_sheet_by_name(name, **bounds)
        except calamine.StreamingNotSupported:
            return None


# The sheets (path, size, modified, name) whose stream refused their rows out of order: read
# whole from then on, in this process.
_unstreamable: set[tuple] = set()


def _sheet_key(path: Path, name: str | None) -> tuple:
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns, name)


def _stream_of(path: Path, options: ReadOptions, **bounds) -> tuple[object, str | None, list]:
    """The chosen sheet's stream, its name and the workbook's sheets for an .xlsx workbook;
    (None, the sheet asked for, []) for the formats read whole and for every format when
    upstream python-calamine reads, which are not opened here, and (None, its name, the sheets)
    for an .xlsx sheet that cannot be streamed."""
    if options.format != "xlsx" or not calamine_reader.streams():
        return None, options.sheet, []
    workbook = _open_workbook(path)
    name, sheets = _choose_sheet(workbook, options.sheet)
    if _sheet_key(path, name) in _unstreamable:
        return None, name, sheets
    return _stream(workbook, name, **bounds), name, sheets  # no stream for .xlsb


def _streamed(rows: Iterable[list], name: str, key: tuple | None = None) -> Iterator[list]:
    """Rows of a stream, its errors (a broken file half-way down) as UnreadableFile, its
    refusal of rows out of order as ReadAgain."""
    rows = iter(rows)
    with _reading(f"The sheet {name!r}", key):
        yield from rows


def _check_whole(path: Path, fmt: str | None, name: str | None, limits: Limits) -> None:
    """Count the cells of a sheet about to be read whole (.ods, .xlsx) against the budget;
    .xls and .xlsb are binary, guarded by the memory cap of the process reading them."""
    if fmt not in ("xlsx", "ods"):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            if fmt == "ods":
                sheet_budget.check_ods(archive, limits)
                return
            part = _sheet_parts(archive).get(name or "")
            if part is not None and part in archive.namelist():  # an .xlsb has .bin parts
                sheet_budget.check_xlsx_sheet(archive, part, name or "", limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise UnreadableFile(f"This spreadsheet is damaged ({exc}).") from None


# A sheet read whole for the preview (the formats that cannot be streamed), kept for the
# import that follows in the same process: reading it twice would double the import's time.
# (Previews and imports of spreadsheets run in helper processes of their own; this serves
# when none can start.)
_parsed: dict[tuple, tuple] = {}
_parsed_lock = threading.Lock()


def _read_sheet(path: Path, fmt: str | None, sheet: str | None, limits: Limits, keep: bool = False):
    key = _sheet_key(path, sheet)
    with _parsed_lock:
        cached = _parsed.get(key)
        if not keep:
            _parsed.clear()  # the import takes it: hold the memory no longer
    if cached is not None:
        return cached
    if fmt == "ods":  # calamine lays out every sheet of an .ods as it opens it
        _check_whole(path, fmt, None, limits)
    workbook = _open_workbook(path)
    name, sheets = _choose_sheet(workbook, sheet)
    if fmt == "xlsx":
        _check_whole(path, fmt, name, limits)
    with _reading(f"The sheet {name!r}"):
        grid = workbook.get_sheet_by_name(name)
    if calamine_reader.is_upstream(workbook):  # every sheet read whole: the fork's values
        grid = calamine_reader.UpstreamSheet(grid, _upstream_fixes(path, fmt, name, limits))
    parsed = (grid, name, sheets)
    if keep:
        with _parsed_lock:
            _parsed.clear()
            _parsed[key] = parsed
            _parsed[(*key[:3], name)] = parsed
    return parsed


def _upstream_fixes(
    path: Path, fmt: str | None, name: str, limits: Limits
) -> dict[int, dict[int, object]] | None:
    """The cells of an .xlsx sheet upstream gives otherwise than the fork (see
    :func:`.calamine_reader.xlsx_fixes`); {} for an .ods, which both read alike; None for the
    binary .xls and .xlsb, whose error cells cannot be read back."""
    if fmt == "ods":
        return {}
    if fmt != "xlsx":
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_parts(archive).get(name)
            if part is None or part not in archive.namelist():  # an .xlsb has .bin parts
                return None
            return calamine_reader.xlsx_fixes(archive, part, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise UnreadableFile(f"This spreadsheet is damaged ({exc}).") from None


def _filled(row: list) -> int:
    """Cells with a value: not empty, not an Excel error (a row of errors only is no row)."""
    return sum(1 for v in row if v is not None and v not in EXCEL_ERRORS)


def _find_header(rows: list[list]) -> int:
    """The first row at least half as full as the fullest: titles and notes above a table
    fill one cell or two; the header row fills most of them."""
    widths = [_filled(row) for row in rows[:60]]
    threshold = max(1, (max(widths, default=0) + 1) // 2)
    for number, filled in enumerate(widths, start=1):
        if filled >= threshold:
            return number
    return 1


def _looks_like_data(header: list, rows: list[list]) -> bool:
    # Header cells are words: a number, a date or a yes/no in the candidate row means data.
    if any(v is not None and not isinstance(v, str) for v in header):
        return True
    return header_is_data(header, rows)


def inspect(path: Path, options: ReadOptions, limits: Limits = DEFAULT_LIMITS) -> TableSample:
    facts = check_archive(path, limits) if options.format in ("xlsx", "ods") else {}
    stream, name, sheets = _stream_of(path, options, max_row=SAMPLE_ROWS + 99)
    raw, lost = None, False
    if stream is not None:
        with suppress(ReadAgain):  # rows out of order: the sheet is read whole below
            raw = list(_streamed(stream, name, _sheet_key(path, name)))
        merged = facts.get(name, SheetFacts()).merged
    if raw is None:
        sheet, name, sheets = _read_sheet(path, options.format, name, limits, keep=True)
        # skip_empty_area=False: row numbers are the sheet's own, as the import counts them.
        raw = sheet.to_python(skip_empty_area=False, nrows=SAMPLE_ROWS + 100)
        merged = bool(sheet.merged_cell_ranges)
        lost = calamine_reader.errors_lost(sheet)
    errors = facts.get(name, SheetFacts()).errors
    rows = [[cell_value(v) for v in row] for row in raw]
    if not any(_filled(row) for row in rows):
        if errors:
            raise UnreadableFile(
                f"The sheet {name!r} holds only Excel errors (such as #DIV/0!), no values."
            )
        others = [s for s in sheets if s != name]
        raise UnreadableFile(
            f"The sheet {name!r} is empty."
            + (f" Other sheets: {', '.join(others)}." if others else "")
        )
    header_row, warnings = decide_header_row(
        options.header_row,
        _find_header(rows),
        lambda n: _looks_like_data(rows[n - 1], [r for r in rows[n : n + 200] if _filled(r)]),
    )
    if header_row > len(rows):
        raise UnreadableFile(f"The sheet {name!r} has no row {header_row}.")
    header = rows[header_row - 1] if header_row else []
    data = [r for r in rows[header_row:] if _filled(r)][:SAMPLE_ROWS]
    width = _table_width(header, data)
    labels, label_warnings = unique_labels(header, width)
    if not header_row:
        label_warnings = []
    if errors:
        warnings.append(
            (
                "1 cell holds an Excel error"
                if errors == 1
                else f"{errors:,} cells hold Excel errors"
            )
            + " (such as #DIV/0! or #N/A); they are kept as written (#N/A is read as empty) and "
            "counted after the import."
        )
    if merged:
        warnings.append(
            "The sheet has merged cells; only the top-left cell of each keeps the value."
        )
    if lost:
        warnings.append(
            "Upstream python-calamine reads this workbook (python-calamine-plus is missing or "
            f"{calamine_reader.ENV} asks for it): error cells such as #DIV/0! of an .xls or "
            ".xlsb sheet arrive as empty cells."
        )
    resolved = options.with_(sheet=name, header_row=header_row, encoding=None, delimiter=None)
    sample = [(row + [None] * width)[:width] for row in data]
    return TableSample(resolved, labels, sample, warnings + label_warnings, sheets)


def _table_width(header: list, data: list[list]) -> int:
    """The header's width (or the data's, without one), less trailing columns that hold
    nothing but empty cells and Excel errors."""
    width = max([len(header)] + [len(r) for r in data])
    while width > 1 and all(
        len(r) < width or r[width - 1] is None or r[width - 1] in EXCEL_ERRORS
        for r in [header, *data]
    ):
        width -= 1
    return width


def iter_rows(
    path: Path,
    options: ReadOptions,
    width: int,
    problems,
    meter: Meter | None = None,
    checked: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[list]:
    """Every non-empty row below the header. (The archive was measured by ``inspect``, which
    always runs first, on the same stored file.) ``checked=False`` converts whole batches of
    rows column by column (:class:`SheetRows`); should an integer beyond 64 bits ever reach
    SQLite that way, the load starts again from the checked rows (storage.StartAgain). A
    stream that refuses rows out of order part-way raises ReadAgain: rows asked for again come
    from the whole sheet."""
    done = [0]
    if meter is not None:
        meter.rows = lambda: done[0]
    skip = options.header_row or 0
    stream, name, _sheets = _stream_of(path, options, min_row=skip)
    if stream is None:
        sheet, _name, _sheets = _read_sheet(path, options.format, name, limits)
        return _checked_rows(islice(_whole_rows(sheet), skip, None), width, problems, done)
    key = _sheet_key(path, name)
    if checked:
        return _checked_rows(_streamed(stream, name, key), width, problems, done)
    return SheetRows(stream, name, width, problems, done, key)


def _whole_rows(sheet) -> Iterator[list]:
    """A sheet read whole, row by row from the sheet's row 1 and column A, as a stream gives
    them: calamine's iter_rows starts at row 1 but at the first column holding a value, which
    would shift every value of a sheet whose column A is empty one column left."""
    lead = [""] * sheet.start[1] if sheet.start else []
    if not lead:
        return iter(sheet.iter_rows())
    return (lead + row for row in sheet.iter_rows())


def _checked_rows(rows: Iterable[list], width: int, problems, done: list[int]) -> Iterator[list]:
    number = 0
    for raw in rows:
        row = [cell_value(v) for v in raw]
        if not _filled(row):
            continue  # an empty row is no row, as a blank line in a text file
        number += 1
        if len(row) != width:
            row = _fit(row, width, number, problems, None)
        done[0] = number
        yield row


def _blank(row: list) -> bool:
    """Nothing but empty cells and Excel errors (which are imported as empty)."""
    return all(v is None or v == "" or v in EXCEL_ERRORS for v in row)


def _fit(row: list, width: int, number: int, problems, empty: object) -> list:
    """``row`` cut or padded to ``width`` cells; values cut off are reported."""
    extra = [v for v in row[width:] if not (v is None or v == "" or v in EXCEL_ERRORS)]
    if extra:
        shown = ", ".join(map(str, extra[:3]))
        problems(
            number, f"has values beyond the table's {width} columns; they were dropped: {shown}"
        )
    return (list(row) + [empty] * width)[:width]


_BATCH = 500  # rows converted together (2,000: 2 to 8 % slower, out of the CPU cache by the insert)
# Cells SQLite stores as they come: "" becomes NULL in the insert (storage.value_expression),
# whole numbers come as int, other numbers as float (a whole float first made an int, as
# cell_value makes it: _whole_float).
_AS_THEY_COME = frozenset((int, float, str))
# str() of a date, datetime, time or duration is what cell_value makes of it (ISO 8601).
_TEMPORAL_OR_TEXT = frozenset((date, datetime, time, timedelta, str))
_BOOLEAN_OR_TEXT = frozenset((bool, str))
_WORDS = {True: "true", False: "false"}
# Given as stored (SheetRows.give_as_stored): what storage.value_expression makes of a value
# SQLite would get otherwise, an empty text None, the words of a yes/no column 1 and 0.
_EMPTY: dict[object, None] = {"": None}
_STORED_BOOLEAN: dict[object, int | None] = {**BOOLEAN_SPELLINGS, "": None}


# The kinds of value that always fit a column of each type (empty text is an empty cell).
_FITTING = {
    "integer": frozenset((int, str)),
    "real": frozenset((int, float, str)),
    "boolean": frozenset((bool, str)),
    "date": frozenset((date, str)),
    "datetime": frozenset((datetime, date, str)),  # a date alone is midnight
}


def _whole_float(column: list, classes: list[type], kinds: set[type]) -> bool:
    """Whether the column holds a whole float (3.0, written "3.0" in the file): cell_value
    makes it the int 3, and so must the stream, or a text column keeps "3.0" where a sheet read
    whole keeps "3". C-level passes only: the floats picked out by their class, then asked."""
    if float not in kinds:
        return False
    floats = column if kinds == {float} else compress(column, map(is_, classes, repeat(float)))
    return any(map(float.is_integer, floats))


def _columns_of(batch: list[list], width: int) -> tuple[list, list[type], list[set[type]]]:
    """A batch's cells in one list (column j: ``cells[j::width]``), their classes, and the
    classes each column holds."""
    cells = list(chain.from_iterable(batch))
    classes = list(map(type, cells))
    return cells, classes, [set(classes[index::width]) for index in range(width)]


class SheetRows:
    """A streamed sheet's rows for the bulk load, converted column by column a batch at a time:
    a column mostly holds one kind of value, converted by one C-level map (or left as it is)
    instead of a Python call for each cell, and the rows reach SQLite through C iterators.

    It also notes what each column held, so the check after the load can pass over the columns
    whose every value already fits their type (:meth:`fitting`)."""

    def __init__(
        self, stream, name: str, width: int, problems, done: list[int], key: tuple | None = None
    ) -> None:
        self._stream, self._name, self._width, self._key = stream, name, width, key
        self._problems, self._done = problems, done
        self._kinds: list[set[type]] = [set() for _ in range(width)]
        self._text = [False] * width  # a text value that is not empty (it must be checked)
        self._nul = [False] * width  # text that may hold a NUL character
        self._errors = False  # a cell written as an Excel error (#DIV/0!…) was seen
        self._given: dict[int, str] = {}  # column → its type, for columns given as stored

    def __iter__(self) -> Iterator[list]:
        return chain.from_iterable(self._batches())

    def fitting(self, types: list[str]) -> set[int]:
        """Indexes of the columns whose every value fits the type given for it."""
        fits = set()
        for index, kind in enumerate(types):
            if kind == "text":
                fine = not self._nul[index]
            else:
                fine = self._kinds[index] <= _FITTING.get(kind, set()) and not self._text[index]
            if fine:
                fits.add(index)
        return fits

    def give_as_stored(self, types: dict[int, str]) -> set[int]:
        """Before the rows are read: give these columns (index → type) as SQLite stores them
        through ``storage.value_expression`` (empty text None, a yes/no column's words 1 and
        0), so that the insert binds them as they come instead of running that SQL for every
        row. A date-and-time column keeps its SQL (SQLite's own check of a date alone).
        Returns the columns that will come so."""
        self._given = {i: kind for i, kind in types.items() if kind != "datetime"}
        return set(self._given)

    def error_free(self) -> bool:
        """Whether no cell read held an Excel error's text (#DIV/0!, #N/A…, error cell or
        text): then none was stored, and the count of them after the load may be skipped."""
        return not self._errors

    def _batches(self) -> Iterator[list[list]]:
        rows, number, width = iter(self._stream), 0, self._width
        while True:
            with _reading(f"The sheet {self._name!r}", self._key):
                batch = list(islice(rows, _BATCH))
            if not batch:
                return
            lengths = set(map(len, batch))
            cells: list | None = None
            if lengths == {width}:  # the usual batch: its columns tell what to look for
                cells, classes, kinds = _columns_of(batch, width)
                texts = [index for index, found in enumerate(kinds) if str in found]
                # Error words are text: only columns holding text may hold one. An empty row
                # ("" in every cell) needs text in every column.
                errors = any(not EXCEL_ERRORS.isdisjoint(cells[i::width]) for i in texts)
                blanks = errors or (
                    len(texts) == width and max(map(list.count, batch, repeat(""))) == width
                )
            else:
                errors, blanks = not EXCEL_ERRORS.isdisjoint(chain.from_iterable(batch)), True
            self._errors |= errors
            if blanks:
                batch = [row for row in batch if not _blank(row)]  # an empty row is no row
                if not batch:
                    continue
                if lengths != {width}:
                    batch = [
                        _fit(r, width, number + i, self._problems, "")
                        for i, r in enumerate(batch, 1)
                    ]
                cells = None
            number += len(batch)
            self._done[0] = number
            if cells is None:
                cells, classes, kinds = _columns_of(batch, width)
            for index in range(width):
                column = self._as_stored(
                    index, cells[index::width], classes[index::width], kinds[index]
                )
                if column is not None:
                    for row, value in zip(batch, column, strict=True):
                        row[index] = value
            yield batch

    def _as_stored(
        self, index: int, column: list, classes: list[type], kinds: set[type]
    ) -> Iterable | None:
        """One column of a batch as SQLite should get it (see cell_value); None: as it is."""
        self._kinds[index] |= kinds
        empty = 0
        if str in kinds:
            empty = column.count("")
            self._text[index] |= classes.count(str) > empty
            self._nul[index] |= kinds != {str} or "\x00" in "".join(column)
        given = self._given.get(index)
        if given == "boolean" and kinds == {bool}:
            return None  # bound as 1 and 0, as the yes/no words are stored
        if kinds <= _AS_THEY_COME:
            out = map(cell_value, column) if _whole_float(column, classes, kinds) else None
        elif kinds <= _TEMPORAL_OR_TEXT:
            out = map(str, column)
        elif kinds <= _BOOLEAN_OR_TEXT:
            out = map(_WORDS.get, column, column)
        else:
            out = map(cell_value, column)
        if given is None or (given != "boolean" and not empty):
            return out
        # What storage.value_expression makes of these values, done here (C-level maps).
        values = column if out is None else list(out)
        return map(_STORED_BOOLEAN.get if given == "boolean" else _EMPTY.get, values, values)
