"""The month names and currency signs come from CLDR (Babel), written by tools/locale_words.py:
the module in the tree is what the tool writes today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.importers.locale_words import CURRENCY_CODES, CURRENCY_SIGNS, MONTHS

ROOT = Path(__file__).resolve().parents[2]


def test_the_module_is_what_the_tool_writes():
    pytest.importorskip("babel")
    check = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "locale_words.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_each_of_the_eight_languages_names_march():
    for word in ("march", "mars", "märz", "marzo", "março", "maart", "marca", "marzec"):
        assert MONTHS[word] == 3, word
    assert MONTHS["mrt"] == 3 and MONTHS["paź"] == 10 and MONTHS["fevrier"] == 2
    assert {"EUR", "USD", "CHF", "PLN"} <= CURRENCY_CODES and {
        "€",
        "$",
        "£",
        "zł",
    } <= CURRENCY_SIGNS
