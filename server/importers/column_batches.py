"""Converting a column's values a batch at a time, for the bulk load of a large file.

Value by value, a million European rows (``1.234,56``, ``31.12.2024``, ``31.12.2024 23:59:59``)
cost about 1.2 µs a value in Python calls: twice the time of the ISO file, whose values SQLite
reads itself. Here the common forms of a whole batch are turned into the text SQLite reads
(``1234.56``, ``2024-12-31``) by C-level ``map`` calls over the batch, and SQLite's column
affinity does the rest, exactly as for an ISO file. A batch holding anything else (a value that
does not fit, a leading ``+``, a percent sign) goes value by value through
:func:`.readings.converter`, which keeps such values as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from operator import itemgetter

from .readings import SPACES, Reading, converter, parse_date

MAX_BATCH_TEXT = 18  # longer numbers go value by value (SQLite would make 20 digits a real)
MAX_CACHED = 50_000  # distinct dates remembered per column


class ColumnConversion:
    """A column's batch converter (a function from a batch of its values to what SQLite should
    be given for them) that also knows whether every value it has given so far fits the
    column's type: then the check after the load can pass over the column.

    Only the fast readers vouch for their values (plain numbers, dates read by the general
    reader, date-times whose day was read and whose time matched); a batch that went value by
    value, or any value kept as written, makes the column one to check."""

    def __init__(self, kind: str, reading: Reading, each: Callable[[object], object]) -> None:
        self._each = each
        self._fast = _batch_reader(kind, reading, each, self)
        self.fits = True

    def __call__(self, values: Sequence) -> list:
        if self._fast is not None:
            try:
                done = self._fast(values)
            except TypeError:  # a value that is not text (a workbook's number)
                done = None
            if done is not None:
                return done
        self.fits = False
        return list(map(self._each, values))


def column_converter(kind: str, reading: Reading) -> ColumnConversion | None:
    """A function from a batch of one column's values to what SQLite should be given for
    them, or None when SQLite reads the column's values as they are (ISO forms)."""
    each = converter(kind, reading)
    return None if each is None else ColumnConversion(kind, reading, each)


def _batch_reader(
    kind: str, reading: Reading, each: Callable[[object], object], state: ColumnConversion
) -> Callable[[Sequence], list | None] | None:
    if kind in ("integer", "real") and not reading.percent and not reading.unit:
        return _numbers(kind, reading)
    if kind == "date":
        return _dates(each, state)
    if kind == "datetime":
        return _moments(reading.order or "dmy")
    return None


def _numbers(kind: str, reading: Reading) -> Callable[[Sequence], list | None]:
    """``1.234,56`` → ``1234.56`` for the batch whose every value has that plain form (no
    sign but a minus, no leading zero: a code like 007 goes the careful way). Such a value
    fits: at most 18 characters are a whole number SQLite stores as an integer, or a real.

    The batch is joined into one text, matched by one pattern and changed by ``str.replace``
    at once (a third less than a match and a change per value); a value holding a newline
    shows in the count of lines and sends the batch the careful way."""
    t = reading.thousands
    separator = "[" + "".join(SPACES) + "]" if t == " " else re.escape(t)
    whole = rf"(?:[1-9]\d{{0,2}}(?:{separator}\d{{3}})+|[1-9]\d*|0)" if t else r"(?:[1-9]\d*|0)"
    part = rf"(?:{re.escape(reading.decimal)}\d+)?" if kind == "real" else ""
    short = rf"(?=[^\n]{{0,{MAX_BATCH_TEXT}}}\n)"
    plain = re.compile(rf"(?:{short}(?:-?{whole}{part})?\n)*").fullmatch  # empty values too
    drop = SPACES if t == " " else (t,) if t else ()
    point = reading.decimal

    def numbers(values: Sequence) -> list | None:
        text = "\n".join(values) + "\n"
        if not plain(text) or text.count("\n") != len(values):
            return None
        for mark in drop:
            text = text.replace(mark, "")
        if point != ".":
            text = text.replace(point, ".")
        done = text.split("\n")
        done.pop()  # after the last newline
        return done

    return numbers


def _dates(
    each: Callable[[object], object], state: ColumnConversion
) -> Callable[[Sequence], list | None]:
    """Each distinct date is read once; a batch is then a dictionary look-up per value. A
    value the reader gives back as written may not fit (or is an ISO date already): the
    column is then checked after the load."""
    known: dict[str, object] = {"": ""}

    def dates(values: Sequence) -> list | None:
        got = list(map(known.get, values))
        if None in got:
            if len(known) >= MAX_CACHED:
                return None
            for text in {v for v, g in zip(values, got, strict=True) if g is None}:
                known[text] = day = each(text)  # a value that does not fit maps to itself
                if day == text:
                    state.fits = False
            got = list(map(known.get, values))
        return got

    return dates


_TIMES = re.compile(r"(?:(?: (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)?\n)*").fullmatch
_HEAD, _TAIL = itemgetter(slice(None, 10)), itemgetter(slice(10, None))


def _moments(order: str) -> Callable[[Sequence], list | None]:
    """``31.12.2024 23:59:59`` → ``2024-12-31 23:59:59``: the date part looked up as a date,
    the time checked by one pattern and kept as written (a valid time of day: the value fits;
    a date alone becomes its midnight in SQLite). The times of a batch are joined and matched
    at once; a newline in a value shows in the count of lines."""
    days: dict[str, str] = {"": ""}
    invalid: set[str] = set()

    def moments(values: Sequence) -> list | None:
        tails = list(map(_TAIL, values))
        text = "\n".join(tails) + "\n"
        if not _TIMES(text) or text.count("\n") != len(values):
            return None
        try:
            return list(map(str.__add__, map(days.__getitem__, map(_HEAD, values)), tails))
        except KeyError:  # a day not seen yet
            pass
        missing = set(map(_HEAD, values)) - days.keys()
        if missing & invalid or len(days) >= MAX_CACHED:
            return None
        for head in missing:
            day = parse_date(head, order) if len(head) == 10 else None
            if day is None:
                invalid.add(head)
                return None
            days[head] = day
        return list(map(str.__add__, map(days.__getitem__, map(_HEAD, values)), tails))

    return moments
