"""An import's rows are read in a helper process: the web server's threads keep Python to
themselves. Same result, same errors, same cancel as in-process."""

from __future__ import annotations

import multiprocessing

import pytest

from server.datasets.loading import helper_load
from server.datasets.loading.bulk_load import BadValues, Stopped
from server.importers import UnreadableFile, inspect_file
from tests.datasets.helpers import big_csv
from tests.importers.helpers import ROWS, typical, workbook


def _load_watching_processes(source, dest):
    """Import ``source``; also the names of the child processes alive meanwhile."""
    seen = []

    def should_stop() -> bool:
        seen.extend(p.name for p in multiprocessing.active_children())
        return False

    outcome = helper_load.load_file(source, dest, inspect_file(source), should_stop=should_stop)
    return outcome, seen


def test_the_rows_are_read_in_a_helper_process(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_bytes(big_csv(50_000))
    outcome, seen = _load_watching_processes(source, tmp_path / "d.sqlite")
    assert outcome.result.rows == 50_000
    assert "sheaf-import" in seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.sqlite", "orders.csv"]


def test_an_xlsx_workbook_is_read_in_a_helper_process_too(tmp_path):
    source = workbook(tmp_path / "book.xlsx", [typical(i) for i in range(ROWS)])
    outcome, seen = _load_watching_processes(source, tmp_path / "d.sqlite")
    assert outcome.result.rows == ROWS and not outcome.problems
    assert "sheaf-import" in seen


def test_its_errors_come_back_as_they_are(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,amount\n" + b"1,2\n" * 70_000)
    sample = inspect_file(bad)  # UTF-8, as far as the preview could tell…
    with open(bad, "ab") as more:
        more.write(b"3,\xff\xfe\n")  # …but the file changed before the import
    with pytest.raises(UnreadableFile, match="not valid utf-8"):
        helper_load.load_file(bad, tmp_path / "d.sqlite", sample)
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("id\n1\ntwo\n3\n")
    with pytest.raises(BadValues) as refused:
        helper_load.load_file(
            numbers, tmp_path / "n.sqlite", inspect_file(numbers), ["integer"],
            bad_values="refuse",
        )  # fmt: skip
    assert [(p.row, p.value) for p in refused.value.result.problems] == [(2, "two")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "numbers.csv"]


def test_a_cancel_stops_the_helper_and_leaves_nothing(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_bytes(big_csv(300_000))
    with pytest.raises(Stopped):
        helper_load.load_file(
            source, tmp_path / "d.sqlite", inspect_file(source), should_stop=lambda: True
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]
    assert not [p for p in multiprocessing.active_children() if p.name == "sheaf-import"]


def test_a_large_file_is_still_read_in_two_halves_there(tmp_path):
    from server.datasets.loading.split_load import MIN_BYTES

    source = tmp_path / "large.csv"
    source.write_bytes(big_csv(450_000))
    assert source.stat().st_size > MIN_BYTES
    outcome = helper_load.load_file(source, tmp_path / "d.sqlite", inspect_file(source))
    assert outcome.result.rows == 450_000
    assert outcome.result.split_at, "the helper process could not start its own helper"


def test_the_helper_writes_to_the_same_log(tmp_path):
    import logging
    from logging.handlers import RotatingFileHandler

    log_file = tmp_path / "sheaf.log"
    handler = RotatingFileHandler(log_file, encoding="utf-8")  # as server.logs sets it up
    logging.getLogger().addHandler(handler)
    try:
        source = tmp_path / "small.csv"
        source.write_text("id,name\n1,Ada\n2,Grace\n")
        helper_load.load_file(source, tmp_path / "d.sqlite", inspect_file(source))
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert "read 2 rows of small.csv" in log_file.read_text()
