"""Column types: their names and labels, guessing a column's type from a sample of its values,
and the one list of yes/no words (:func:`yes_or_no`) that imports and filters share.

The SQL that stores and checks each type is the dataset file format's
(``server.datasets.storage``): the bulk load binds values exactly as read and lets SQLite convert
them, then one scan finds the values that did not fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from itertools import zip_longest

TYPES = ("integer", "real", "boolean", "date", "datetime", "text")
TYPE_LABELS = {
    "integer": "Whole number",
    "real": "Decimal number",
    "boolean": "Yes / no",
    "date": "Date",
    "datetime": "Date and time",
    "text": "Text",
}

_INTEGER = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_REAL = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$"
)
# English first (the commonest), then German, French, Spanish, Italian, Portuguese, Dutch, Polish.
TRUE_WORDS = ("true", "yes", "y", "t", "ja", "j", "wahr", "oui", "vrai", "sí", "si", "verdadero")
TRUE_WORDS += ("sì", "vero", "sim", "verdadeiro", "waar", "tak", "prawda")
FALSE_WORDS = ("false", "no", "n", "f", "nein", "falsch", "non", "faux", "falso", "não", "nao")
FALSE_WORDS += ("nee", "onwaar", "nie", "fałsz")
_BOOLEAN_WORDS = frozenset(TRUE_WORDS + FALSE_WORDS)


def _boolean_spellings() -> dict[str, int]:
    # Exact spellings (true, True, TRUE…): lower() and trim() on every value cost 20% of a
    # load. The commonest come first, so a typical value matches in one to four comparisons.
    pairs = list(zip_longest((*TRUE_WORDS[:4], "1"), (*FALSE_WORDS[:4], "0")))
    pairs += list(zip_longest(TRUE_WORDS[4:], FALSE_WORDS[4:]))
    spellings: dict[str, int] = {}
    for change in (str, str.title, str.upper):
        for true, false in pairs:
            for word, value in ((true, 1), (false, 0)):
                if word:
                    spellings.setdefault(change(word), value)
    return spellings


#: The words a yes/no column stores as 1 and 0 as the bulk load reads them, in the order they
#: are tried (storage.value_expression spells them out in SQL; a streamed sheet maps them).
BOOLEAN_SPELLINGS = _boolean_spellings()


def yes_or_no(text: str) -> int | None:
    """1 or 0 for a yes/no word or digit (any case), None for anything else: the one reading
    of yes/no that imports, filters and cleaning share."""
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS or lowered == "1":
        return 1
    if lowered in FALSE_WORDS or lowered == "0":
        return 0
    return None


# What a spreadsheet's error cells hold (calamine gives them as text). Excel itself turns these
# words typed into a cell into error values, so a text cell that holds one exactly is all but
# unheard of.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
    | {"#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
)

# Longer digit strings are identifiers (card, account, barcode numbers), not quantities.
MAX_INTEGER_DIGITS = 15
INT64_MAX = 2**63 - 1


def _is_integer(text: str) -> bool:
    if not _INTEGER.match(text):
        return False
    digits = text.lstrip("+-")
    return len(digits) <= MAX_INTEGER_DIGITS and abs(int(text)) <= INT64_MAX


def _is_real(text: str) -> bool:
    if _INTEGER.match(text):
        return _is_integer(text)  # a long digit string is an identifier, not an approximate number
    return bool(_REAL.match(text)) and not re.match(r"^[+-]?0\d", text)


def _is_date(text: str) -> bool:
    if not _ISO_DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_datetime(text: str) -> bool:
    if not _ISO_DATETIME.match(text):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def native_fits(kind: str, value: object) -> bool | None:
    """Whether a value a spreadsheet gave typed (a number, true/false, a date) fits ``kind``;
    None for any other value (text is read by the guessers)."""
    if isinstance(value, bool):
        return kind == "boolean"
    if isinstance(value, int):
        return kind in ("integer", "real") and abs(value) <= INT64_MAX
    if isinstance(value, float):
        return kind == "real" or (kind == "integer" and value.is_integer() and abs(value) < 2**53)
    if isinstance(value, datetime):
        return kind == "datetime"
    if isinstance(value, date):
        return kind in ("date", "datetime")
    return None


def _fits(kind: str, value: object) -> bool:
    native = native_fits(kind, value)
    if native is not None:
        return native
    text = str(value).strip()
    if kind == "integer":
        return _is_integer(text)
    if kind == "real":
        return _is_real(text)
    if kind == "boolean":
        return text.lower() in _BOOLEAN_WORDS
    if kind == "date":
        return _is_date(text)
    if kind == "datetime":
        return _is_datetime(text) or _is_date(text)  # a date alone: midnight (as Excel gives it)
    return True


def guess_type(values: Iterable[object]) -> str:
    """The narrowest type every non-empty value fits; text when nothing else does or all empty.

    Codes with leading zeros (``00123``), phone numbers and long identifiers stay text.
    """
    candidates = ["integer", "real", "boolean", "date", "datetime"]
    seen = False
    for value in values:
        if value is None or value == "":
            continue
        if isinstance(value, str) and not value.strip():
            continue
        seen = True
        candidates = [kind for kind in candidates if _fits(kind, value)]
        if not candidates:
            return "text"
    if not seen:
        return "text"
    return candidates[0]
