"""Filters that templates use to show values: formatting only. They decide nothing about
permissions (an import-linter contract keeps them away from the permission checks): a page may
hide a button with ``can()``, but only after the server already refuses the action."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlencode

from .importers.types import TYPE_LABELS


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 row", "2 rows", "1,204 values" """
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def number(value: float | int | None) -> str:
    """A number as people read it: thousands separated, a few decimals, never ``1.249e+04``.
    Whole numbers keep every digit; others keep 2 decimals from 1 up, 3 significant digits
    below 1 (``0.0123``), trailing zeros dropped."""
    if value is None:
        return "—"
    if isinstance(value, int):  # bool is an int too
        return f"{int(value):,}"
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1:
        text = f"{value:,.2f}"
    else:
        decimals = 2
        while decimals < 12 and magnitude < 10 ** -(decimals - 2):
            decimals += 1
        text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def share(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage people read: ``0.1%``, ``< 0.1%`` (never a
    misleading ``0%`` for a few cells), ``> 99.9%`` (never ``100%`` unless all)."""
    if not whole or not part:
        return "0%"
    if part == whole:
        return "100%"
    percent = 100 * part / whole
    if percent < 0.1:
        return "< 0.1%"
    if percent > 99.9:
        return "> 99.9%"
    return f"{percent:.1f}".rstrip("0").rstrip(".") + "%"


def filesize(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(size)


def type_label(kind: str) -> str:
    return TYPE_LABELS.get(kind, kind)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def misfit(value: object, kind: str) -> bool:
    """Whether a stored value does not fit its column's type (it was kept as written)."""
    if value is None or kind == "text":
        return False
    if kind == "integer":
        return not isinstance(value, int)
    if kind == "real":
        return not isinstance(value, int | float)
    if kind == "boolean":
        return value not in (0, 1)
    if not isinstance(value, str):
        return True
    try:
        if kind == "date":
            return not (_ISO_DATE.fullmatch(value) and date.fromisoformat(value))
        datetime.fromisoformat(value)
    except ValueError:
        return True
    return False


def reject_filters(args: dict[str, str]) -> dict[str, str]:
    """A view's arguments without its column filters (for "Clear filters")."""
    return {k: v for k, v in args.items() if "." not in k}


# What Werkzeug leaves unescaped in a query string (its url_for writes links the same way).
_QUERY_SAFE = "!$'()*,/:;?@"


def query(base: str, **args: object) -> str:
    """``base`` with ``args`` as its query string (None left out), as url_for writes it.

    Why: the table page links every column's sort, each page number and each filter chip to
    the same route with other arguments; building the route once and adding each query here
    takes a sixth of what url_for takes per link (issue #17's page benchmark)."""
    items = [(key, value) for key, value in args.items() if value is not None]
    return f"{base}?{urlencode(items, safe=_QUERY_SAFE)}" if items else base


FILTERS = {
    "plural": plural,
    "number": number,
    "share": share,
    "filesize": filesize,
    "type_label": type_label,
    "reject_filters": reject_filters,
    "misfit": misfit,
    "query": query,
}
