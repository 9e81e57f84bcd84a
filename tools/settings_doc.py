"""Writes the tables of docs/settings.md from the table of settings, so the docs cannot drift.

    python tools/settings_doc.py          # rewrite the tables
    python tools/settings_doc.py --check  # exit 1 when the file is out of date (a test runs it)

Only the part between the two markers is written; the prose around it is edited by hand.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this tree's server package, whatever is installed

from server.settings_table import SETTINGS, Setting, by_section  # noqa: E402

DOC = ROOT / "docs" / "settings.md"
BEGIN = "<!-- Written by tools/settings_doc.py from server/settings_table.py: edit it there. -->"
END = "<!-- End of what tools/settings_doc.py writes. -->"
DASH = "\N{EN DASH}"

HEADER = (
    "| Setting | `settings.json` key | Environment variable | Default | Range | What it does |\n"
    "|---|---|---|---|---|---|"
)
BYTES_PER = {"bytes": 1, "KiB": 1024, "MiB": 1024**2}  # units shown in KiB, MiB… too
ON_PAGE = "These are on the **Settings** page too, under the names in the first column."
OFF_PAGE = "Only in `settings.json` or a `SHEAF_*` variable: not on the Settings page."


def _size(count: int) -> str:
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= factor and count % factor == 0:
            return f"{count // factor} {unit}"
    return f"{count} bytes"


def _default(setting: Setting) -> str:
    if setting.kind is bool:
        return "true" if setting.default else "false"
    if setting.kind is str:
        return f"`{setting.default}`"
    text = f"{setting.default} {setting.unit}".rstrip()
    if setting.unit in BYTES_PER:
        size = _size(setting.default * BYTES_PER[setting.unit])
        text += f" ({size})" if size != text else ""
    return text


def _range(setting: Setting) -> str:
    if setting.kind is bool:
        return "true or false"
    if setting.kind is str:
        return f"text, up to {setting.high} characters"
    low, high = setting.bounds
    text = f"{low}{DASH}{high}"
    if setting.unit in BYTES_PER:
        factor = BYTES_PER[setting.unit]
        text += f" ({_size(low * factor)}{DASH}{_size(high * factor)})"
    return text


def _row(setting: Setting) -> str:
    cells = [
        setting.label,
        f"`{setting.key}`",
        f"`{setting.env}`",
        _default(setting),
        _range(setting),
        f"{setting.help} {setting.note}".rstrip(),
    ]
    if any("|" in cell for cell in cells):
        raise ValueError(f"{setting.name}: a '|' would break the table")
    return f"| {' | '.join(cells)} |"


def tables(settings: Iterable[Setting]) -> str:
    """The Markdown of the tables: one section per section of the table of settings."""
    parts = []
    for title, group in by_section(settings).items():
        on_page = {setting.on_page for setting in group}
        if len(on_page) > 1:
            raise ValueError(f"{title}: a section is either on the Settings page or not")
        where = ON_PAGE if on_page.pop() else OFF_PAGE
        rows = "\n".join(_row(setting) for setting in group)
        parts.append(f"## {title}\n\n{where}\n\n{HEADER}\n{rows}\n")
    return "\n".join(parts)


def render(text: str, settings: Iterable[Setting] = SETTINGS) -> str:
    """``text`` (docs/settings.md) with the part between the markers written afresh."""
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not (begin and end):
        raise ValueError(f"{DOC.name} has lost its markers:\n{BEGIN}\n{END}")
    return f"{head}{BEGIN}\n\n{tables(settings)}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is up to date")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    written = render(text)
    if written == text:
        return 0
    if args.check:
        print(f"{DOC.relative_to(ROOT)} is out of date: run python tools/settings_doc.py")
        return 1
    DOC.write_text(written, encoding="utf-8")
    print(f"Wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
