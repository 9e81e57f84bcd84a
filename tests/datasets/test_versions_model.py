"""Every change is a version: what a model-based test of the versions found, each on its own,
through the pages where it can be."""

from __future__ import annotations

from pathlib import Path

from server.datasets.cleaning import steps
from server.datasets.loading import jobs
from server.importers import Limits, Meter, ReadOptions
from server.models import Dataset
from tests.datasets.helpers import run_import, stored
from tests.helpers import make_dataset, signed_in

CSV_OPTIONS = ReadOptions(format="delimited", encoding="utf-8", delimiter=",", header_row=1)


def _post(client, dataset, path, **fields):
    data = {"version": Dataset.get_by_id(dataset.id).version, **fields}
    return client.post_form(f"/datasets/{dataset.id}{path}", data)


def test_a_cell_of_a_row_deleted_meanwhile_is_refused_not_made_again(app, editor_client, people):
    """The model found it: editing a cell of a row id the dataset does not have inserted a new
    row with that id, its other cells empty. The table page gets there: it takes the version
    each cell edit answers as its own, so a row another person deleted meanwhile passes the
    check that the row did not change since."""
    dataset = make_dataset(app, people["editor"], "name,city\nAda,Oslo\nGrace,Lima\n")
    opened = Dataset.get_by_id(dataset.id).version
    admin = signed_in(app, "ada")
    assert _post(admin, dataset, "/rows/delete", row="1").status_code == 302
    cell = f"/datasets/{dataset.id}/rows/{{}}/cell"
    other = editor_client.post_form(
        cell.format(2), {"column": "c2", "value": "Cusco", "version": opened}
    )
    assert other.status_code == 200  # another row: it goes through, and answers its version
    response = editor_client.post_form(
        cell.format(1), {"column": "c2", "value": "Bergen", "version": other.json["version"]}
    )
    assert response.status_code == 400 and "does not exist" in response.json["error"]
    assert stored(app, Dataset.get_by_id(dataset.id)) == [("Grace", "Cusco")]


def test_rows_appended_after_a_column_was_dropped_land_in_their_columns(app, editor_client, people):
    """The model found it: an append after a column other than the last was dropped failed
    ("no such column"), since the rows were loaded under the names c1…cN, not the dataset's."""
    dataset = make_dataset(app, people["editor"], "id,note,name\n1,x,Ada\n", name="Staff")
    _post(editor_client, dataset, "/clean", kind="drop", column="c2")
    job = run_import(
        app, editor_client, b"id,name\n2,Grace\n", "more.csv", mode="append", target=str(dataset.id)
    )
    assert job.status == "done", job.message
    assert stored(app, Dataset.get_by_id(dataset.id)) == [(1, "Ada"), (2, "Grace")]


def test_rows_appended_after_a_type_change_land_in_their_columns(app, editor_client, people):
    """Found with the one above: changing a column's type moves it to the end of the file's
    table, and an append bound the values by position, so they landed in each other's columns
    without a word."""
    dataset = make_dataset(app, people["editor"], "id,name\n1,Ada\n", name="Staff")
    _post(editor_client, dataset, "/clean", kind="cast", column="c1", type="text")
    job = run_import(
        app, editor_client, b"id,name\n2,Grace\n", "more.csv", mode="append", target=str(dataset.id)
    )
    assert job.status == "done", job.message
    assert stored(app, Dataset.get_by_id(dataset.id)) == [("1", "Ada"), ("2", "Grace")]


def test_an_import_planned_before_a_column_was_dropped_says_it_is_out_of_date(app, people):
    """The model found it: such an append failed as "an unexpected problem" (its rows no longer
    fit the file), where any other change since the plan says who changed what."""
    data_dir = app.config["DATA_DIR"]
    eddie = people["editor"]
    dataset = make_dataset(app, eddie, "id,note,name\n1,x,Ada\n", name="Staff")
    source = Path(data_dir) / "more.csv"
    source.write_text("id,note,name\n2,y,Grace\n", encoding="utf-8")
    job = jobs.receive_path(source, data_dir, eddie)
    sample = jobs.preview(job, data_dir, CSV_OPTIONS, Limits())
    plan = jobs.Plan(
        options={"format": "delimited", "encoding": "utf-8", "delimiter": ",", "header_row": 1},
        labels=sample.labels,
        types=["integer", "text", "text"],
        name="Staff",
        mode="append",
        target_id=dataset.id,
    )
    jobs.check_plan(plan, eddie, [dataset])
    jobs.queue(job, plan)
    steps.apply_step(dataset, "drop", {"column": "c2"}, eddie, data_dir, 1)
    job = jobs.run(job.id, data_dir, Limits(), Meter(), lambda: False)
    assert job.status == "failed"
    assert "Eddie Editor changed this dataset after you opened it" in job.message
    assert stored(app, Dataset.get_by_id(dataset.id)) == [(1, "Ada")]
