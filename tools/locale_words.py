"""Writes ``server/importers/locale_words.py``: month names and currency signs from CLDR
(Babel's locale data), so nobody types lists of them by hand and Babel need not ship in the app.

    python tools/locale_words.py          # rewrite the module
    python tools/locale_words.py --check  # exit 1 when the module is out of date (a test runs it)
"""

from __future__ import annotations

import argparse
import pprint
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "server" / "importers" / "locale_words.py"
# English, French, German, Spanish, Italian, Portuguese, Dutch and Polish (docs/importing.md).
LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "pl")


def _plain(word: str) -> str:
    """Without accents: people type "fevrier" and "Marz" too."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def month_names() -> dict[str, int]:
    from babel import Locale

    names: dict[str, int] = {}
    for code in LANGUAGES:
        months = Locale.parse(code).months
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in months[context][width].items():
                    for word in {name, _plain(name)}:
                        key = word.casefold().rstrip(".")
                        if names.setdefault(key, number) != number:
                            raise SystemExit(f"{key!r} names two months")
    return dict(sorted(names.items()))


def currencies() -> tuple[list[str], list[str]]:
    """ISO 4217 codes, and the signs the languages above write for them (€, $, zł, R$…)."""
    from babel.numbers import get_currency_symbol, list_currencies

    codes = sorted(list_currencies())
    signs = set()
    for code in codes:
        for language in LANGUAGES:
            sign = get_currency_symbol(code, language)
            if sign != code and len(sign) <= 3 and not (sign.isascii() and sign.isalpha()):
                signs.add(sign)
    return codes, sorted(signs)


def render() -> str:
    codes, signs = currencies()
    return (
        '"""Written by tools/locale_words.py from CLDR (Babel): edit that, not this."""\n\n'
        "# Month names and abbreviations in "
        + ", ".join(LANGUAGES)
        + ", case-folded, without a final dot.\n"
        + "MONTHS: dict[str, int] = "
        + pprint.pformat(month_names(), width=99, compact=True)
        + "\n\n# ISO 4217 currency codes.\nCURRENCY_CODES: frozenset[str] = frozenset(\n"
        + pprint.pformat(codes, width=99, compact=True)
        + "\n)\n\n# Currency signs.\nCURRENCY_SIGNS: frozenset[str] = frozenset(\n"
        + pprint.pformat(signs, width=99, compact=True)
        + "\n)\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is out of date: run python tools/locale_words.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
