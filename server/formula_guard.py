"""Text that a spreadsheet would run as a formula gets a leading apostrophe, so it opens as
text (OWASP CSV injection; ASVS 5 1.2.10). Every CSV and Excel file Sheaf writes goes
through :func:`neutralise`: exports and the import's problem list alike."""

from __future__ import annotations

RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``value`` with a leading apostrophe if it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(RISKY_STARTS):
        return "'" + value
    return value
