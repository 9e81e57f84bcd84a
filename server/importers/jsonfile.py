"""JSON: an array of objects (or of arrays, the first being the header), JSON Lines, or an
object holding one such array. Read one record at a time, so memory stays flat.

Nested values are kept as JSON text. NaN and Infinity are refused (they are not JSON), as are
records nested deeper than the limit and lone surrogates that no text encoding can store.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

from .errors import UnreadableFile
from .sniff import file_encoding
from .table import (
    DEFAULT_LIMITS,
    SAMPLE_ROWS,
    Limits,
    Meter,
    ReadOptions,
    TableSample,
    unique_labels,
)

CHUNK = 1 << 16
_WHITESPACE = " \t\r\n"


def _refuse_constant(name: str) -> None:
    raise UnreadableFile(f"The file contains {name}, which is not a JSON number.")


def _check_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise UnreadableFile(f"The number {text[:40]} is too large.")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_check_float)


def _depth(value: object, limit: int, level: int = 1) -> None:
    if level > limit:
        raise UnreadableFile(f"A record is nested more than {limit} levels deep.")
    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, dict | list):
                _depth(item, limit, level + 1)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                _depth(item, limit, level + 1)


class _DuplicateKeys:
    """A decoder for the preview's sample that notices objects repeating a key."""

    def __init__(self) -> None:
        self.seen = False
        self.decoder = json.JSONDecoder(
            parse_constant=_refuse_constant,
            parse_float=_check_float,
            object_pairs_hook=self._pairs,
        )

    def _pairs(self, pairs: list[tuple[str, object]]) -> dict:
        record = dict(pairs)
        if len(record) != len(pairs):
            self.seen = True
        return record


class _Stream:
    """Decoded text read in chunks, with just enough buffered to parse the next value."""

    def __init__(self, handle, decoder: json.JSONDecoder = _DECODER) -> None:
        self.handle, self.buffer, self.pos, self.offset = handle, "", 0, 0
        self.decoder = decoder

    def fill(self) -> bool:
        chunk = self.handle.read(CHUNK)
        if not chunk:
            return False
        self.offset += self.pos
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def skip_space(self) -> str:
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self.fill():
                return ""

    def value(self, max_bytes: int) -> object:
        self.skip_space()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                # The value may simply go on in the next chunk; only the end of the file or an
                # oversized record makes the error final.
                if len(self.buffer) - self.pos <= max_bytes and self.fill():
                    continue
                if len(self.buffer) - self.pos > max_bytes:
                    raise UnreadableFile(
                        f"A record is longer than {max_bytes // 1024:,} KiB."
                    ) from None
                raise UnreadableFile(
                    f"The JSON is not valid near character {self.offset + exc.pos:,}: {exc.msg}."
                ) from None
            except RecursionError:
                raise UnreadableFile("A record is nested too deeply to read.") from None
            if end == len(self.buffer) and self.fill():
                continue  # a number may go on in the next chunk: parse again with more text
            self.pos = end
            return value


def _records(
    path: Path, encoding: str, max_record: int = 16 << 20, decoder: json.JSONDecoder = _DECODER
) -> Iterator[object]:
    with open(path, encoding=encoding, errors="strict") as handle:
        stream = _Stream(handle, decoder)
        try:
            first = stream.skip_space()
            if first == "\ufeff":
                stream.pos += 1
                first = stream.skip_space()
            if first == "[":
                stream.pos += 1
                yield from _array_items(stream, max_record)
            elif first == "{":
                top = stream.value(max_record)
                if stream.skip_space() == "{":  # JSON Lines: one object per line
                    yield top
                    while stream.skip_space():
                        yield stream.value(max_record)
                else:
                    if stream.skip_space():
                        raise UnreadableFile("There is more text after the end of the JSON object.")
                    arrays = [k for k, v in top.items() if isinstance(v, list)]
                    if len(arrays) == 1 and all(isinstance(r, dict | list) for r in top[arrays[0]]):
                        yield from top[arrays[0]]  # {"records": [...]}
                    elif arrays:
                        raise UnreadableFile(
                            "This JSON object holds several lists; Sheaf reads an array of "
                            "records, JSON Lines, or an object holding exactly one array."
                        )
                    elif top:
                        yield top  # a single record: JSON Lines of one line
                    else:
                        raise UnreadableFile("The JSON holds no records.")
            else:
                raise UnreadableFile(
                    "This JSON is a single value, not a table: Sheaf reads an array of records, "
                    "JSON Lines, or an object holding one array of records."
                )
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"The file is not valid {encoding} text near byte {exc.start:,}."
            ) from None


def _array_items(stream: _Stream, max_record: int) -> Iterator[object]:
    if stream.skip_space() == "]":
        stream.pos += 1
        return
    while True:
        yield stream.value(max_record)
        char = stream.skip_space()
        stream.pos += 1
        if char == "]":
            if stream.skip_space():
                raise UnreadableFile("There is more text after the end of the JSON array.")
            return
        if char != ",":
            raise UnreadableFile(
                f"The JSON is not valid near character {stream.offset + stream.pos:,}: "
                "expected ',' or ']'."
            )


def _scalar(value: object) -> object:
    if value is None or isinstance(value, str | float):
        return _clean_text(value) if isinstance(value, str) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else str(value)
    return _clean_text(json.dumps(value, ensure_ascii=False))


def _clean_text(text: str) -> str:
    # A lone surrogate (from a "\udfaa" escape) cannot be stored as UTF-8: show U+FFFD instead.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8").replace("?", "\ufffd")
    return text


class _Shape:
    """Turns records into rows: objects by key, arrays by position (first array: header)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.index: dict[str, int] = {}
        self.arrays = False

    def learn(self, record: object, number: int) -> list | None:
        if isinstance(record, dict):
            for key in record:
                if key not in self.index:
                    self.index[key] = len(self.keys)
                    self.keys.append(key)
            return None
        if isinstance(record, list) and number == 1:
            self.arrays = True
            self.keys = [str(k) for k in record]
            return None
        if isinstance(record, list) and self.arrays:
            return None
        raise UnreadableFile(
            f"Record {number} is {type(record).__name__ if record is not None else 'null'}, "
            "not an object: every record must be an object (or, after a header array, an array)."
        )

    def row(self, record: object, width: int) -> list:
        if isinstance(record, dict):
            row = [None] * width
            for key, value in record.items():
                position = self.index.get(key)
                if position is not None and position < width:
                    row[position] = _scalar(value)
            return row
        return ([_scalar(v) for v in record] + [None] * width)[:width]


def inspect(path: Path, options: ReadOptions, limits: Limits = DEFAULT_LIMITS) -> TableSample:
    encoding = options.encoding or file_encoding(path)
    shape, sample, warnings = _Shape(), [], []
    duplicates = _DuplicateKeys()
    records = _records(path, encoding, decoder=duplicates.decoder)
    for number, record in enumerate(records, start=1):
        _depth(record, limits.json_max_depth)
        shape.learn(record, number)
        if not (shape.arrays and number == 1):
            sample.append(record)
        if len(sample) >= SAMPLE_ROWS:
            break
    if not shape.keys and not sample:
        raise UnreadableFile("The JSON holds no records.")
    if any(
        isinstance(v, dict | list)
        for r in sample
        for v in (r.values() if isinstance(r, dict) else r)
    ):
        warnings.append("Nested values are kept as JSON text.")
    if duplicates.seen:
        warnings.append("Some records have a duplicate field name; the last value of each is kept.")
    labels, label_warnings = unique_labels(shape.keys, len(shape.keys))
    width = len(labels)
    resolved = options.with_(
        format="json", encoding=encoding, delimiter=None, header_row=None, sheet=None
    )
    return TableSample(
        resolved, labels, [shape.row(r, width) for r in sample], warnings + label_warnings
    )


def iter_rows(
    path: Path,
    options: ReadOptions,
    width: int,
    problems,
    meter: Meter | None = None,
    checked: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[list]:
    done = [0]
    if meter is not None:
        meter.rows = lambda: done[0]
    encoding = options.encoding or "utf-8"
    return _json_rows(path, encoding, width, problems, done, limits.json_max_depth)


def _json_rows(
    path: Path, encoding: str, width: int, problems, done: list[int], max_depth: int
) -> Iterator[list]:
    shape = _Shape()
    number = 0
    for count, record in enumerate(_records(path, encoding), start=1):
        _depth(record, max_depth)
        known = len(shape.keys)
        shape.learn(record, count)
        if shape.arrays and count == 1:
            continue
        number += 1
        if len(shape.keys) > max(known, width):
            new = ", ".join(shape.keys[max(known, width) :][:3])
            problems(number, f"has fields not seen in the first records, dropped: {new}")
        done[0] = number
        yield shape.row(record, width)
