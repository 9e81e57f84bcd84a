"""What every reader produces: the resolved read options, the column labels, a sample of
rows for the preview, and warnings; then, on request, every row as a stream."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .errors import UnreadableFile

SAMPLE_ROWS = 2000
MAX_COLUMNS = 2000  # SQLite's default SQLITE_MAX_COLUMN
MAX_LABEL = 200
CELL_BYTES = 32  # one cell of calamine's grid (a Rust enum holding a String at most)


@dataclass(frozen=True)
class Limits:
    """What a file may reach before Sheaf refuses it (admin settings; see docs/settings.md)."""

    max_cell_chars: int = 1_000_000
    json_max_depth: int = 32
    xlsx_max_uncompressed: int = 4 * 1024**3
    xlsx_max_ratio: int = 200
    # A sheet read whole (.xls, .xlsb, .ods, an .xlsx whose rows are out of order): its cells,
    # counted as the reader lays them out (repeats expanded, the empty area to the last value
    # filled in) at CELL_BYTES each, and its unpacked XML, may reach this much.
    whole_sheet_max_bytes: int = 256 * 1024**2

    @property
    def whole_sheet_max_cells(self) -> int:
        return self.whole_sheet_max_bytes // CELL_BYTES


DEFAULT_LIMITS = Limits()


class Meter:
    """How far a read has got, cheap to ask at any moment (readers set the two functions)."""

    def __init__(self) -> None:
        self.rows: Callable[[], int] = lambda: 0
        self.bytes: Callable[[], int] = lambda: 0


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file. ``None`` means "detect it"; the preview shows what was detected."""

    format: str | None = None  # delimited, xlsx, xls, ods, json
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None  # 1-based number of the header record; 0: no header
    sheet: str | None = None

    def with_(self, **changes) -> ReadOptions:
        return replace(self, **changes)


@dataclass
class TableSample:
    options: ReadOptions
    labels: list[str]
    rows: list[list]
    warnings: list[str] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    # Text in a legacy encoding that two encodings read about equally well: the two readings
    # (legacy.TextReading), for the person to choose between. Empty when Sheaf is sure.
    encoding_readings: list = field(default_factory=list)


def clean_label(label: object) -> str:
    """A column label fit to show: control characters and runs of spaces become one space."""
    text = "" if label is None else str(label)
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(text.split())[:MAX_LABEL]


def unique_labels(raw: list[object], width: int) -> tuple[list[str], list[str]]:
    """Labels for ``width`` columns: blanks named ``column_N``, duplicates numbered.

    Returns the labels and warnings describing what was changed.
    """
    if width > MAX_COLUMNS:
        raise UnreadableFile(
            f"This table has {width:,} columns; Sheaf can store at most {MAX_COLUMNS:,}."
        )
    labels, warnings, seen = [], [], set()
    blanks, renamed = [], []
    for index in range(width):
        label = clean_label(raw[index]) if index < len(raw) else ""
        if not label:
            label = f"column_{index + 1}"
            blanks.append(label)
        base, number = label, 1
        while label.casefold() in seen:
            number += 1
            label = f"{base}_{number}"
        if number > 1:
            renamed.append(f"{base} → {label}")
        seen.add(label.casefold())
        labels.append(label)
    if blanks:
        warnings.append(
            f"Columns without a name were named {', '.join(blanks[:5])}"
            + ("…" if len(blanks) > 5 else "")
            + "."
        )
    if renamed:
        warnings.append(
            f"Repeated column names were numbered: {', '.join(renamed[:5])}"
            + ("…" if len(renamed) > 5 else "")
            + "."
        )
    return labels, warnings


def decide_header_row(given: int | None, detected: int, looks_like_data) -> tuple[int, list[str]]:
    """The header row to use (0: none) and what to tell the person about it. ``given`` is the
    person's choice; otherwise ``detected`` stands unless ``looks_like_data(detected)``."""
    if given is not None:
        return given, []
    if looks_like_data(detected):
        return 0, ["The first row looks like data, so the columns got generic names."]
    if detected > 1:
        return detected, [f"The table starts at row {detected}; the rows above it are skipped."]
    return detected, []
