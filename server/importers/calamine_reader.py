"""Which calamine binding reads spreadsheets, and what upstream python-calamine lacks.

Sheaf reads with python-calamine-plus, a young fork pinned exactly, whose stream keeps an .xlsx
import's memory flat. Should the fork be missing (no wheel for a platform, a build without it)
or at fault, upstream python-calamine reads instead; ``SHEAF_EXCEL_READER=calamine`` asks for it
(``calamine-plus``: the fork or nothing). Upstream cannot stream, so every sheet is read whole,
within the whole-sheet budget (:mod:`.sheet_budget`), and two kinds of its values differ:

- error cells (#DIV/0!, #N/A…) come as empty text. An .xlsx sheet's are read back from its XML
  (:func:`xlsx_fixes`), as written, where the fork gives them; the binary .xls and .xlsb cannot
  be read back, and the preview says so (:func:`errors_lost`).
- whole numbers come as floats (3.0) where the fork gives ints (a number written as up to 18
  digits). ``excel.cell_value`` stores a whole float below 2**53 as that int; the few longer
  ones (16 to 18 digits) are read back from the XML as ints.

Dates, times, durations, booleans, text and empty cells come alike from both.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import zipfile
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from xml.parsers import expat

from . import sheet_budget
from .errors import UnreadableFile
from .table import Limits

ENV = "SHEAF_EXCEL_READER"
UPSTREAM, FORK = "calamine", "calamine-plus"  # the values ENV takes
# What one read-back cell may cost in memory (measured: 75 bytes when a row holds ten of them,
# 334 when it holds one), counted against the whole-sheet budget as the grid's cells are.
FIX_BYTES = 384
# An error cell, or a whole number the fork gives as an int that a float cannot hold (the fork:
# up to 18 digits and a minus; 2**53 has 16), in a sheet's XML.
_MARK = re.compile(rb"""\bt=["']e["']|v>-?[0-9]{16,18}<""")
_WHOLE = re.compile(r"-?[0-9]{16,18}")
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,9})")

log = logging.getLogger(__name__)
_told: set[str] = set()


def binding() -> ModuleType:
    """The calamine module to read with (``SHEAF_EXCEL_READER`` is read each time, so a helper
    process started with it set reads as its parent asked)."""
    wanted = os.environ.get(ENV, "").strip().lower()
    if wanted not in ("", UPSTREAM, FORK):
        raise UnreadableFile(
            f"{ENV} is {wanted!r}: set it to {UPSTREAM!r} or {FORK!r}, or leave it unset."
        )
    if wanted != UPSTREAM:
        try:
            import python_calamine_plus
        except ImportError as exc:
            if wanted == FORK:
                raise UnreadableFile(
                    f"{ENV}={FORK} asks for python-calamine-plus, which cannot be loaded ({exc})."
                ) from None
            _tell_once("fork", "python-calamine-plus cannot be loaded (%s): upstream reads", exc)
        else:
            return python_calamine_plus
    try:
        import python_calamine
    except ImportError:
        raise UnreadableFile(
            "Sheaf cannot read spreadsheets here: neither python-calamine-plus nor "
            "python-calamine is installed."
        ) from None
    return python_calamine


def _tell_once(key: str, message: str, *args: object) -> None:
    if key not in _told:
        _told.add(key)
        log.warning(message, *args)


def streams() -> bool:
    """Whether the binding in use streams .xlsx rows (the fork does; upstream does not)."""
    return hasattr(binding().CalamineWorkbook, "stream_sheet_by_name")


def is_upstream(workbook: object) -> bool:
    """Whether ``workbook`` was opened by upstream python-calamine (it has no stream)."""
    return not hasattr(workbook, "stream_sheet_by_name")


def xlsx_fixes(archive: zipfile.ZipFile, part: str, limits: Limits) -> dict[int, dict[int, object]]:
    """Row → column → the value the fork gives, for the cells of an .xlsx sheet's ``part``
    that upstream gives otherwise: error cells as written, whole numbers past 2**53 written as
    digits as ints. Most sheets have neither: a search of the bytes finds that first, and only
    a sheet with some is parsed (expat, DOCTYPE refused, positions as calamine counts them)."""
    if not _marked(archive, part, limits):
        return {}
    found = _Fixes(limits.whole_sheet_max_bytes // FIX_BYTES)
    parser = expat.ParserCreate(namespace_separator=" ")

    def no_doctype(*_args: object) -> None:
        raise UnreadableFile("This spreadsheet declares a DOCTYPE, which Sheaf refuses.")

    parser.StartDoctypeDeclHandler = no_doctype
    parser.StartElementHandler = found.start
    parser.EndElementHandler = found.end
    parser.CharacterDataHandler = found.text
    parser.buffer_text = True
    try:
        for chunk in sheet_budget.chunks(archive, part, limits.xlsx_max_uncompressed):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise UnreadableFile(f"This spreadsheet is damaged ({exc}).") from None
    return found.rows


def _marked(archive: zipfile.ZipFile, part: str, limits: Limits) -> bool:
    tail = b""
    for chunk in sheet_budget.chunks(archive, part, limits.xlsx_max_uncompressed):
        if _MARK.search(tail + chunk):  # a mark cut between two chunks is whole here
            return True
        tail = chunk[-32:]
    return False


def _position(ref: str) -> tuple[int, int] | None:
    match = _REF.fullmatch(ref)
    if match is None:
        return None
    column = 0
    for letter in match[1]:
        column = column * 26 + ord(letter) - 64
    return int(match[2]) - 1, column - 1


class _Fixes:
    """expat handlers noting the cells upstream gives otherwise, at calamine's positions: a
    row's ``r`` or the row after the last, a cell's ``r`` or the column after the last."""

    def __init__(self, most: int) -> None:
        self.rows: dict[int, dict[int, object]] = {}
        self.most, self.count = most, 0
        self.row = self.column = 0
        self.cell: tuple[int, int, str | None] | None = None
        self.reading = False
        self.value: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        if local == "row":
            number = attrs.get("r", "")
            if number.isascii() and number.isdigit():
                self.row = int(number) - 1
        elif local == "c":
            at = _position(attrs.get("r", ""))
            if at is not None:
                self.column = at[1]
            row, column = at or (self.row, self.column)
            self.cell = (row, column, attrs.get("t"))
        elif local == "v" and self.cell is not None:
            self.reading, self.value = True, []

    def text(self, data: str) -> None:
        if self.reading:
            self.value.append(data)

    def end(self, name: str) -> None:
        local = name.rpartition(" ")[2]
        if local == "v":
            self.reading = False
        elif local == "c" and self.cell is not None:
            row, column, kind = self.cell
            text = "".join(self.value)
            if kind == "e" and text:
                self._note(row, column, sys.intern(text))  # a few words, many times
            elif kind in (None, "n") and _WHOLE.fullmatch(text):
                self._note(row, column, int(text))
            self.cell, self.value = None, []
            self.column += 1
        elif local == "row":
            self.row, self.column = self.row + 1, 0

    def _note(self, row: int, column: int, value: object) -> None:
        self.count += 1
        if self.count > self.most:
            raise UnreadableFile(
                f"This sheet holds more than {self.most:,} error cells and long whole numbers, "
                "each held in memory while upstream python-calamine reads the sheet whole; "
                "Sheaf refuses it to protect the computer (the limit is a setting)."
            )
        self.rows.setdefault(row, {})[column] = value


class UpstreamSheet:
    """An upstream sheet read whole, giving the fork's values where :func:`xlsx_fixes` found
    them (``fixes`` None: a binary sheet whose error cells could not be read back)."""

    def __init__(self, sheet: Any, fixes: dict[int, dict[int, object]] | None) -> None:
        self._sheet, self.fixes = sheet, fixes

    @property
    def start(self) -> tuple[int, int] | None:
        return self._sheet.start

    @property
    def merged_cell_ranges(self) -> list | None:
        return self._sheet.merged_cell_ranges

    def to_python(self, skip_empty_area: bool = True, nrows: int | None = None) -> list[list]:
        rows = self._sheet.to_python(skip_empty_area=skip_empty_area, nrows=nrows)
        top, left = (self.start or (0, 0)) if skip_empty_area else (0, 0)
        return [self._fixed(row, top + i, left) for i, row in enumerate(rows)]

    def iter_rows(self) -> Iterator[list]:
        """From the sheet's row 1 but its first column holding a value, as upstream's."""
        left = self.start[1] if self.start else 0
        for i, row in enumerate(self._sheet.iter_rows()):
            yield self._fixed(row, i, left)

    def _fixed(self, row: list, number: int, left: int) -> list:
        cells = self.fixes.get(number) if self.fixes else None
        if cells:
            for column, value in cells.items():
                at = column - left
                if 0 <= at < len(row) and _fits(row[at], value):
                    row[at] = value
        return row


def _fits(given: object, value: object) -> bool:
    """Whether upstream's ``given`` is what it makes of the fork's ``value``: an error cell
    is empty text, a whole number its float (a date-formatted number stays a date)."""
    if isinstance(value, str):
        return given == ""
    return type(given) is float and given == float(value)


def errors_lost(sheet: object) -> bool:
    """Whether ``sheet`` was read by upstream from a binary part, its error cells left empty."""
    return isinstance(sheet, UpstreamSheet) and sheet.fixes is None
