"""Round trip (Hypothesis): typed values written the way an office in each locale writes them,
saved as CSV and as XLSX (as text cells, as a spreadsheet keeps them when typed so), imported
with that office's setting for dates left open, and read back equal."""

from __future__ import annotations

import csv
import tempfile
from datetime import date
from pathlib import Path

import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.datasets.loading.pipeline import load_file
from server.importers import Guessing, inspect_file, readings_for
from tests.helpers import read_rows

NBSP = "\u00a0"
MONTHS_DE = ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.",
             "Nov.", "Dez."]  # fmt: skip


def german(day: date, amount: float, paid: bool) -> list[str]:
    whole, cents = f"{abs(amount):,.2f}".split(".")
    sign = "-" if amount < 0 else ""
    return [day.strftime("%d.%m.%Y"), f"{sign}{whole.replace(',', '.')},{cents}",
            "ja" if paid else "nein"]  # fmt: skip


def american(day: date, amount: float, paid: bool) -> list[str]:
    return [f"{day.month}/{day.day}/{day.year}", f"{amount:,.2f}", "yes" if paid else "no"]


def french(day: date, amount: float, paid: bool) -> list[str]:
    whole, cents = f"{abs(amount):,.2f}".split(".")
    sign = "-" if amount < 0 else ""
    return [f"{day.day} {MONTHS_DE[day.month - 1]} {day.year}",  # names of any language
            f"{sign}{whole.replace(',', NBSP)},{cents}", "oui" if paid else "non"]  # fmt: skip


LOCALES = {"de": (german, "dmy"), "us": (american, "mdy"), "fr": (french, "dmy")}

rows = st.lists(
    st.tuples(
        st.dates(min_value=date(1931, 1, 1), max_value=date(2099, 12, 31)),
        st.decimals(min_value=-(10**9), max_value=10**9, places=2).map(float),
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


def write(path: Path, table: list[list[str]]) -> None:
    if path.suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, delimiter=";").writerows(table)
        return
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for number, row in enumerate(table):
        for column, value in enumerate(row):
            sheet.write_string(number, column, value)
    book.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows, locale=st.sampled_from(sorted(LOCALES)), suffix=st.sampled_from([".csv", ".xlsx"])
)
def test_values_written_in_a_locale_come_back_equal(rows, locale, suffix):
    formatter, order = LOCALES[locale]
    table = [["day", "amount", "paid"]] + [formatter(*row) for row in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data.{suffix}"
        write(path, table)
        sample = inspect_file(path)
        types = ["date", "real", "boolean"]
        readings = readings_for(sample, types, Guessing(order=order))
        outcome = load_file(path, Path(folder) / "out.sqlite", sample, types, readings=readings)
        stored = read_rows(Path(folder) / "out.sqlite", outcome.columns, 1000)
    assert outcome.problem_count == 0, outcome.problems[:3]
    assert [row[1:] for row in stored] == [
        (day.isoformat(), amount, int(paid)) for day, amount, paid in rows
    ]
