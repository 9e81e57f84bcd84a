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
        return _dates(reading.order or "dmy", each, state)
    if kind == "datetime":
        return _moments(reading.order or "dmy")
    return None


def _numbers(kind: str, reading: Reading) -> Callable[[Sequence], list | None]:
    """``1.234,56`` → ``1234.56`` for the batch whose every value has that plain form (no
    sign but a minus, no leading zero: a code like 007 goes the careful way). Such a value
    fits: at most 18 characters are a whole number SQLite stores as an integer, or a real.

    The batch is joined into one text and changed by ``str.replace`` at once. Its form is
    checked on the *shapes* of its values (every digit folded to ``0`` in the text's bytes,
    the distinct shapes matched one by one: a batch has a handful), with the leading zeros
    looked for apart; a third of matching every value. A text that is not ASCII (a no-break
    space between thousands) is matched whole by one pattern. A value holding a newline shows
    in the count of lines and sends the batch the careful way."""
    t = reading.thousands
    separator = "[" + "".join(SPACES) + "]" if t == " " else re.escape(t)
    whole = rf"(?:[1-9]\d{{0,2}}(?:{separator}\d{{3}})+|[1-9]\d*|0)" if t else r"(?:[1-9]\d*|0)"
    part = rf"(?:{re.escape(reading.decimal)}\d+)?" if kind == "real" else ""
    short = rf"(?=[^\n]{{0,{MAX_BATCH_TEXT}}}\n)"
    # Empty values match too; re.ASCII: a digit is 0-9, as SQLite reads it (\d takes any
    # script's digits, which SQLite would store as text in a column vouched for).
    plain = re.compile(rf"(?:{short}(?:-?{whole}{part})?\n)*", re.ASCII).fullmatch
    shape = _shape_pattern(kind, reading)
    drop = SPACES if t == " " else (t,) if t else ()
    point = reading.decimal

    def numbers(values: Sequence) -> list | None:
        text = "\n".join(values) + "\n"
        if text.count("\n") != len(values):
            return None
        try:
            ascii_text = text.encode("ascii")
        except UnicodeEncodeError:
            if not plain(text):
                return None
        else:
            if not shape(ascii_text):
                return None
        for mark in drop:
            text = text.replace(mark, "")
        if point != ".":
            text = text.replace(point, ".")
        done = text.split("\n")
        done.pop()  # after the last newline
        return done

    return numbers


_FOLD_DIGITS = bytes.maketrans(b"123456789", b"000000000")


def _shape_pattern(kind: str, reading: Reading) -> Callable[[bytes], bool]:
    """Whether the lines of an ASCII text (each ending in a newline) are plain numbers written
    the reading's way, at most MAX_BATCH_TEXT long, or empty: each distinct shape (digits
    folded to 0) is matched once, and a whole part starting with a zero must be that zero
    alone (``0,5``, not ``007`` or ``0.123``)."""
    t = re.escape(reading.thousands.encode("ascii"))  # ASCII text: a space is " " itself
    point = re.escape(reading.decimal.encode("ascii"))
    whole = rb"(?:0{1,3}(?:" + t + rb"000)+|0+)" if t else rb"0+"
    part = rb"(?:" + point + rb"0+)?" if kind == "real" else b""
    shape = re.compile(rb"(?:-?" + whole + part + rb")?").fullmatch
    ends = rb"[" + point + rb"\n]" if kind == "real" else rb"\n"
    bad_zero = re.compile(rb"\n-?0(?!" + ends + rb")").search

    def fits(shape_text: bytes) -> bool:
        return len(shape_text) <= MAX_BATCH_TEXT and shape(shape_text) is not None

    def plain(text: bytes) -> bool:
        if not all(map(fits, set(text.translate(_FOLD_DIGITS).split(b"\n")))):
            return False
        lines = b"\n" + text
        return not (b"\n0" in lines or b"\n-0" in lines) or bad_zero(lines) is None

    return plain


def _dates(
    order: str, each: Callable[[object], object], state: ColumnConversion
) -> Callable[[Sequence], list | None]:
    """A batch of dates all written ``31.12.2024`` is rearranged at once
    (:func:`_fixed_width`). Otherwise each distinct date is read once, and a batch is then a
    dictionary look-up per value. A value the reader gives back as written may not fit (or
    is an ISO date already): the column is then checked after the load."""
    known: dict[str, object] = {"": ""}
    fixed = _fixed_width(order, with_time=False)

    def dates(values: Sequence) -> list | None:
        done = fixed(values)
        if done is not None:
            return done
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


_TIMES = re.compile(r"(?:(?: (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)?\n)*", re.ASCII).fullmatch
_HEAD, _TAIL = itemgetter(slice(None, 10)), itemgetter(slice(10, None))


def _moments(order: str) -> Callable[[Sequence], list | None]:
    """``31.12.2024 23:59:59`` → ``2024-12-31 23:59:59``: a batch all written so is
    rearranged at once (:func:`_fixed_width`); otherwise the date part is looked up as a date,
    the time checked by one pattern and kept as written (a valid time of day: the value fits;
    a date alone becomes its midnight in SQLite). The times of a batch are joined and matched
    at once; a newline in a value shows in the count of lines."""
    days: dict[str, str] = {"": ""}
    invalid: set[str] = set()
    fixed = _fixed_width(order, with_time=True)

    def moments(values: Sequence) -> list | None:
        done = fixed(values)
        if done is not None:
            return done
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


_HOURS = re.compile(rb"(?:[01][0-9]|2[0-3])*").fullmatch
_MONTH_DAYS = re.compile(  # month and day, four digits each: a valid day of some year
    rb"(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-9])|(?:0[13-9]|1[0-2])30|(?:0[13578]|1[02])31)*"
).fullmatch
_SHAPES = {
    (separator, with_time): (b"00" + separator + b"00" + separator + b"0000")
    + (b" 00:00:00" if with_time else b"")
    + b"\n"
    for separator in (b".", b"/", b"-")
    for with_time in (False, True)
}


def _fixed_width(order: str, with_time: bool) -> Callable[[Sequence], list | None]:
    """``31.12.2024`` (and ``31.12.2024 23:59:59``) → ``2024-12-31`` for a batch whose every
    value has exactly that form, with one separator (``.``, ``/`` or ``-``), or None.

    The joined text has then a fixed width per value, so its form is one comparison of bytes
    (digits folded to 0) and the day, month and year are moved by slices with a step, a few
    C-level copies for the whole batch instead of Python work per value. Months and days are
    checked by one pattern over the batch's month-day pairs, a 29 February against its year,
    the year 0 refused, and each time of day must be one (00:00:00 to 23:59:59): such a value
    fits, and SQLite stores what it would store for the value read alone."""
    width = 20 if with_time else 11  # with the newline
    day, month = (3, 0) if order == "mdy" else (0, 3)

    def rearranged(values: Sequence) -> list | None:
        count = len(values)
        text = "\n".join(values) + "\n"
        if len(text) != count * width or not count:
            return None
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            return None
        shape = _SHAPES.get((raw[2:3], with_time))
        if shape is None or raw.translate(_FOLD_DIGITS) != shape * count:
            return None
        digits = (  # each value's month and day, digit by digit
            raw[month::width],
            raw[month + 1 :: width],
            raw[day::width],
            raw[day + 1 :: width],
        )
        pairs = bytearray(4 * count)  # MMDD for each value
        pairs[0::4], pairs[1::4], pairs[2::4], pairs[3::4] = digits
        if not _MONTH_DAYS(pairs) or not _years_fit(raw, pairs, width):
            return None
        if with_time:
            hours = bytearray(2 * count)
            hours[0::2], hours[1::2] = raw[11::width], raw[12::width]
            tens = raw[14::width] + raw[17::width]  # of the minutes and the seconds
            if not _HOURS(hours) or tens.translate(None, b"012345"):
                return None
        out = bytearray(raw)
        for place in range(4):  # the year first
            out[place::width] = raw[6 + place :: width]
        out[4::width] = out[7::width] = b"-" * count
        out[5::width], out[6::width], out[8::width], out[9::width] = digits
        done = out.decode("ascii").split("\n")
        done.pop()  # after the last newline
        return done

    return rearranged


def _years_fit(raw: bytes, pairs: bytearray, width: int) -> bool:
    """No year 0, and a 29 February only in a leap year (``pairs``: MMDD per value)."""
    years = bytearray(4 * (len(pairs) // 4))
    for place in range(4):
        years[place::4] = raw[6 + place :: width]
    for found, wanted in ((years, b"0000"), (pairs, b"0229")):
        at = found.find(wanted)
        while at != -1:
            if at % 4 == 0:  # a value's own digits, not the end of one and the start of the next
                year = int(years[at : at + 4])
                if wanted == b"0000" or not (year % 4 == 0 and (year % 100 or year % 400 == 0)):
                    return False
            at = found.find(wanted, at + 1)
    return True
