"""The search index built after a large import, in steps, in the background: resumable, kept
right through edits, undo and whole-file changes, and equal to a full build in the end."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from server.datasets import indexing, storage, versions
from server.datasets.catalog import columns_of, dataset_file
from server.datasets.cleaning import rows as row_edits
from server.datasets.cleaning.steps import apply_step
from server.datasets.reading import browse
from server.models import Dataset
from server.sqlite_files import connect
from tests.helpers import make_dataset

ROWS = 300
BATCH = 40


def _csv(rows: int = ROWS) -> str:
    lines = ["n,word,note"]
    for i in range(1, rows + 1):
        lines.append(f"{i},w{i % 7},row{i} Ådne café {'spät' if i % 5 else 'früh'}")
    return "\n".join(lines) + "\n"


def _path(app, dataset: Dataset) -> Path:
    return dataset_file(app.config["DATA_DIR"], Dataset.get_by_id(dataset.id).storage_key)


def _restart_build(app, dataset: Dataset) -> None:
    """The dataset as a large import leaves it: rows stored, the index empty, progress 0."""
    con = connect(_path(app, dataset))
    try:
        storage.build_search_index(con, columns_of(dataset), at_once=0)
    finally:
        con.close()


def _base(dataset: Dataset) -> int:
    return Dataset.get_by_id(dataset.id).version


def _built_to(app, dataset: Dataset) -> int | None:
    con = connect(_path(app, dataset))
    try:
        return storage.index_built_to(con)
    finally:
        con.close()


def _tokens(con) -> list[str]:
    words = set()
    for texts in con.execute("SELECT c2, c3 FROM rows"):
        for text in texts:
            words.update(re.findall(r"\w+", text or ""))
    return [*sorted(words), "row", "w", "cafe", "spat", "nothing"]


def _answers(con) -> dict[str, list[int]]:
    """Every word's matches (as prefix terms too): what search answers, value by value."""
    return {
        word: [
            r[0]
            for r in con.execute(
                "SELECT rowid FROM rows_fts WHERE rows_fts MATCH ? ORDER BY rowid",
                (browse.fts_query(word),),
            )
        ]
        for word in _tokens(con)
    }


def _assert_equals_full_build(app, dataset: Dataset, tmp_path: Path) -> None:
    path = _path(app, dataset)
    fresh = tmp_path / "rebuilt.sqlite"
    shutil.copyfile(path, fresh)
    con, full = connect(path), connect(fresh)
    try:
        assert storage.index_built_to(con) is None, "the build is complete"
        con.execute("INSERT INTO rows_fts (rows_fts) VALUES ('integrity-check')")
        storage.build_search_index(full, columns_of(dataset), at_once=10**9)
        assert storage.index_built_to(full) is None
        assert _answers(con) == _answers(full)
    finally:
        con.close()
        full.close()


@pytest.fixture
def building(app, people):
    dataset = make_dataset(app, people["editor"], _csv(), name="Big")
    _restart_build(app, dataset)
    return dataset


def test_small_files_are_indexed_at_once_large_ones_in_steps(app, people, tmp_path):
    dataset = make_dataset(app, people["editor"], _csv(), name="Small")
    assert _built_to(app, dataset) is None
    con = connect(_path(app, dataset))
    try:
        assert browse.has_search_index(con)
        storage.build_search_index(con, columns_of(dataset), at_once=ROWS - 1)
        assert storage.index_built_to(con) == 0 and storage.index_progress(con) == 0
        assert not browse.has_search_index(con)
        steps = 0
        while not storage.build_search_index_step(con, BATCH):
            steps += 1
            assert storage.index_progress(con) == min(99, steps * BATCH * 100 // ROWS)
        assert steps == ROWS // BATCH and browse.has_search_index(con)
    finally:
        con.close()
    _assert_equals_full_build(app, dataset, tmp_path)


def test_a_restart_goes_on_where_the_build_stopped(app, building, tmp_path):
    first = indexing.IndexBuilder(app, batch=BATCH)
    assert first.step(building.id) is False and first.step(building.id) is False
    assert _built_to(app, building) == 2 * BATCH
    # Sheaf stops; at the next start a new builder looks at every dataset.
    second = indexing.IndexBuilder(app, batch=BATCH)
    second.want(building.id)
    second.run_until_idle()
    assert _built_to(app, building) is None
    _assert_equals_full_build(app, building, tmp_path)


def test_edits_during_the_build_end_up_searchable(app, people, building, tmp_path):
    builder = indexing.IndexBuilder(app, batch=BATCH)
    for _ in range(3):
        builder.step(building.id)
    data_dir, editor = app.config["DATA_DIR"], people["editor"]
    below, above = 10, 250
    assert below <= _built_to(app, building) < above
    row_edits.edit_row(building.id, _base(building), below, {"c3": "zebra below"}, editor, data_dir)
    row_edits.edit_row(building.id, _base(building), above, {"c3": "zebra above"}, editor, data_dir)
    row_edits.add_row(
        building.id, _base(building), {"c1": "999", "c3": "zebra added"}, editor, data_dir
    )
    row_edits.delete_rows(building.id, _base(building), [20, 260], editor, data_dir)
    builder.want(building.id)
    builder.run_until_idle()
    _assert_equals_full_build(app, building, tmp_path)
    con = connect(_path(app, building))
    try:
        found = con.execute(
            "SELECT c3 FROM rows WHERE rowid IN (SELECT rowid FROM rows_fts "
            "WHERE rows_fts MATCH 'zebra') ORDER BY c3"
        ).fetchall()
        assert found == [("zebra above",), ("zebra added",), ("zebra below",)]
        assert con.execute("SELECT count(*) FROM rows_fts WHERE rows_fts MATCH 'row20'").fetchone()
    finally:
        con.close()


def test_undo_and_whole_file_changes_during_the_build(app, people, building, tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "INDEX_AT_ONCE", 100)  # the step's copy counts as large
    builder = indexing.IndexBuilder(app, batch=BATCH)
    hooks = versions.new_file_hooks[:]
    versions.new_file_hooks[:] = [builder.want]
    try:
        data_dir, editor = app.config["DATA_DIR"], people["editor"]
        builder.step(building.id)
        row_edits.edit_row(
            building.id, _base(building), 5, {"c3": "edited early"}, editor, data_dir
        )
        versions.undo(building.id, _base(building), editor, data_dir)
        builder.step(building.id)
        # A cleaning step copies the file mid-build: the copy's index starts again.
        apply_step(
            building, "case", {"column": "c3", "mode": "upper"}, editor, data_dir, _base(building)
        )
        assert _built_to(app, building) == 0
        builder.step(building.id)
        # Undo switches back to the file before the step, its build where it was left.
        versions.undo(building.id, _base(building), editor, data_dir)
        assert _built_to(app, building) == 2 * BATCH
        builder.run_until_idle()
        _assert_equals_full_build(app, building, tmp_path)
        versions.redo(building.id, _base(building), editor, data_dir)
        builder.run_until_idle()
        _assert_equals_full_build(app, building, tmp_path)
    finally:
        versions.new_file_hooks[:] = hooks


def test_search_while_the_index_is_being_built(app, building, editor_client):
    url = f"/datasets/{building.id}"
    page = editor_client.get(f"{url}?q=row7").get_data(as_text=True)
    assert "The search index is being built (0%) — search will work in a moment." in page
    assert 'class="notice notice-info"' in page and "notice-error" not in page
    assert 'value="row7"' in page
    assert editor_client.get(f"{url}?c2.eq=w3&sort=c1&dir=desc").status_code == 200
    filtered = editor_client.get(f"/api/v1/datasets/{building.id}/rows?c2.eq=w3&limit=5")
    assert filtered.status_code == 200 and len(filtered.get_json()["rows"]) == 5
    searched = editor_client.get(f"/api/v1/datasets/{building.id}/rows?q=row7")
    assert searched.status_code == 503 and searched.headers["Retry-After"] == "5"
    assert "being built" in searched.get_json()["error"]
    export = editor_client.get(f"{url}/export?format=csv&q=row7")
    assert export.status_code == 503 and export.headers["Retry-After"] == "5"
    assert editor_client.get(f"{url}/export?format=csv&c2.eq=w3").status_code == 200

    builder = indexing.IndexBuilder(app, batch=BATCH)
    builder.want(building.id)
    builder.run_until_idle()
    page = editor_client.get(f"{url}?q=row77").get_data(as_text=True)
    assert "being built" not in page and "row77 " in page
    rows = editor_client.get(f"/api/v1/datasets/{building.id}/rows?q=row77").get_json()
    assert [r["c1"] for r in rows["rows"]] == [77]
    export = editor_client.get(f"{url}/export?format=csv&q=row77")
    assert export.status_code == 200 and export.get_data(as_text=True).count("\n") == 2


def test_the_progress_is_shown_in_per_cent(app, building, editor_client):
    builder = indexing.IndexBuilder(app, batch=BATCH)
    for _ in range(4):
        builder.step(building.id)
    page = editor_client.get(f"/datasets/{building.id}?q=x").get_data(as_text=True)
    assert f"being built ({4 * BATCH * 100 // ROWS}%)" in page
