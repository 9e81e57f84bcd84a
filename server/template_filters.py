"""Filters that templates use to show values: formatting only. They decide nothing about
permissions (an import-linter contract keeps them away from the permission checks): a page may
hide a button with ``can()``, but only after the server already refuses the action."""

from __future__ import annotations

import re
from datetime import date, datetime

from .importers.types import TYPE_LABELS


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 row", "2 rows", "1,204 values" """
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


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


FILTERS = {
    "plural": plural,
    "filesize": filesize,
    "type_label": type_label,
    "reject_filters": reject_filters,
    "misfit": misfit,
}
