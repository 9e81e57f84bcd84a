"""CSV, TSV and other delimited text: dialect, header row and a row stream in constant memory."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .errors import UnreadableFile
from .sniff import SAMPLE_BYTES, check_encoding, encoding_readings, file_encoding
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
from .types import guess_type

DELIMITERS = {",": "Comma", ";": "Semicolon", "\t": "Tab", "|": "Pipe"}


def _cell_limit(limits: Limits) -> None:
    # The csv module's limit is process-wide; every read sets it to the current setting.
    csv.field_size_limit(min(limits.max_cell_chars, sys.maxsize, 2**31 - 1))


def _csv_error(exc: csv.Error, where: str, limits: Limits) -> UnreadableFile:
    if "field larger than field limit" in str(exc):
        return UnreadableFile(
            f"{where} has a cell longer than {limits.max_cell_chars:,} characters, the limit "
            "set for imports."
        )
    return UnreadableFile(f"{where} cannot be read: {exc}.")


def _open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    return open(path, encoding=encoding, newline="", errors="strict")


def _sample_text(path: Path, encoding: str) -> str:
    with _open_text(path, encoding) as handle:
        try:
            text = handle.read(SAMPLE_BYTES)
        except UnicodeDecodeError as exc:
            raise _decode_error(exc, encoding) from None
    return text


def _decode_error(exc: UnicodeDecodeError, encoding: str) -> UnreadableFile:
    return UnreadableFile(
        f"The file is not valid {encoding} text (byte {exc.start:,} of a block cannot be read). "
        "Choose another encoding in the preview."
    )


def _records(
    text: str, delimiter: str, skipinitialspace: bool = False, limits: Limits = DEFAULT_LIMITS
) -> list[list[str]]:
    lines = text
    # Drop a last line cut off by the sample's size, unless the sample is the whole file.
    if len(text) >= SAMPLE_BYTES:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        lines = text[: cut + 1] if cut > 0 else text
    reader = csv.reader(
        io.StringIO(lines, newline=""), delimiter=delimiter, skipinitialspace=skipinitialspace
    )
    records = []
    try:
        for record in reader:
            records.append(record)
            if len(records) > SAMPLE_ROWS + 50:
                break
    except csv.Error as exc:
        raise _csv_error(exc, f"Row {len(records) + 1}", limits) from None
    return records


def _modal_width(records: list[list[str]]) -> tuple[int, float]:
    widths = Counter(len(r) for r in records if any(cell.strip() for cell in r))
    if not widths:
        return 0, 0.0
    width, count = widths.most_common(1)[0]
    return width, count / sum(widths.values())


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits most records into the same number (> 1) of cells."""
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        width, share = _modal_width(_records(text, delimiter)[:200])
        score = (share if width > 1 else 0.0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _wants_skipinitialspace(text: str, delimiter: str) -> bool:
    """Fields written as ``"a", "b"``: a space after the delimiter before each quote."""
    return text.count(f'{delimiter} "') > max(2, text.count(f'{delimiter}"'))


def _find_header(records: list[list[str]]) -> int:
    """The 1-based record holding the header: the first as wide as most records, skipping
    titles, notes and blank lines above the table."""
    width, _share = _modal_width(records)
    for number, record in enumerate(records[:50], start=1):
        filled = [cell for cell in record if cell.strip()]
        if (
            len(record) >= width
            and len(filled) >= max(1, width // 2)
            and not (filled and filled[0].lstrip().startswith("#"))
        ):
            return number
    return 1


def header_is_data(header: list, rows: list[list]) -> bool:
    """True when the first record looks like data: it fits every typed column below it."""
    if not rows:
        return False
    typed = 0
    for index, cell in enumerate(header):
        kind = guess_type(row[index] for row in rows if index < len(row))
        if kind == "text":
            continue
        typed += 1
        if guess_type([cell]) != kind:
            return False
    return typed > 0


def inspect(path: Path, options: ReadOptions, limits: Limits = DEFAULT_LIMITS) -> TableSample:
    _cell_limit(limits)
    encoding = check_encoding(options.encoding) if options.encoding else file_encoding(path)
    text = _sample_text(path, encoding)
    if not text.strip("\ufeff \t\r\n"):
        raise UnreadableFile("The file is empty.")
    delimiter = options.delimiter or sniff_delimiter(text)
    skipinitialspace = _wants_skipinitialspace(text, delimiter)
    records = _records(text, delimiter, skipinitialspace, limits)
    header_row, warnings = decide_header_row(
        options.header_row,
        _find_header(records),
        lambda n: header_is_data(records[n - 1], records[n : n + 200]),
    )
    if header_row > len(records):
        raise UnreadableFile(f"The file has no row {header_row}.")
    start = max(header_row - 1, 0)
    header = records[start] if header_row else []
    data = records[header_row if header_row else start :][:SAMPLE_ROWS]
    # The header decides the width; without one, the widest row. Trailing columns empty in
    # the header and in every sampled row are padding, not data.
    width = len(header) if header else max((len(r) for r in data), default=0)
    while (
        width > 1
        and (width > len(header) or not header[width - 1].strip())
        and all(len(r) < width or not r[width - 1].strip() for r in data)
    ):
        width -= 1
    longer = [r for r in data if len(r) > width]
    spilling = sum(1 for r in longer if _spills(r, width))
    labels, label_warnings = unique_labels(header, width)
    if not header_row:
        label_warnings = []  # generic names were announced already
    if spilling:
        warnings.append(
            (
                "1 of the first rows has values"
                if spilling == 1
                else f"{spilling:,} of the first rows have values"
            )
            + f" beyond the header's {width:,} columns; those values are dropped and listed as "
            "problems."
        )
    elif longer:
        warnings.append(
            "1 row ends with extra empty cells; they are ignored."
            if len(longer) == 1
            else f"{len(longer):,} rows end with extra empty cells; they are ignored."
        )
    if "\x00" in text:
        warnings.append("The file contains NUL characters; they are removed.")
    resolved = options.with_(
        format="delimited", encoding=encoding, delimiter=delimiter, header_row=header_row
    )
    # Rows that spill past the header are misread (an unquoted delimiter): they would only
    # mislead the type guess, and the import lists them as problems anyway.
    rows = [_fit(r, width) for r in data if not _spills(r, width)]
    sample = TableSample(resolved, labels, rows, warnings + label_warnings)
    sample.encoding_readings = encoding_readings(path)
    return sample


def _spills(row: list[str], width: int) -> bool:
    return len(row) > width and any(cell.strip() for cell in row[width:])


def _fit(row: list[str], width: int) -> list[str]:
    if len(row) == width:
        return row
    return (row + [""] * width)[:width]


def iter_rows(
    path: Path,
    options: ReadOptions,
    width: int,
    problems,
    meter: Meter | None = None,
    checked: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    end: int | None = None,
) -> Iterator[list[str]]:
    """Every data row, exactly ``width`` cells long. Rows of another length are reported to
    ``problems(row_number, message)``: short ones are padded, extra non-empty cells dropped.

    With ``checked=False`` the bare csv reader is returned: no Python runs per row, and a row
    of the wrong length makes the database refuse it (the caller then reads again, checked).
    With ``end`` (a :func:`split_point`; unchecked only), the rows stop there and one more
    row of :data:`SPLIT_SENTINEL` cells follows, which only comes out whole if the split
    really fell between records.
    """
    _cell_limit(limits)
    encoding = options.encoding or file_encoding(path)
    raw = open(path, "rb")  # noqa: SIM115 (closed by the generators below)
    source = raw if end is None else io.BufferedReader(_ByteRange(raw, end), 1 << 16)
    handle = io.TextIOWrapper(source, encoding=encoding, errors="strict", newline="")
    text_sample = handle.read(65536)
    skipinitialspace = _wants_skipinitialspace(text_sample, options.delimiter)
    handle.seek(0)
    lines = handle
    if end is not None:
        sentinel = options.delimiter.join([SPLIT_SENTINEL] * width) + "\r\n"
        lines = itertools.chain(handle, [sentinel])
    reader = csv.reader(lines, delimiter=options.delimiter, skipinitialspace=skipinitialspace)
    if meter is not None:
        meter.rows = lambda: reader.line_num
        last = end if end is not None else path.stat().st_size
        meter.bytes = lambda: last if raw.closed else raw.tell()  # read to the end once closed
    for _ in range(options.header_row or 0):
        next(reader, None)
    if not checked:
        return _closing(reader, handle, encoding, limits)
    return _checked(reader, handle, encoding, width, problems, limits)


# Loading a large file in two halves at once (server.datasets.loading.split_load) -------------

SPLIT_SENTINEL = "\x00sheaf-split\x00"
# Encodings in which the bytes of a newline and a double quote never occur inside another
# character, so a byte offset can be checked for being between records.
_SPLITTABLE = ("utf-8", "utf-8-sig", "ascii", "iso8859-", "cp125", "latin-1")


def split_point(path: Path, options: ReadOptions) -> int | None:
    """A byte offset near the middle of the file where a record starts, or None.

    The offset follows a newline with an even number of double quotes before it: outside
    any quoted field in a well-formed file. A quote inside an unquoted field can fool the
    count; the sentinel row of :func:`iter_rows` catches that, and the load starts again.
    """
    encoding = codecs.lookup(options.encoding or "utf-8").name
    if not encoding.startswith(_SPLITTABLE) or options.delimiter == '"':
        return None
    size = path.stat().st_size
    with open(path, "rb") as handle:
        quotes = 0
        while handle.tell() < size // 2:
            quotes += handle.read(min(1 << 22, size // 2 - handle.tell())).count(b'"')
        for _ in range(10_000):  # lines to try before giving up
            line = handle.readline(1 << 20)
            if not line.endswith(b"\n"):
                return None
            quotes += line.count(b'"')
            if quotes % 2 == 0:
                return handle.tell() if handle.tell() < size else None
    return None


def tail_rows(
    path: Path,
    options: ReadOptions,
    start: int,
    limits: Limits = DEFAULT_LIMITS,
    meter: Meter | None = None,
) -> Iterator[list[str]]:
    """The rows from byte ``start`` (a :func:`split_point`) to the end, unchecked."""
    _cell_limit(limits)
    encoding = codecs.lookup(options.encoding or "utf-8").name.removesuffix("-sig")
    with _open_text(path, options.encoding or "utf-8") as head:
        skipinitialspace = _wants_skipinitialspace(head.read(65536), options.delimiter)
    raw = open(path, "rb")  # noqa: SIM115 (closed by _closing)
    raw.seek(start)
    if meter is not None:
        total = path.stat().st_size - start
        meter.bytes = lambda: total if raw.closed else raw.tell() - start
    handle = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
    reader = csv.reader(handle, delimiter=options.delimiter, skipinitialspace=skipinitialspace)
    return _closing(reader, handle, encoding, limits)


class _ByteRange(io.RawIOBase):
    """The first ``end`` bytes of a binary file."""

    def __init__(self, raw: io.BufferedReader, end: int) -> None:
        self._raw, self._end = raw, end

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer) -> int:
        room = self._end - self._raw.tell()
        if room <= 0:
            return 0
        with memoryview(buffer) as view:
            return self._raw.readinto(view[:room])

    def close(self) -> None:
        self._raw.close()
        super().close()


def _closing(reader, handle, encoding: str, limits: Limits) -> Iterator[list[str]]:
    try:
        yield from reader
    except UnicodeDecodeError as exc:
        raise _decode_error(exc, encoding) from None
    except csv.Error as exc:
        raise _csv_error(exc, f"Line {reader.line_num}", limits) from None
    finally:
        handle.close()


def _checked(
    reader, handle, encoding: str, width: int, problems, limits: Limits
) -> Iterator[list[str]]:
    number = 0
    try:
        for row in reader:
            if len(row) != width:
                if not row:
                    continue  # a blank line is no row at all
                if len(row) > width:
                    extra = [cell for cell in row[width:] if cell.strip()]
                    if extra:
                        problems(
                            number + 1,
                            f"has {len(row)} cells, the table {width}; "
                            f"the extra ones were dropped: {', '.join(extra[:3])}",
                        )
                    row = row[:width]
                else:
                    problems(
                        number + 1,
                        f"has {len(row)} cells, the table {width}; the missing ones are empty",
                    )
                    row = row + [""] * (width - len(row))
            number += 1
            yield row
    except UnicodeDecodeError as exc:
        raise _decode_error(exc, encoding) from None
    except csv.Error as exc:
        raise _csv_error(exc, f"Row {number + 1}", limits) from None
    finally:
        handle.close()
