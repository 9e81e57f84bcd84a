"""Every file of the real-world corpus (tests/data/corpus, see its README.md) has a decided
outcome: imported with exactly the stated values, or refused with a stated message. None may
crash, hang or leave a partial dataset behind.

``EXPECTED`` is the one table of outcomes, keyed by file name; a corpus file without an entry
fails ``test_every_corpus_file_has_a_decided_outcome``. Known importer bugs are strict xfails
whose reason says what is observed and what is expected.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from server.datasets.loading.bulk_load import BadValues
from server.datasets.loading.pipeline import Outcome, load_file
from server.importers import ReadOptions, TableSample, UnreadableFile, inspect_file
from tests.helpers import read_rows

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"
DATA_FOLDERS = ("csv", "json", "xlsx")
TIMEOUT_SECONDS = 20
RUSSIAN_SHEET = "\u041b\u0438\u0441\u0442" + "1"  # Russian for "Sheet1"


def corpus_files() -> list[Path]:
    """Every importable corpus file (expected outputs and strings/ lists are not inputs)."""
    return sorted(
        path
        for folder in DATA_FOLDERS
        for path in (CORPUS / folder).iterdir()
        if path.is_file() and not path.name.endswith(".expected.json")
    )


def corpus_file(name: str) -> Path:
    (path,) = [p for p in corpus_files() if p.name == name]
    return path


# --- The table of outcomes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What importing one file with ``read`` (the options a person chose) must give."""

    refused: str | None = None  # a distinctive part of the message shown to the person
    read: Mapping[str, object] = field(default_factory=dict)  # ReadOptions given
    detected: Mapping[str, object] = field(default_factory=dict)  # resolved ReadOptions fields
    sheets: list[str] | None = None  # worksheets offered
    labels: list[str] | None = None
    rows: int | None = None
    cells: Mapping[tuple[int, str], object] = field(default_factory=dict)  # (row, label): value
    warning: str | None = None  # part of one warning (preview or load)
    problems: int | None = 0  # ragged rows and bad values reported; None: asserted elsewhere
    bug: str | None = None  # a known importer bug: this file's case is a strict xfail


SPECTRUM_LABELS = ["a", "b", "c"]
GLB_LABELS = "Year Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec J-D D-N DJF MAM JJA SON"
SPANISH_LABELS = ["GF_ID", "FN_ID", "SF_ID", "GF", "F", "SF", "Gasto total 2011", "Descripción"]
PSV_LABELS = [
    "Year",
    "New dwellings",
    "Other dwellings",
    "All dwellings",
    "First time buyers",
    "Former owner occupiers",
]
FLOAT_LABELS = ["Sample Name", "peak PO4", "actual PO4 (formula)", "actual PO4 (values)"]
NOT_A_RECORD = "not an object: every record must be an object"

EXPECTED: dict[str, Expect] = {
    # csv-spectrum: every row is also compared with the paired .expected.json below.
    "csv-spectrum__simple.csv": Expect(labels=SPECTRUM_LABELS, rows=1, cells={(1, "a"): 1}),
    "csv-spectrum__comma_in_quotes.csv": Expect(
        labels=["first", "last", "address", "city", "zip"],
        rows=1,
        cells={(1, "city"): "Anytown, WW", (1, "zip"): "08123"},
    ),
    "csv-spectrum__escaped_quotes.csv": Expect(
        labels=["a", "b"], rows=2, cells={(1, "b"): 'ha "ha" ha', (2, "a"): 3}
    ),
    "csv-spectrum__newlines.csv": Expect(
        labels=SPECTRUM_LABELS, rows=3, cells={(2, "a"): "Once upon \na time", (2, "b"): 5}
    ),
    "csv-spectrum__quotes_and_newlines.csv": Expect(
        labels=["a", "b"], rows=2, cells={(1, "b"): 'ha \n"ha" \nha'}
    ),
    "csv-spectrum__utf8.csv": Expect(labels=SPECTRUM_LABELS, rows=2, cells={(2, "c"): "ʤ"}),
    "csv-spectrum__empty.csv": Expect(
        labels=SPECTRUM_LABELS, rows=2, cells={(1, "b"): None, (1, "c"): None, (2, "b"): 3}
    ),
    # W3C CSVW: also compared with the csv2json output below.
    "csvw__test001.csv": Expect(
        labels=["Surname", "FamilyName"], rows=8, cells={(7, "FamilyName"): "the Clown"}
    ),
    "csvw__test008.csv": Expect(
        labels=["Book1", "Book2", "Path"],
        rows=3,
        cells={
            (1, "Book2"): 7680,
            (2, "Path"): "http://dbpedia.org/ontology/author,"
            "http://dbpedia.org/resource/Diana_Gabaldon,http://dbpedia.org/ontology/author",
        },
    ),
    "frictionless__bom.csv": Expect(
        detected={"encoding": "utf-8-sig"},
        labels=["id", "name"],
        rows=2,
        cells={(1, "id"): 1, (2, "name"): "中国人"},
    ),
    "frictionless__latin1.csv": Expect(labels=["id", "name"], rows=2, cells={(2, "name"): "©"}),
    "frictionless__duplicate-headers.csv": Expect(
        labels=["id", "name", "id_2", "age", "id_3"],
        warning="Repeated column names were numbered: id → id_2, id → id_3",
        rows=2,
        cells={(1, "id"): 1101, (1, "id_3"): "001101", (2, "name"): "Julie"},
    ),
    "frictionless__blank-headers.csv": Expect(
        labels=["id", "column_2", "age"],
        warning="Columns without a name were named column_2",
        rows=2,
        cells={(1, "column_2"): "John", (2, "age"): 26},
    ),
    # The header decides the width; the 6-cell row's extra values are dropped and reported.
    "frictionless__structure-errors.csv": Expect(
        labels=["id", "name", "age"],
        warning="values beyond the header's 3 columns",
        rows=4,
        cells={(1, "name"): "John", (3, "id"): None, (4, "id"): 1, (4, "age"): 3},
        problems=None,
    ),
    "frictionless__leading-zeros.csv": Expect(
        labels=["value"],
        rows=3,
        cells={(1, "value"): "01", (2, "value"): "002", (3, "value"): "00003"},
    ),
    "frictionless__skip-rows-before-headers.csv": Expect(
        detected={"header_row": 2},
        warning="The table starts at row 2",
        labels=["id", "name"],
        rows=2,
        cells={(1, "id"): 1, (2, "name"): "中国人"},
    ),
    "frictionless__issue-1009-semicolon.csv": Expect(
        detected={"delimiter": ";"},
        labels=["fieldNameA", "fieldNameB"],
        rows=1,
        cells={(1, "fieldNameA"): "0123", (1, "fieldNameB"): "c"},
    ),
    "frictionless__table.tsv": Expect(
        detected={"delimiter": "\t"},
        labels=["id", "name"],
        rows=3,
        cells={(2, "name"): "中国人", (3, "id"): 3, (3, "name"): "\\N"},
    ),
    "frictionless__empty.csv": Expect(refused="The file is empty."),
    "frictionless__without-rows.csv": Expect(labels=["id", "name"], rows=0),
    "frictionless__wide.csv": Expect(
        refused="This table has 9,074 columns; Sheaf can store at most 2,000."
    ),
    # Dialect: a space before the opening quote is skipped; "" is the only escape, so the
    # backslash stays and the text after the closing quote is kept (Python's csv default).
    "frictionless__escaping.csv": Expect(
        labels=["ID", "Test"],
        rows=3,
        cells={
            (1, "Test"): "Test line 1",
            (2, "Test"): 'Test " line 2',
            (3, "Test"): 'Test \\ line 3"',
        },
    ),
    "frictionless__issue-1109.csv": Expect(
        labels=["int", "number", "string"],
        rows=3,
        cells={(1, "int"): 1, (1, "number"): 2.3, (2, "int"): None, (3, "number"): 3.14},
    ),
    "csvkit__mac_newlines.csv": Expect(
        labels=["a", "b", "c"],
        rows=2,
        cells={(1, "a"): "1", (2, "a"): "Once upon\ra time", (2, "b"): 5, (2, "c"): 6},
    ),
    "csvkit__null_byte.csv": Expect(
        labels=["a", "b", "c"],
        warning="The file contains NUL characters; they are removed.",
        rows=1,
        cells={(1, "a"): None, (1, "b"): 2, (1, "c"): 3},
    ),
    "csvkit__test_utf16_little.csv": Expect(
        detected={"encoding": "utf-16"},
        labels=["a", "b", "c"],
        rows=2,
        cells={(1, "a"): 1, (2, "b"): 5, (2, "c"): "ʤ"},
    ),
    # The header decides the width; row 1's extra value is dropped and reported.
    "csvkit__bad.csv": Expect(
        labels=["column_a", "column_b", "column_c"],
        warning="values beyond the header's 3 columns",
        rows=3,
        cells={
            (1, "column_c"): None,
            (2, "column_a"): None,
            (2, "column_b"): "I'm too short!",
            (2, "column_c"): None,
            (3, "column_c"): 17,
        },
        problems=None,
    ),
    "csvkit__test_header_newline.csv": Expect(
        labels=["start end", "b", "c"],
        rows=1,
        cells={(1, "start end"): "d", (1, "b"): "e"},
    ),
    "csvkit__blanks.csv": Expect(
        labels=["a", "b", "c", "d", "e", "f"],
        rows=1,
        cells={
            (1, "a"): None,
            (1, "b"): "NA",
            (1, "c"): "N/A",
            (1, "d"): "NONE",
            (1, "e"): "NULL",
            (1, "f"): ".",
        },
    ),
    "messytables__mixedGLB.csv": Expect(
        detected={"header_row": 4},
        warning="The table starts at row 4",
        labels=GLB_LABELS.split(),
        rows=133,
        cells={
            (1, "Year"): 1880,
            (1, "Jan"): -43,
            (1, "D-N"): "****",
            (133, "Year"): 2012,
            (133, "Jun"): "*****",
        },
        # "****" (no figure yet) in 13 cells: their columns are whole numbers now (over 95% of
        # values fit) and those cells are kept as written, flagged. They were text before.
        problems=13,
    ),
    "messytables__simple.psv": Expect(
        detected={"delimiter": "|"},
        labels=PSV_LABELS,
        rows=28,
        cells={(1, "Year"): 1986, (1, "New dwellings"): 44000},
    ),
    "messytables__spanish_chars.csv": Expect(
        labels=SPANISH_LABELS,
        rows=116,
        cells={
            (1, "GF"): "Gobierno",
            (1, "Gasto total 2011"): 229932.5,  # "229,932.50": thousands with commas
            (2, "F"): "Legislación",
        },
    ),
    # Columns and problems: see test_a_backslash_escaped_row_does_not_shift_columns.
    "clevercsv__imdb.csv": Expect(
        rows=100,
        cells={(1, "fn"): "titles01/tt0012349", (1, "title"): "Der Vagabund und das Kind (1921)"},
        problems=None,
    ),
    # JSON
    "jsontestsuite__y_object_duplicated_key.json": Expect(
        labels=["a"], rows=1, cells={(1, "a"): "c"}
    ),
    "jsontestsuite__n_number_NaN.json": Expect(
        refused="The file contains NaN, which is not a JSON number."
    ),
    "jsontestsuite__n_structure_100000_opening_arrays.json": Expect(
        refused="A record is nested too deeply to read."
    ),
    "jsontestsuite__i_string_lone_second_surrogate.json": Expect(refused=NOT_A_RECORD),
    "jsontestsuite__i_structure_UTF-8_BOM_empty_object.json": Expect(
        refused="The JSON holds no records."
    ),
    "jsontestsuite__i_string_invalid_utf-8.json": Expect(refused=NOT_A_RECORD),
    "jsontestsuite__y_string_null_escape.json": Expect(refused=NOT_A_RECORD),
    "jsontestsuite__n_object_trailing_comma.json": Expect(
        refused="The JSON is not valid near character 8"
    ),
    "jsontestsuite__y_structure_lonely_int.json": Expect(
        refused="This JSON is a single value, not a table"
    ),
    "jsontestsuite__number_9223372036854775808.json": Expect(refused=NOT_A_RECORD),
    "frictionless__table.json": Expect(
        labels=["id", "name"], rows=2, cells={(1, "id"): 1, (2, "name"): "中国人"}
    ),
    "frictionless__table.keyed.json": Expect(
        labels=["id", "name"], rows=2, cells={(1, "id"): 1, (2, "name"): "中国人"}
    ),
    "csvkit__testjson_nested.json": Expect(
        labels=["text", "float", "datetime", "boolean", "nested"],
        warning="Nested values are kept as JSON text.",
        rows=2,
        cells={
            (1, "text"): "Chicago Reader",
            (1, "nested"): '{"time": "04:14:00", "nested": {"date": "1971-01-01", "integer": 40}}',
            (2, "float"): 1.27,
            (2, "datetime"): "1948-01-01T14:57:13",
        },
    ),
    "csvkit__testjson_multiline.json": Expect(
        labels=["a", "b", "d"],
        rows=2,
        cells={(1, "a"): 2, (1, "d"): None, (2, "a"): None, (2, "d"): 4},
    ),
    # Excel
    "calamine__date.xlsx": Expect(
        detected={"header_row": 0},
        labels=["column_1", "column_2"],
        rows=3,
        cells={
            (1, "column_1"): "2021-01-01",
            (1, "column_2"): 15,
            (3, "column_1"): "10 days, 15:10:10",  # a duration, not a date
        },
    ),
    "calamine__date_1904.xlsx": Expect(
        detected={"header_row": 0},
        labels=["column_1", "column_2"],
        rows=3,
        cells={
            (1, "column_1"): "2021-01-01",
            (2, "column_1"): "2021-01-02",
            (3, "column_1"): "10 days, 15:10:10",
        },
    ),
    "calamine__errors.xlsx": Expect(
        refused="The sheet 'Feuil1' holds only Excel errors (such as #DIV/0!), no values."
    ),
    "calamine__merged_range.xlsx": Expect(
        sheets=["Sheet1", "Sheet2"],
        labels=["A1", "B1", "C1", "column_4", "E1", "F1", "G1", "H1"],
        warning="The sheet has merged cells; only the top-left cell of each keeps the value.",
        rows=2,  # the empty row left by the merged cells is no row, as a blank line is not
        cells={(1, "A1"): "A3", (1, "C1"): "C3", (1, "column_4"): None, (2, "H1"): "H4"},
    ),
    "calamine__has_x000D_.xlsx": Expect(
        read={"header_row": 0}, labels=["column_1"], rows=1, cells={(1, "column_1"): "ABC\r\nDEF"}
    ),
    "calamine__pass_protected.xlsx": Expect(refused="This workbook is protected with a password."),
    "calamine__empty_sheet.xlsx": Expect(refused="The sheet 'Sheet1' is empty."),
    "calamine__inlineStr_cdata.xlsx": Expect(
        labels=["Hello CDATA", "World"],
        rows=1,
        cells={(1, "Hello CDATA"): 12345, (1, "World"): "NormalText"},
    ),
    "calamine__formula.issue.xlsx": Expect(
        detected={"header_row": 0},
        labels=[f"column_{n}" for n in range(1, 11)],
        rows=3,  # the sheet's empty rows are no rows
        cells={
            (1, "column_1"): 23,
            (1, "column_3"): 23,
            (2, "column_7"): 2,
            (3, "column_10"): "US",
        },
    ),
    "calamine__header-row.xlsx": Expect(
        detected={"header_row": 9},
        labels=["Columns", "Column A", "Column B", "Column C"],
        rows=1,
        cells={(1, "Columns"): "put data here", (1, "Column A"): 1, (1, "Column C"): 3},
    ),
    "openpyxl__null_file.xlsx": Expect(refused="The file is empty."),
    "openpyxl__null_archive.xlsx": Expect(
        refused="This is a zip archive, not a spreadsheet Sheaf can read."
    ),
    "openpyxl__contains_chartsheets.xlsx": Expect(
        sheets=["data", "moredata"],
        detected={"sheet": "data"},
        labels=["x", "y"],
        rows=9,
        cells={(1, "x"): 0, (1, "y"): 0.0, (2, "y"): 0.31296179620778664},
    ),
    "frictionless__merged-cells.xlsx": Expect(
        sheets=[RUSSIAN_SHEET],
        labels=["data"],
        warning="The sheet has merged cells",
        rows=0,
    ),
    "frictionless__multiline-headers.xlsx": Expect(
        detected={"header_row": 1},
        labels=[
            "Region",
            "Caloric contribution",
            "Cumulative impact of changes on cost of food basket",
            "column_4",
        ],
        rows=3,  # the two empty rows below the header are no rows
        cells={
            (1, "column_4"): "from baseline (%)",
            (2, "Caloric contribution"): "(%)",
            (3, "Region"): "A",
            (3, "column_4"): "D",
        },
    ),
    "frictionless__sheets.xlsx": Expect(
        sheets=["Sheet1", "Sheet2", "Sheet3"],
        detected={"sheet": "Sheet1"},
        labels=["id", "name"],
        rows=1,
        cells={(1, "id"): 1, (1, "name"): "london"},
    ),
    "frictionless__adjust-floating-point-error.xlsx": Expect(
        labels=FLOAT_LABELS,
        rows=5,
        cells={
            (1, "peak PO4"): 60.565,
            (2, "actual PO4 (formula)"): 274.65999999999997,
            (2, "actual PO4 (values)"): 274.65999999999997,
            (4, "actual PO4 (formula)"): 968.0,
        },
    ),
}


# --- Helpers -----------------------------------------------------------------------------------


@dataclass
class Imported:
    sample: TableSample
    outcome: Outcome
    table: list[dict[str, object]]  # every stored row, keyed by column label

    @property
    def warnings(self) -> list[str]:
        return self.sample.warnings + self.outcome.result.warnings


def import_file(
    path: Path, dest: Path, read: Mapping[str, object] | None = None, text_only: bool = False
) -> Imported:
    """Preview ``path`` as a person would (with the options they chose), then load it all."""
    sample = inspect_file(path, ReadOptions(**(read or {})))
    types = ["text"] * len(sample.labels) if text_only else None
    outcome = load_file(path, dest, sample, types)
    labels = [column.label for column in outcome.columns]
    stored = read_rows(dest, outcome.columns, limit=1_000_000)
    return Imported(sample, outcome, [dict(zip(labels, row[1:], strict=True)) for row in stored])


def partial_of(dest: Path) -> Path:
    return dest.with_name(dest.name + ".partial")


def assert_nothing_left(dest: Path) -> None:
    assert not dest.exists()
    assert not partial_of(dest).exists()
    assert list(dest.parent.iterdir()) == []


def assert_sound_dataset(dest: Path, rows: int) -> None:
    """The dataset file is complete: renamed from .partial, intact, holding every row."""
    assert dest.exists()
    assert not partial_of(dest).exists()
    con = sqlite3.connect(f"file:{dest}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("SELECT count(*) FROM rows").fetchone()[0] == rows
    finally:
        con.close()


def as_text(value: object) -> str:
    """A stored value as the text a person would see in the file."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def same(actual: object, expected: object) -> bool:
    """Equal and of the same type (1, 1.0, True and "1" are four different stored values)."""
    return type(actual) is type(expected) and actual == expected


def run_within(seconds: float, work: Callable[[], object]) -> object:
    """``work()`` in a daemon thread: a hang fails the test instead of blocking the run (and a
    daemon thread, unlike a ThreadPoolExecutor's, cannot keep the interpreter from exiting)."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still importing after {seconds} s"
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")


def case(path: Path):
    expect = EXPECTED.get(path.name)
    marks = [pytest.mark.xfail(strict=True, reason=expect.bug)] if expect and expect.bug else []
    return pytest.param(path, id=path.name, marks=marks)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder / "d1.sqlite"


# --- Every file --------------------------------------------------------------------------------


def test_every_corpus_file_has_a_decided_outcome() -> None:
    names = {path.name for path in corpus_files()}
    assert sorted(names - EXPECTED.keys()) == [], "add these corpus files to EXPECTED"
    assert sorted(EXPECTED.keys() - names) == [], "these EXPECTED entries have no file"


@pytest.mark.parametrize("path", [case(path) for path in corpus_files()])
def test_corpus_file_is_imported_as_expected_or_refused_cleanly(path: Path, dest: Path) -> None:
    expect = EXPECTED.get(path.name)
    assert expect is not None, f"{path.name} has no expected outcome in EXPECTED"

    if expect.refused is not None:
        with pytest.raises(UnreadableFile) as refusal:
            import_file(path, dest, expect.read)
        assert expect.refused in str(refusal.value)
        assert_nothing_left(dest)
        return

    imported = import_file(path, dest, expect.read)
    sample, outcome, table = imported.sample, imported.outcome, imported.table
    assert_sound_dataset(dest, outcome.result.rows)
    for option, value in expect.detected.items():
        assert getattr(sample.options, option) == value, option
    if expect.sheets is not None:
        assert sample.sheets == expect.sheets
    if expect.labels is not None:
        assert sample.labels == expect.labels
        assert [column.label for column in outcome.columns] == expect.labels
    if expect.rows is not None:
        assert outcome.result.rows == len(table) == expect.rows
    for (row, label), value in expect.cells.items():
        actual = table[row - 1][label]
        assert same(actual, value), f"row {row}, {label}: {actual!r} is not {value!r}"
    if expect.warning is not None:
        assert any(expect.warning in warning for warning in imported.warnings), imported.warnings
    if expect.problems is not None:
        assert outcome.problem_count == expect.problems, outcome.problems


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in corpus_files()])
def test_corpus_file_import_finishes_in_bounded_time(path: Path, dest: Path) -> None:
    read = EXPECTED[path.name].read if path.name in EXPECTED else {}

    def work() -> None:
        try:
            import_file(path, dest, read)
        except UnreadableFile:
            assert_nothing_left(dest)

    run_within(TIMEOUT_SECONDS, work)


# --- Files that ship their expected output -----------------------------------------------------

SPECTRUM = sorted((CORPUS / "csv").glob("csv-spectrum__*.csv"))
CSVW = [CORPUS / "csv" / "csvw__test001.csv", CORPUS / "csv" / "csvw__test008.csv"]
_INTEGER = re.compile(r"^-?(0|[1-9][0-9]*)$")


def expected_json(path: Path) -> object:
    return json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))


def csvw_rows(path: Path) -> list[dict[str, str]]:
    return [row["describes"][0] for row in expected_json(path)["tables"][0]["row"]]


def spectrum_rows(path: Path) -> list[dict[str, str]]:
    return expected_json(path)


EXPECTED_ROWS = {
    **{path.name: spectrum_rows for path in SPECTRUM},
    **{path.name: csvw_rows for path in CSVW},
}
PAIRED = [pytest.param(path, id=path.name) for path in [*SPECTRUM, *CSVW]]


def test_every_expected_json_has_its_csv() -> None:
    paired = {path.with_suffix(".expected.json") for path in [*SPECTRUM, *CSVW]}
    assert set((CORPUS / "csv").glob("*.expected.json")) == paired


@pytest.mark.parametrize("path", PAIRED)
def test_text_import_matches_the_expected_json_exactly(path: Path, dest: Path) -> None:
    expected = EXPECTED_ROWS[path.name](path)
    imported = import_file(path, dest, text_only=True)
    assert imported.sample.labels == list(expected[0])
    assert [{k: as_text(v) for k, v in row.items()} for row in imported.table] == expected
    assert_sound_dataset(dest, len(expected))


@pytest.mark.parametrize("path", PAIRED)
def test_typed_import_reads_back_as_the_expected_json(path: Path, dest: Path) -> None:
    """The default (typed) import stores whole numbers as int, empty cells as NULL, and
    every value reads back as the text in the expected JSON."""
    expected = EXPECTED_ROWS[path.name](path)
    table = import_file(path, dest).table
    assert [{k: as_text(v) for k, v in row.items()} for row in table] == expected
    for label in expected[0]:
        texts = [row[label] for row in expected if row[label] != ""]
        if texts and all(_INTEGER.match(text) for text in texts):
            assert all(isinstance(row[label], int) for row in table if row[label] is not None)


# --- Choices a person makes in the preview -----------------------------------------------------


@pytest.mark.parametrize(
    ("sheet", "row"), [("Sheet1", (1, "london")), ("Sheet2", (2, "paris")), ("Sheet3", (3, "rome"))]
)
def test_the_chosen_sheet_is_the_one_imported(sheet: str, row: tuple, dest: Path) -> None:
    imported = import_file(corpus_file("frictionless__sheets.xlsx"), dest, {"sheet": sheet})
    assert imported.sample.options.sheet == sheet
    assert imported.sample.labels == ["id", "name"]  # Sheet3's "id " is trimmed
    assert [tuple(r.values()) for r in imported.table] == [row]


def test_an_unknown_sheet_is_refused(dest: Path) -> None:
    with pytest.raises(UnreadableFile, match="This workbook has no sheet named 'Nope'"):
        import_file(corpus_file("frictionless__sheets.xlsx"), dest, {"sheet": "Nope"})
    assert_nothing_left(dest)


def test_chartsheets_are_skipped_and_the_worksheets_after_them_import(dest: Path) -> None:
    path = corpus_file("openpyxl__contains_chartsheets.xlsx")
    with pytest.raises(UnreadableFile, match="no sheet named 'chart'"):
        import_file(path, dest, {"sheet": "chart"})
    assert_nothing_left(dest)
    imported = import_file(path, dest, {"sheet": "moredata"})
    assert imported.sample.labels == ["month", "count"]
    assert len(imported.table) == 9
    assert imported.table[0] == {"month": "january", "count": 18}
    assert imported.table[-1] == {"month": "september", "count": 14}


def test_formula_cells_import_their_cached_values(dest: Path) -> None:
    """calamine's formula.issue expectations, at its 0-based (row, column) positions."""
    imported = import_file(corpus_file("calamine__formula.issue.xlsx"), dest, {"header_row": 0})
    grid = [list(row.values()) for row in imported.table]
    assert len(grid) == 3  # calamine's rows 0, 12 and 13: the empty rows between are skipped
    assert (grid[0][0], grid[0][2], grid[1][6], grid[2][9]) == (23, 23, 2, "US")
    assert sum(value is not None for row in grid for value in row) == 4


def test_the_apostrophe_in_a_comment_line_does_not_start_a_quoted_field(dest: Path) -> None:
    path = corpus_file("frictionless__skip-rows-before-headers.csv")
    imported = import_file(path, dest, {"header_row": 1})
    # Forced to take the comment line as the header, the table is one column wide; the second
    # cell of each row is dropped and reported, never silently lost.
    assert imported.sample.labels == ["# it's a comment!"]
    assert [list(row.values()) for row in imported.table] == [["id"], ["1"], ["2"]]
    assert [problem.row for problem in imported.outcome.problems] == [1, 2, 3]


def test_a_short_row_is_reported_with_its_row_number(dest: Path) -> None:
    problems = import_file(corpus_file("csvkit__bad.csv"), dest).outcome.problems
    short = [problem for problem in problems if problem.row == 2]
    assert len(short) == 1
    assert "has 2 cells" in short[0].message
    assert "the missing ones are empty" in short[0].message


def test_refusing_bad_values_leaves_no_dataset_behind(dest: Path) -> None:
    """'****' (no data) in a column the person declared whole numbers: all or nothing."""
    path = corpus_file("messytables__mixedGLB.csv")
    sample = inspect_file(path)
    with pytest.raises(BadValues) as refusal:
        load_file(path, dest, sample, ["integer"] * len(sample.labels), bad_values="refuse")
    assert refusal.value.result.problem_count > 0
    assert_nothing_left(dest)


# --- Cases that were importer bugs when this module was written --------------------------------


def test_cp1252_spanish_text_keeps_its_enye(dest: Path) -> None:
    imported = import_file(corpus_file("messytables__spanish_chars.csv"), dest)
    assert "diseño" in imported.table[7]["Descripción"]
    assert not any("ń" in str(value) for row in imported.table for value in row.values())


@pytest.mark.parametrize(
    ("name", "ragged", "regular"),
    [
        ("csvkit__bad.csv", {1, 2}, {3}),
        ("frictionless__structure-errors.csv", {4}, {1, 2}),
    ],
)
def test_ragged_rows_are_reported_by_their_own_row_number(
    name: str, ragged: set[int], regular: set[int], dest: Path
) -> None:
    reported = {problem.row for problem in import_file(corpus_file(name), dest).outcome.problems}
    assert ragged <= reported
    assert not regular & reported


def test_a_backslash_escaped_row_does_not_shift_columns(dest: Path) -> None:
    header = (CORPUS / "csv" / "clevercsv__imdb.csv").read_text(encoding="utf-8").split("\n")[0]
    imported = import_file(corpus_file("clevercsv__imdb.csv"), dest)
    assert imported.sample.labels == header.split(",")
    assert same(imported.table[0]["imdbRating"], 8.4)
    assert {problem.row for problem in imported.outcome.problems} <= {65}


def test_a_duplicated_json_key_is_not_silently_dropped(dest: Path) -> None:
    path = corpus_file("jsontestsuite__y_object_duplicated_key.json")
    try:
        warnings = import_file(path, dest).warnings
    except UnreadableFile as refusal:
        warnings = [str(refusal)]
    assert any(re.search(r"duplicate|repeated|twice|more than once", w, re.I) for w in warnings)


def test_an_explicit_header_row_below_leading_blank_rows_does_not_crash(dest: Path) -> None:
    imported = import_file(corpus_file("calamine__header-row.xlsx"), dest, {"header_row": 9})
    assert imported.sample.labels == ["Columns", "Column A", "Column B", "Column C"]
    assert imported.table == [
        {"Columns": "put data here", "Column A": 1, "Column B": 2, "Column C": 3}
    ]
