"""Cleaning steps change exactly what they say, are listed, and undo restores the data exactly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from server.datasets import versions
from server.datasets.catalog import columns_of, dataset_file
from server.models import AuditEvent, Dataset, DatasetVersion
from tests.helpers import make_app, make_dataset, read_rows

BODY = (
    "id,name,city,amount,when\n"
    "1,  Ada ,oslo,10,2024-01-02\n"
    "2,Grace,LIMA,x,2024-02-03\n"
    "3,  Ada ,oslo,10,2024-01-02\n"
    "4,Zoë müller,,7.5,\n"
    "5,Alan,Oslo-Nord,,2024-03-04\n"
)


@pytest.fixture
def dataset(app, people):
    return make_dataset(app, people["editor"], BODY, name="Staff")


def table(app, dataset_id: int) -> list[tuple]:
    dataset = Dataset.get_by_id(dataset_id)
    path = dataset_file(app.config["DATA_DIR"], dataset.storage_key)
    return [r[1:] for r in read_rows(path, columns_of(dataset), 1000)]


def labels(dataset_id: int) -> list[str]:
    return [c.label for c in columns_of(Dataset.get_by_id(dataset_id))]


def digest(app, dataset_id: int) -> str:
    dataset = Dataset.get_by_id(dataset_id)
    rows = table(app, dataset_id)
    return hashlib.sha256(repr((dataset.columns, dataset.row_count, rows)).encode()).hexdigest()


def current(dataset) -> int:
    return Dataset.get_by_id(dataset.id).version


def step(client, dataset, kind, **fields):
    data = {"kind": kind, "version": current(dataset), **fields}
    return client.post_form(f"/datasets/{dataset.id}/clean", data)


def undo(client, dataset, **kwargs):
    return client.post_form(f"/datasets/{dataset.id}/undo", {"version": current(dataset)}, **kwargs)


def col(dataset, label):
    return next(c.name for c in columns_of(Dataset.get_by_id(dataset.id)) if c.label == label)


def test_each_step_does_what_it_says(app, editor_client, dataset):
    assert step(editor_client, dataset, "trim", column=col(dataset, "name")).status_code == 302
    assert [r[1] for r in table(app, dataset.id)] == ["Ada", "Grace", "Ada", "Zoë müller", "Alan"]
    step(editor_client, dataset, "case", column=col(dataset, "name"), mode="upper")
    assert table(app, dataset.id)[3][1] == "ZOË MÜLLER"  # not only ASCII
    step(
        editor_client,
        dataset,
        "replace",
        column=col(dataset, "city"),
        find="(?i)^oslo.*",
        replacement="Oslo",
        regex="1",
    )
    assert [r[2] for r in table(app, dataset.id)] == ["Oslo", "LIMA", "Oslo", None, "Oslo"]
    step(editor_client, dataset, "fill", column=col(dataset, "city"), value="Unknown")
    assert table(app, dataset.id)[3][2] == "Unknown"
    step(editor_client, dataset, "split", column=col(dataset, "name"), delimiter=" ")
    assert labels(dataset.id)[-2:] == ["name 1", "name 2"]
    assert table(app, dataset.id)[3][-2:] == ("ZOË", "MÜLLER")
    step(editor_client, dataset, "rename", column=col(dataset, "name 1"), label="first")
    step(editor_client, dataset, "drop", column=col(dataset, "name 2"))
    assert labels(dataset.id) == ["id", "name", "city", "amount", "when", "first"]
    step(editor_client, dataset, "dedupe")  # by all columns: the ids differ, nothing goes
    assert [r[0] for r in table(app, dataset.id)] == [1, 2, 3, 4, 5]


def test_remove_duplicates_by_chosen_columns(app, editor_client, dataset):
    response = editor_client.post_form(
        f"/datasets/{dataset.id}/clean",
        {
            "kind": "dedupe",
            "version": current(dataset),
            "columns": [col(dataset, "name"), col(dataset, "city")],
        },
    )
    assert response.status_code == 302
    assert [r[0] for r in table(app, dataset.id)] == [1, 2, 4, 5]
    assert Dataset.get_by_id(dataset.id).row_count == 4


def test_cast_reports_what_fails(app, editor_client, dataset):
    assert [c.type for c in columns_of(dataset)][3] == "text"  # "x" made it text at import
    step(editor_client, dataset, "cast", column=col(dataset, "amount"), type="real")
    assert [r[3] for r in table(app, dataset.id)] == [10.0, "x", 10.0, 7.5, None]  # kept
    last = DatasetVersion.select().order_by(DatasetVersion.id.desc()).get()
    assert "1 value does not fit the new type, kept as written" in last.summary
    assert "row 2: “x”" in last.summary
    post_undo = undo(editor_client, dataset)
    assert post_undo.status_code == 302
    step(editor_client, dataset, "cast", column=col(dataset, "amount"), type="real", on_bad="empty")
    assert [r[3] for r in table(app, dataset.id)] == [10.0, None, 10.0, 7.5, None]  # asked
    assert columns_of(Dataset.get_by_id(dataset.id))[3].type == "real"


def test_delete_rows_matching_the_filter(app, editor_client, dataset):
    city = col(dataset, "city")
    response = editor_client.post_form(
        f"/datasets/{dataset.id}/clean",
        {"kind": "delete_rows", "version": current(dataset), f"view:{city}.eq": "oslo"},
    )
    assert response.status_code == 302
    assert [r[0] for r in table(app, dataset.id)] == [2, 4, 5]
    response = step(editor_client, dataset, "delete_rows")
    assert response.status_code == 400 and "Filter or search first" in response.get_data(
        as_text=True
    )


def test_undo_restores_the_data_exactly_step_after_step(app, editor_client, dataset):
    states = [digest(app, dataset.id)]
    for kind, fields in [
        ("trim", {"column": "c2"}),
        ("drop", {"column": "c5"}),
        ("cast", {"column": "c4", "type": "real"}),
        ("dedupe", {"columns": ["c2"]}),
    ]:
        assert step(editor_client, dataset, kind, **fields).status_code == 302
        states.append(digest(app, dataset.id))
    assert len(set(states)) == len(states)
    for expected in reversed(states[:-1]):
        assert undo(editor_client, dataset).status_code == 302
        assert digest(app, dataset.id) == expected
    page = undo(editor_client, dataset, follow_redirects=True)
    assert "There is nothing to undo." in page.get_data(as_text=True)
    assert current(dataset) == 9  # the import, four steps, four undos: history only grows
    assert AuditEvent.select().where(AuditEvent.action == "dataset.undo").count() == 4


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("trim", {"column": "c1"}, "is not a text column"),
        ("replace", {"column": "c2", "find": "(", "regex": "1"}, "cannot be used"),
        ("replace", {"column": "c2", "find": ""}, "Enter the text to find."),
        ("fill", {"column": "c1", "value": "one"}, "is not a whole number"),
        ("rename", {"column": "c1", "label": "NAME"}, "already called"),
        ("cast", {"column": "c1", "type": "integer"}, "already integer"),
        ("split", {"column": "c2", "delimiter": ""}, "Enter the delimiter"),
        ("nonsense", {}, "Choose a step."),
        ("drop", {"column": "c99"}, "Choose a column."),
    ],
)
def test_a_failed_step_changes_nothing(app, editor_client, dataset, kind, fields, message):
    before = (
        digest(app, dataset.id),
        sorted(p.name for p in (Path(app.config["DATA_DIR"]) / "datasets").iterdir()),
    )
    response = step(editor_client, dataset, kind, **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    after = (
        digest(app, dataset.id),
        sorted(p.name for p in (Path(app.config["DATA_DIR"]) / "datasets").iterdir()),
    )
    assert after == before
    assert DatasetVersion.select().count() == 1  # the import's only


def test_the_history_lists_who_and_when(app, editor_client, dataset, people):
    step(editor_client, dataset, "trim", column="c2")
    page = editor_client.get(f"/datasets/{dataset.id}/clean").get_data(as_text=True)
    assert "Trim spaces" in page and "Eddie Editor" in page and "Undo the last change" in page


def test_a_reader_cannot_clean(app, dataset, viewer_client, people):
    from server.models import DatasetShare

    DatasetShare.create(dataset=dataset, user=people["viewer"])
    assert viewer_client.get(f"/datasets/{dataset.id}/clean").status_code == 403
    assert step(viewer_client, dataset, "trim", column="c2").status_code == 403
    assert undo(viewer_client, dataset).status_code == 403


def test_undo_files_survive_a_restart(app, editor_client, dataset):
    step(editor_client, dataset, "trim", column="c2")
    make_app(Path(app.config["DATA_DIR"]))  # start-up cleaning must keep the undo file
    assert undo(editor_client, dataset).status_code == 302
    assert table(app, dataset.id)[0][1] == "  Ada "
    assert versions.history(Dataset.get_by_id(dataset.id))[0].kind == "undo"


def test_a_step_never_answers_with_the_search_results_of_the_rows_before_it(
    app, editor_client, dataset
):
    name = col(dataset, "name")
    page = editor_client.get(f"/datasets/{dataset.id}?q=ada&sort=c1").get_data(as_text=True)
    assert "2 of 5 rows match" in page
    response = editor_client.post_form(
        f"/datasets/{dataset.id}/clean",
        {
            "kind": "replace",
            "version": current(dataset),
            "column": name,
            "find": "Ada",
            "replacement": "Ida",
        },
    )
    assert response.status_code == 302
    page = editor_client.get(f"/datasets/{dataset.id}?q=ada&sort=c1").get_data(as_text=True)
    assert "0 of 5 rows match" in page and "No rows match." in page


def test_a_regular_expression_cannot_freeze_the_server(app, editor_client, people):
    """Python's re takes 18 s on (a+)+$ over 27 characters, and hours on a few more, holding
    every other request; RE2 answers at once whatever the pattern."""
    import time

    body = "id,text\n" + "".join(f"{i},{'a' * 40}b\n" for i in range(1, 2001))
    dataset = make_dataset(app, people["editor"], body, name="Backtracking")
    started = time.monotonic()
    response = step(
        editor_client, dataset, "replace", column="c2", find="(a+)+$", replacement="x", regex="1"
    )
    assert response.status_code == 302
    assert time.monotonic() - started < 10  # bounded far below what backtracking would take
    assert table(app, dataset.id)[0][1] == "a" * 40 + "b"  # no match: the b ends each value
    response = step(
        editor_client, dataset, "replace", column="c2", find="(a+)b$", replacement=r"\1!", regex="1"
    )
    assert table(app, dataset.id)[0][1] == "a" * 40 + "!"


def test_a_pattern_re2_cannot_run_is_refused_with_why(app, editor_client, dataset):
    response = step(
        editor_client, dataset, "replace", column="c2", find=r"(A)\1", regex="1", replacement="x"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "That regular expression cannot be used: invalid escape sequence" in page


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("dmy", ["2024-04-03", "2024-06-05", "later"]),
        ("mdy", ["2024-03-04", "2024-05-06", "later"]),
    ],
)
def test_cast_reads_dates_either_way_round_as_asked(app, editor_client, people, order, expected):
    """Every date could be day or month first: the step's choice (the setting's by default)
    decides; a column whose data decide is read their way whatever the choice."""
    body = "id,seen,sure\n1,03/04/2024,25/12/2024\n2,05/06/2024,13/01/2024\n3,later,later\n"
    dataset = make_dataset(app, people["editor"], body, name="Visits")  # text: "later"
    page = editor_client.get(f"/datasets/{dataset.id}/clean").get_data(as_text=True)
    assert '<option value="dmy" selected>' in page  # the DAY_FIRST setting's default
    step(editor_client, dataset, "cast", column=col(dataset, "seen"), type="date", order=order)
    step(editor_client, dataset, "cast", column=col(dataset, "sure"), type="date", order=order)
    assert [r[1] for r in table(app, dataset.id)] == expected
    assert [r[2] for r in table(app, dataset.id)] == ["2024-12-25", "2024-01-13", "later"]
