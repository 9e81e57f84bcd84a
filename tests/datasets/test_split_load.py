"""A large delimited file loads in two halves at once; whatever the file, the dataset is the
one a load in one piece makes (the split can only ever cost time)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from server.datasets.loading import helper_process, split_load
from server.datasets.loading.bulk_load import BadValues, Stopped
from server.datasets.loading.pipeline import load_file
from server.importers import Limits, inspect_file
from server.importers.delimited import split_point


@pytest.fixture
def split_small_files(monkeypatch):
    """Split every file, however small, so that the tests stay fast."""
    monkeypatch.setattr(split_load, "MIN_BYTES", 0)
    started = []
    real_start = split_load.HelperHalf.start

    def start(self, *args, **kwargs):
        started.append(self.start_byte)
        return real_start(self, *args, **kwargs)

    monkeypatch.setattr(split_load.HelperHalf, "start", start)
    return started


def stored(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT rowid, * FROM rows ORDER BY rowid").fetchall()
    finally:
        con.close()


def load_in_one_piece(source: Path, dest: Path, monkeypatch, **kwargs):
    with monkeypatch.context() as patch:
        patch.setattr(split_load, "MIN_BYTES", 10**15)
        return load_file(source, dest, inspect_file(source), **kwargs)


def people_csv(rows: int, note=lambda n: f"note {n}") -> str:
    lines = ["id,name,score,note"]
    for n in range(1, rows + 1):
        lines.append(f'{n},"Person {n}",{n % 97}.5,"{note(n)}"')
    return "\n".join(lines) + "\n"


def test_both_halves_make_the_same_dataset_as_one_piece(tmp_path, monkeypatch, split_small_files):
    # Quoted newlines, commas and quotes all around the middle of the file.
    text = people_csv(3000, note=lambda n: f'line one\nline ""two"", {n}' if n % 3 else "")
    source = tmp_path / "people.csv"
    source.write_text(text, encoding="utf-8")
    split = load_file(source, tmp_path / "split.sqlite", inspect_file(source))
    assert split_small_files, "the file was not split"
    whole = load_in_one_piece(source, tmp_path / "whole.sqlite", monkeypatch)
    assert split.result.rows == whole.result.rows == 3000
    assert stored(tmp_path / "split.sqlite") == stored(tmp_path / "whole.sqlite")
    assert [c.type for c in split.columns] == ["integer", "text", "real", "text"]
    assert not list(tmp_path.glob("*.partial*")), "a partial or half file was left behind"


def test_split_points_fall_between_records_only(tmp_path):
    source = tmp_path / "quoted.csv"
    source.write_text('a,b\n1,"x\n' + "y\n" * 5000 + '"\n2,z\n', encoding="utf-8")
    options = inspect_file(source).options
    # The only record boundaries are after the header, after the long quoted record and at
    # the end: the middle of the file is inside quotes, so the split is the later boundary.
    assert split_point(source, options) == len('a,b\n1,"x\n' + "y\n" * 5000 + '"\n')


def test_a_file_that_fools_the_split_still_loads_exactly(tmp_path, monkeypatch, split_small_files):
    # A stray quote inside an unquoted field makes the quote count odd before the middle:
    # the split lands inside a quoted field, the sentinel row shows it, the load starts over.
    rows = ["id,text"] + [f"{n},plain {n}" for n in range(1, 1001)]
    rows[10] = '10,a 5" screen'
    rows[700] = '700,"quoted\nacross lines"'
    source = tmp_path / "stray.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    outcome = load_file(source, tmp_path / "split.sqlite", inspect_file(source))
    load_in_one_piece(source, tmp_path / "whole.sqlite", monkeypatch)
    assert outcome.result.rows == 1000
    assert stored(tmp_path / "split.sqlite") == stored(tmp_path / "whole.sqlite")


def test_bad_values_in_both_halves_keep_their_row_numbers(tmp_path, split_small_files):
    rows = ["id,score"] + [f"{n},{n}" for n in range(1, 2001)]
    rows[5] = "5,five"  # row 5
    rows[1900] = "1900,nineteen hundred"  # row 1900, in the second half
    source = tmp_path / "scores.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    sample = inspect_file(source)
    outcome = load_file(source, tmp_path / "s.sqlite", sample, ["integer", "integer"])
    assert split_small_files
    assert [(p.row, p.value) for p in outcome.problems] == [
        (5, "five"),
        (1900, "nineteen hundred"),
    ]
    assert stored(tmp_path / "s.sqlite")[1899] == (1900, 1900, "nineteen hundred")  # kept

    with pytest.raises(BadValues) as refused:
        load_file(
            source, tmp_path / "r.sqlite", sample, ["integer", "integer"], bad_values="refuse"
        )
    assert refused.value.result.problem_count == 2
    assert not (tmp_path / "r.sqlite").exists()


def test_a_ragged_row_in_the_second_half_is_reported_by_its_number(tmp_path, split_small_files):
    rows = ["id,name"] + [f"{n},n{n}" for n in range(1, 2001)]
    rows[1500] = "1500,n1500,surplus"
    source = tmp_path / "ragged.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    outcome = load_file(source, tmp_path / "d.sqlite", inspect_file(source))
    assert outcome.result.rows == 2000
    assert [(p.row, "surplus" in p.message) for p in outcome.problems] == [(1500, True)]


def test_a_helper_that_cannot_start_costs_time_not_data(tmp_path, monkeypatch):
    monkeypatch.setattr(split_load, "MIN_BYTES", 0)

    def no_processes(*args, **kwargs):
        raise OSError("no processes here")

    monkeypatch.setattr(helper_process.multiprocessing, "get_context", no_processes)
    source = tmp_path / "people.csv"
    source.write_text(people_csv(2000), encoding="utf-8")
    outcome = load_file(source, tmp_path / "d.sqlite", inspect_file(source))
    assert outcome.result.rows == 2000
    assert stored(tmp_path / "d.sqlite")[-1][:2] == (2000, 2000)


def test_a_cancel_while_the_helper_works_leaves_nothing(tmp_path, split_small_files):
    source = tmp_path / "people.csv"
    source.write_text(people_csv(5000), encoding="utf-8")
    dest = tmp_path / "d.sqlite"

    def should_stop() -> bool:  # a cancel as soon as the helper is at work
        return any(p.name == "sheaf-import-half" for p in multiprocessing.active_children())

    with pytest.raises(Stopped):
        load_file(source, dest, inspect_file(source), should_stop=should_stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["people.csv"]


def test_files_in_two_byte_encodings_are_not_split(tmp_path):
    source = tmp_path / "wide.csv"
    source.write_text(people_csv(200), encoding="utf-16")
    assert split_point(source, inspect_file(source).options) is None


def helpers_alive() -> list[str]:
    return [p.name for p in multiprocessing.active_children() if p.name == "sheaf-import-half"]


def test_the_helper_starts_with_the_plan_and_an_unused_one_ends(tmp_path, monkeypatch):
    """The helper's process starts when the split is planned (it gets ready while the types
    are guessed) and waits for its job; one never given a job ends when it is let go."""
    monkeypatch.setattr(split_load, "MIN_BYTES", 0)
    source = tmp_path / "people.csv"
    source.write_text(people_csv(2000), encoding="utf-8")
    half = split_load.plan(source, inspect_file(source).options, Limits())
    assert half is not None and half.start_byte == split_point(source, half.options)
    assert helpers_alive() == ["sheaf-import-half"]
    half.discard()
    half.discard()  # idempotent
    assert helpers_alive() == []


def test_a_file_without_a_split_point_leaves_no_helper_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(split_load, "MIN_BYTES", 0)
    monkeypatch.setattr(split_load, "split_point", lambda path, options: None)
    source = tmp_path / "people.csv"
    source.write_text(people_csv(2000), encoding="utf-8")
    assert split_load.plan(source, inspect_file(source).options, Limits()) is None
    assert helpers_alive() == []
    outcome = load_file(source, tmp_path / "d.sqlite", inspect_file(source))
    assert outcome.result.split_at is None and outcome.result.rows == 2000
    assert stored(tmp_path / "d.sqlite")[-1][:2] == (2000, 2000)


def test_after_a_split_load_the_helper_is_gone_and_the_count_is_the_tables(
    tmp_path, split_small_files
):
    source = tmp_path / "people.csv"
    source.write_text(people_csv(3001), encoding="utf-8")
    outcome = load_file(source, tmp_path / "d.sqlite", inspect_file(source))
    assert split_small_files and outcome.result.split_at == split_small_files[0]
    assert helpers_alive() == []
    rows = stored(tmp_path / "d.sqlite")
    assert outcome.result.rows == len(rows) == 3001
    assert [r[0] for r in rows] == list(range(1, 3002))
    assert [r[1] for r in rows] == list(range(1, 3002))
