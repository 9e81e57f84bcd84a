"""Excel (.xlsx, .xlsm, .xls) and OpenDocument (.ods) sheets, read with python-calamine.

Before calamine sees an .xlsx/.ods archive, every part is decompressed once as a stream and its
real size counted, so a zip bomb is refused before it can fill memory; the same pass counts the
chosen sheet's error cells (#DIV/0! and friends), which calamine turns into empty cells.
"""

from __future__ import annotations

import re
import threading
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

from .delimited import header_is_data
from .errors import UnreadableFile
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

_SHEET = re.compile(rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL = re.compile(rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"')
_REL_REVERSED = re.compile(rb'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')
_ERROR_CELL = re.compile(rb'<c\b[^>]*\bt="e"')


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
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
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


def check_archive(path: Path, limits: Limits) -> dict[str, int]:
    """Refuse archives that expand beyond the limits; return each sheet's error-cell count.

    Runs before calamine opens the file: calamine reads shared strings on opening."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = {part: name for name, part in _sheet_parts(archive).items()}
            budget = [limits.xlsx_max_uncompressed]
            errors = {}
            for info in archive.infolist():
                if not info.is_dir():
                    count = _measure_part(
                        archive, info, budget, limits, count_errors=info.filename in sheets
                    )
                    if info.filename in sheets:
                        errors[sheets[info.filename]] = count
            return errors
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(f"This spreadsheet is damaged ({exc}).") from None


def _measure_part(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: list[int],
    limits: Limits,
    count_errors: bool,
) -> int:
    """Decompress one part as a stream, spending ``budget``; count error cells if asked."""
    size, errors, tail = 0, 0, b""
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
            if size > 10 * 1024**2 and size > limits.xlsx_max_ratio * max(info.compress_size, 1):
                raise UnreadableFile(
                    f"This spreadsheet is compressed more than {limits.xlsx_max_ratio}:1, which "
                    "real spreadsheets never are; Sheaf refuses it as a possible zip bomb."
                )
            if count_errors:
                window = tail + chunk
                if b't="e"' in window:  # the search is slow; most sheets have no error cell
                    errors += len(_ERROR_CELL.findall(window)) - len(_ERROR_CELL.findall(tail))
                tail = chunk[-64:]
    return errors


def _open_workbook(path: Path):
    import python_calamine as calamine

    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise UnreadableFile(
            "This workbook is protected with a password. Save an unprotected copy and import that."
        ) from None
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise UnreadableFile(f"This spreadsheet cannot be read ({exc}).") from None


def _worksheets(workbook) -> list[str]:
    import python_calamine as calamine

    return [
        meta.name
        for meta in workbook.sheets_metadata
        if meta.typ == calamine.SheetTypeEnum.WorkSheet
    ]


def cell_value(value: object) -> object:
    """A calamine cell as something SQLite stores: str, int, float or None."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, bool):
        return "true" if value else "false"  # the yes/no type reads these words
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
    return value


# The sheet parsed for the preview, kept for the import that usually follows at once in the
# same process: parsing a large sheet twice would double an Excel import's time.
_parsed: dict[tuple, tuple] = {}
_parsed_lock = threading.Lock()


def _read_sheet(path: Path, sheet: str | None, keep: bool = False):
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, sheet)
    with _parsed_lock:
        cached = _parsed.get(key)
        if not keep:
            _parsed.clear()  # the import takes it: hold the memory no longer
    if cached is not None:
        return cached
    workbook = _open_workbook(path)
    sheets = _worksheets(workbook)
    if not sheets:
        raise UnreadableFile("This workbook has no worksheets.")
    name = sheet or sheets[0]
    if name not in sheets:
        raise UnreadableFile(f"This workbook has no sheet named {name!r}.")
    try:
        parsed = (workbook.get_sheet_by_name(name), name, sheets)
    except Exception as exc:  # calamine raises its own errors for broken sheets
        raise UnreadableFile(f"The sheet {name!r} cannot be read ({exc}).") from None
    if keep:
        with _parsed_lock:
            _parsed.clear()
            _parsed[key] = parsed
            _parsed[(*key[:3], name)] = parsed
    return parsed


def _filled(row: list) -> int:
    return sum(1 for v in row if v is not None)


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
    errors_by_sheet = check_archive(path, limits) if options.format in ("xlsx", "ods") else {}
    sheet, name, sheets = _read_sheet(path, options.sheet, keep=True)
    errors = errors_by_sheet.get(name, 0)
    # skip_empty_area=False: row numbers are the sheet's own, as the import will count them.
    raw = sheet.to_python(skip_empty_area=False, nrows=SAMPLE_ROWS + 100)
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
            f"{errors} cells hold Excel errors (such as #DIV/0! or #N/A); they are "
            "imported as empty."
        )
    if sheet.merged_cell_ranges:
        warnings.append(
            "The sheet has merged cells; only the top-left cell of each keeps the value."
        )
    resolved = options.with_(sheet=name, header_row=header_row, encoding=None, delimiter=None)
    sample = [(row + [None] * width)[:width] for row in data]
    return TableSample(resolved, labels, sample, warnings + label_warnings, sheets)


def _table_width(header: list, data: list[list]) -> int:
    """The header's width (or the data's, without one), less trailing empty columns."""
    width = max([len(header)] + [len(r) for r in data])
    while width > 1 and all(len(r) < width or r[width - 1] is None for r in [header, *data]):
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
    always runs first, on the same stored file.)"""
    sheet, _name, _sheets = _read_sheet(path, options.sheet)
    done = [0]
    if meter is not None:
        meter.rows = lambda: done[0]
    return _sheet_rows(sheet, options.header_row or 0, width, problems, done)


def _sheet_rows(sheet, skip: int, width: int, problems, done: list[int]) -> Iterator[list]:
    rows = iter(sheet.iter_rows())
    for _ in range(skip):
        next(rows, None)
    number = 0
    for raw in rows:
        row = [cell_value(v) for v in raw]
        if not _filled(row):
            continue  # an empty row is no row, as a blank line in a text file
        number += 1
        if len(row) != width:
            extra = [v for v in row[width:] if v is not None]
            if extra:
                shown = ", ".join(map(str, extra[:3]))
                problems(
                    number,
                    f"has values beyond the table's {width} columns; they were dropped: {shown}",
                )
            row = (row + [None] * width)[:width]
        done[0] = number
        yield row
