"""Counting a sheet's cells before a whole-sheet reader lays them out.

calamine reads an .ods, an .xls, an .xlsb, or an .xlsx it cannot stream into one dense grid: a
cell for every place from the first value to the last, each about ``CELL_BYTES``. An .ods says
"this row, a million times" and "this cell, sixteen thousand times" in a few bytes (an 825-byte
file took 1.9 GB), so the count is made from the XML first, repeats counted, never expanded,
and a sheet over the budget (:attr:`Limits.whole_sheet_max_cells`) is refused with its name and
its count. The binary formats (.xls, .xlsb) cannot be counted cheaply; the memory cap of the
helper process that reads them is their guard (``server/datasets/loading/helper_process.py``).

Every part is read as a stream with the bytes it may give capped, and the .ods XML goes through
expat with its DOCTYPE refused, so no entity is ever declared, let alone expanded.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from xml.parsers import expat

from .errors import UnreadableFile
from .table import Limits

CHUNK = 1 << 20
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,9})"')
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,9})"')


def read_capped(archive: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """A whole part of ``archive``, refused if it unpacks to more than ``cap`` bytes (a
    zipfile member's declared size is the archive's word, not a promise). KeyError if absent."""
    with archive.open(name) as stream:
        data = stream.read(cap + 1)
    if len(data) > cap:
        raise UnreadableFile(
            f"The part {name!r} of this file unpacks to more than {cap:,} bytes; Sheaf refuses "
            "it as a possible zip bomb."
        )
    return data


def chunks(archive: zipfile.ZipFile, name: str, cap: int) -> Iterator[bytes]:
    """A part of ``archive`` unpacked piece by piece, refused past ``cap`` bytes."""
    read = 0
    with archive.open(name) as stream:
        while chunk := stream.read(CHUNK):
            read += len(chunk)
            if read > cap:
                raise UnreadableFile(
                    f"The part {name!r} of this file unpacks to more than {cap:,} bytes; Sheaf "
                    "refuses it to protect the computer (the limit is a setting)."
                )
            yield chunk


def _too_many(sheet: str, cells: int, limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        f"The sheet {sheet!r} holds {cells:,} cells once its repeated and empty rows and columns "
        f"are laid out; Sheaf reads at most {limits.whole_sheet_max_cells:,} cells of a sheet "
        "it must read whole, to protect the computer (the limit is a setting)."
    )


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_xlsx_sheet(archive: zipfile.ZipFile, part: str, sheet: str, limits: Limits) -> None:
    """Refuse an .xlsx sheet read whole whose grid, to its last cell, exceeds the budget."""
    rows = columns = 0
    tail = b""
    for chunk in chunks(archive, part, limits.xlsx_max_uncompressed):
        seam = tail + chunk  # a reference cut between two chunks is whole here
        for letters, digits in _CELL_REF.findall(seam):
            columns = max(columns, _column_number(letters))
            rows = max(rows, int(digits))
        for digits in _ROW_REF.findall(seam):
            rows = max(rows, int(digits))
        if rows * columns > limits.whole_sheet_max_cells:
            raise _too_many(sheet, rows * columns, limits)
        tail = chunk[-64:]


class _OdsCounter:
    """expat handlers counting each table's grid: rows to the last one holding a value, times
    the widest row to its last value, repeats multiplied, never expanded."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0  # the grids of the tables done: calamine holds every sheet at once
        self.sheet = ""
        self.depth = 0  # inside a cell: its child elements make it a value
        self.row_at = self.last_row = self.width = 0
        self.row_repeats = self.col_at = self.row_end = 0
        self.cell_repeats, self.cell_valued = 1, False

    def start(self, name: str, attrs: dict) -> None:
        if self.depth:
            self.depth += 1
            self.cell_valued = True  # text, an annotation…: the cell is not empty
            return
        if name == f"{_TABLE_NS} table":
            self.sheet = attrs.get(f"{_TABLE_NS} name", "")
            self.row_at = self.last_row = self.width = 0
        elif name == f"{_TABLE_NS} table-row":
            self.row_repeats = _repeats(attrs.get(f"{_TABLE_NS} number-rows-repeated"))
            self.col_at = self.row_end = 0
        elif name in (f"{_TABLE_NS} table-cell", f"{_TABLE_NS} covered-table-cell"):
            self.depth = 1
            self.cell_repeats = _repeats(attrs.get(f"{_TABLE_NS} number-columns-repeated"))
            self.cell_valued = f"{_OFFICE_NS} value-type" in attrs

    def end(self, name: str) -> None:
        if self.depth > 1:
            self.depth -= 1
            return
        if self.depth == 1:
            self.depth = 0
            self.col_at += self.cell_repeats
            if self.cell_valued:
                self.row_end = self.col_at
        elif name == f"{_TABLE_NS} table-row":
            self.row_at += self.row_repeats
            if self.row_end:
                self.last_row, self.width = self.row_at, max(self.width, self.row_end)
                self._check(self.last_row * self.width)
        elif name == f"{_TABLE_NS} table":
            self.total += self.last_row * self.width

    def _check(self, grid: int) -> None:
        if grid > self.limits.whole_sheet_max_cells:
            raise _too_many(self.sheet, grid, self.limits)
        if self.total + grid > self.limits.whole_sheet_max_cells:
            raise UnreadableFile(
                f"This workbook's sheets hold {self.total + grid:,} cells once their repeated "
                f"rows and columns are laid out (the sheet {self.sheet!r} takes it over the "
                f"limit); Sheaf reads at most {self.limits.whole_sheet_max_cells:,} cells of a "
                "workbook it must read whole, to protect the computer (the limit is a setting)."
            )


def _repeats(value: str | None) -> int:
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def check_ods(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse an .ods whose sheets, laid out as calamine lays them out, exceed the budget."""
    counter = _OdsCounter(limits)
    parser = expat.ParserCreate(namespace_separator=" ")

    def no_doctype(*_args) -> None:
        raise UnreadableFile("This spreadsheet declares a DOCTYPE, which Sheaf refuses.")

    parser.StartDoctypeDeclHandler = no_doctype
    parser.StartElementHandler = counter.start
    parser.EndElementHandler = counter.end
    parser.buffer_text = True
    try:
        for chunk in chunks(archive, "content.xml", limits.xlsx_max_uncompressed):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise UnreadableFile(f"This spreadsheet is damaged ({exc}).") from None
    except KeyError:
        raise UnreadableFile("This spreadsheet has no content.xml part.") from None
