"""Text that a spreadsheet would run as a formula gets a leading apostrophe, so it opens as
text (OWASP CSV injection; ASVS 5 1.2.10). The one rule for every CSV and Excel file Sheaf
writes, whatever a column's declared type: exports and the import's problem list alike.
:func:`neutralise` applies it in Python, :func:`neutralise_sql` in SQLite, both from the lists
below; :func:`any_risky` tells in one regex scan that none of many texts needs it (the CSV
export checks a whole column of a batch of rows at once).

The rule, wider than OWASP's list on purpose: a value is risky when its first character is a
tab, carriage return or line feed, or when its first character that is not whitespace is one
of ``= + - @`` or their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20), which some
spreadsheets take as formula signs, as some skip leading spaces before one. An apostrophe on a
harmless ``-5`` stored as text costs less than guessing which application opens the file.
"""

from __future__ import annotations

import re

#: First characters that start a formula, after any whitespace.
FORMULA_SIGNS = "=+-@\uff1d\uff0b\uff0d\uff20"
#: First characters risky by themselves (OWASP: tab, carriage return, line feed).
CONTROL_STARTS = "\t\r\n"
#: Every character Python counts as whitespace (all lie below U+3001): what a spreadsheet
#: might skip before a formula sign.
SKIPPED = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
RISKY_STARTS = tuple(CONTROL_STARTS + FORMULA_SIGNS)
_SIGNS = tuple(FORMULA_SIGNS)
#: What :func:`any_risky` looks for: the separator, then (UTF-8) any character a risky text
#: can start with (a whitespace start only may be risky: :func:`is_risky` decides).
SEPARATOR = b"\x00"
_FIRSTS = sorted(set(CONTROL_STARTS + FORMULA_SIGNS + SKIPPED))
_STARTS = re.compile(
    re.escape(SEPARATOR) + b"(?:" + b"|".join(re.escape(ch.encode()) for ch in _FIRSTS) + b")"
)
# The same, cheaper and wider (their first byte only): when it finds nothing, neither would
# _STARTS, which then need not run.
_FIRST_BYTES = re.compile(
    re.escape(SEPARATOR)
    + b"["
    + b"".join(re.escape(bytes([b])) for b in sorted({ch.encode()[0] for ch in _FIRSTS}))
    + b"]"
)


def is_risky(text: str) -> bool:
    """Whether a spreadsheet might run ``text`` as a formula."""
    return text.startswith(RISKY_STARTS) or (
        text[:1] in SKIPPED and text.lstrip(SKIPPED).startswith(_SIGNS)
    )


def neutralise(value: object) -> object:
    """``value`` with a leading apostrophe if it is text that starts like a formula; numbers
    and everything else unchanged."""
    if isinstance(value, str) and value and is_risky(value):
        return "'" + value
    return value


def any_risky(joined: bytes) -> bool:
    """Whether any of the texts in ``joined`` might be risky, ``joined`` holding each text in
    UTF-8 with :data:`SEPARATOR` in front (``SEPARATOR + SEPARATOR.join(texts)``). False means
    :func:`neutralise` changes none of them; True that one may need it (a text holding the
    separator itself can only give a false alarm). Far cheaper than :func:`is_risky` on each."""
    return _FIRST_BYTES.search(joined) is not None and _STARTS.search(joined) is not None


def _codes(chars: str) -> str:
    return ", ".join(str(code) for code in sorted(set(map(ord, chars))))


def neutralise_sql(expression: str) -> str:
    """SQL for ``expression`` neutralised as :func:`neutralise` would: only text is looked at,
    so NULL and numbers come out unchanged. ``+x >= ''`` is the cheapest test for text (every
    number sorts before text, NULL compares to nothing, and ``+`` drops the column's affinity
    so ``''`` is never read as a number); it also lets through blobs, which Sheaf never
    stores. Then one ``unicode()`` of the first character settles nearly every value;
    ``ltrim`` runs only on text that starts with whitespace."""
    first = f"unicode({expression})"
    skipped = f"char({_codes(SKIPPED)})"  # constant: SQLite works it out once per statement
    apostrophe = "''''"  # SQL for a string holding one apostrophe
    return (
        f"CASE WHEN +{expression} >= '' "
        f"AND {first} IN ({_codes(CONTROL_STARTS + FORMULA_SIGNS + SKIPPED)}) "
        f"AND ({first} IN ({_codes(CONTROL_STARTS + FORMULA_SIGNS)}) "
        f"OR unicode(ltrim({expression}, {skipped})) IN ({_codes(FORMULA_SIGNS)})) "
        f"THEN {apostrophe} || {expression} ELSE {expression} END"
    )
