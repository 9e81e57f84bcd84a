"""Every change is a version: undo, redo and go-back over every kind of change, stale changes
refused, row edits kept small, and the four ways round one lost data, through the web routes."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from server.datasets import versions
from server.datasets.catalog import columns_of, dataset_file
from server.models import AuditEvent, Dataset, DatasetVersion, RowChange
from tests.datasets.helpers import run_import, stored
from tests.helpers import make_dataset, signed_in

BODY = "id,name,city\n1,Ada,Oslo\n2,Grace,Lima\n3,Ada,Oslo\n"


def fresh(dataset) -> Dataset:
    return Dataset.get_by_id(dataset.id)


def post(client, dataset, path, **fields):
    data = {"version": fresh(dataset).version, **fields}
    return client.post_form(f"/datasets/{dataset.id}{path}", data)


def step(client, dataset, kind, **fields):
    return post(client, dataset, "/clean", kind=kind, **fields)


def flashed(client, response) -> str:
    return client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def dataset(app, people):
    return make_dataset(app, people["editor"], BODY, name="Staff")


def test_undo_after_an_append_removes_exactly_the_appended_rows(app, editor_client, people):
    """Round one: the append was not in the history and undo went back past it, losing it."""
    march = run_import(app, editor_client, b"id,name\n1,  Ada\n2,Grace\n3,Grace\n", "m.csv")
    dataset = march.dataset
    assert step(editor_client, dataset, "trim", column="c2").status_code == 302
    cleaned = stored(app, fresh(dataset))
    april = run_import(
        app,
        editor_client,
        b"id,name\n4,Hedy\n5,Alan\n",
        "april.csv",
        mode="append",
        target=str(dataset.id),
    )
    assert april.status == "done" and april.rows == 2  # rows *added*, not the new total
    assert stored(app, fresh(dataset)) == [*cleaned, (4, "Hedy"), (5, "Alan")]
    history = editor_client.get(f"/datasets/{dataset.id}/history").get_data(as_text=True)
    assert "Added 2 rows from april.csv" in history
    event = AuditEvent.select().where(AuditEvent.action == "dataset.import_append").get()
    assert event.details_dict["rows"] == 2 and event.details_dict["rows_after"] == 5
    assert post(editor_client, dataset, "/undo").status_code == 302
    assert stored(app, fresh(dataset)) == cleaned  # the cleaning step is still there
    undo = AuditEvent.select().where(AuditEvent.action == "dataset.undo").get()
    assert undo.details_dict["what"] == "Undid: Added 2 rows from april.csv"
    assert post(editor_client, dataset, "/redo").status_code == 302
    assert stored(app, fresh(dataset)) == [*cleaned, (4, "Hedy"), (5, "Alan")]


def test_two_bulk_changes_made_on_the_same_version_one_is_refused(app, dataset, people):
    """Round one: both said success, one was lost, and two undos deleted the live file."""
    eddie = signed_in(app, "eddie")
    base = fresh(dataset).version
    first = eddie.post_form(
        f"/datasets/{dataset.id}/clean",
        {"kind": "case", "column": "c2", "mode": "upper", "version": base},
    )
    second = eddie.post_form(
        f"/datasets/{dataset.id}/clean", {"kind": "trim", "column": "c3", "version": base}
    )
    assert first.status_code == 302
    page = second.get_data(as_text=True)
    assert second.status_code == 400
    assert "Eddie Editor changed this dataset after you opened it" in page
    assert "Change case" in page and "Nothing of yours was applied" in page
    assert [v.kind for v in versions.history(fresh(dataset))] == ["step", "import"]
    for _ in range(2):
        post(eddie, dataset, "/undo")
    assert eddie.get(f"/datasets/{dataset.id}").status_code == 200
    assert stored(app, fresh(dataset)) == [
        (1, "Ada", "Oslo"),
        (2, "Grace", "Lima"),
        (3, "Ada", "Oslo"),
    ]


def test_an_append_keeps_the_types_of_the_dataset(app, editor_client, people):
    """Round one: text landed in a whole-number column, unflagged."""
    first = run_import(app, editor_client, b"id,amount\n1,10\n2,20\n", "a.csv")
    dataset = first.dataset
    assert [c.type for c in columns_of(fresh(dataset))] == ["integer", "integer"]
    job = run_import(
        app,
        editor_client,
        b"id,amount\n3,=HYPERLINK(x)\n4,40\n",
        "b.csv",
        mode="append",
        target=str(dataset.id),
    )
    assert job.status == "done" and job.problem_count == 1  # flagged, never silently
    problem = job.problems.get()
    assert (problem.row, problem.column_label, problem.value) == (1, "amount", "=HYPERLINK(x)")
    assert stored(app, fresh(dataset))[2:] == [(3, "=HYPERLINK(x)"), (4, 40)]  # kept as sent
    path = dataset_file(app.config["DATA_DIR"], fresh(dataset).storage_key)
    con = sqlite3.connect(path)
    kinds = [row[0] for row in con.execute("SELECT typeof(c2) FROM rows ORDER BY rowid")]
    con.close()
    assert kinds == ["integer", "integer", "text", "integer"]
    table = editor_client.get(f"/datasets/{dataset.id}?c2.min=0").get_data(as_text=True)
    assert "3 of 4 rows match" in table  # a number filter never matches the text


def test_undo_redo_and_go_back_over_every_kind_of_change(app, editor_client, dataset):
    states = {1: stored(app, fresh(dataset))}
    step(editor_client, dataset, "case", column="c2", mode="upper")
    states[2] = stored(app, fresh(dataset))
    post(editor_client, dataset, "/rows/1/edit", c3="Bergen")
    states[3] = stored(app, fresh(dataset))
    post(editor_client, dataset, "/rows/new", c1="9", c2="Hedy", c3="Wien")
    states[4] = stored(app, fresh(dataset))
    post(editor_client, dataset, "/rows/delete", row=["2", "3"])
    states[5] = stored(app, fresh(dataset))
    assert len({repr(s) for s in states.values()}) == 5
    assert states[5] == [(1, "ADA", "Bergen"), (9, "Hedy", "Wien")]
    for number in (4, 3, 2, 1):  # undo, one change at a time, whatever its kind
        assert post(editor_client, dataset, "/undo").status_code == 302
        assert stored(app, fresh(dataset)) == states[number]
    for number in (2, 3):
        post(editor_client, dataset, "/redo")
        assert stored(app, fresh(dataset)) == states[number]
    step(editor_client, dataset, "trim", column="c3")  # a new change: nothing left to redo
    page = flashed(editor_client, post(editor_client, dataset, "/redo"))
    assert "There is nothing to redo." in page
    for number in (1, 2, 3):
        response = post(editor_client, dataset, f"/history/{number}/go-back")
        assert response.status_code == 302
        assert stored(app, fresh(dataset)) == states[number]
        assert fresh(dataset).columns == DatasetVersion.get(number=number).columns
    numbers = [v.number for v in versions.history(fresh(dataset))]
    assert numbers == list(range(len(numbers), 0, -1))  # one line, never rewritten


def test_go_back_asks_first_and_says_what_changes(app, editor_client, dataset):
    step(editor_client, dataset, "drop", column="c3")
    page = editor_client.get(f"/datasets/{dataset.id}/history/1/go-back").get_data(as_text=True)
    assert "Go back to version 1?" in page and "Columns that come back: city." in page
    assert fresh(dataset).version == 2  # asking changed nothing


def test_a_row_edit_is_refused_only_when_that_row_changed(app, dataset, people):
    vera, eddie = signed_in(app, "eddie"), signed_in(app, "eddie")
    base = fresh(dataset).version
    first = vera.post_form(f"/datasets/{dataset.id}/rows/1/edit", {"c2": "Ida", "version": base})
    assert first.status_code == 302
    other_row = eddie.post_form(
        f"/datasets/{dataset.id}/rows/2/edit", {"c2": "Grete", "version": base}
    )
    assert other_row.status_code == 302  # another row: it goes through
    same_row = eddie.post_form(
        f"/datasets/{dataset.id}/rows/1/edit", {"c2": "Adele", "version": base}
    )
    assert same_row.status_code == 400
    assert "changed this dataset after you opened it" in same_row.get_data(as_text=True)
    assert [r[1] for r in stored(app, fresh(dataset))] == ["Ida", "Grete", "Ada"]


def test_a_cell_edit_copies_nothing_and_its_history_says_who_changed_what(
    app, editor_client, dataset
):
    before = sorted((app.config["DATA_DIR"] / "datasets").iterdir())
    response = editor_client.post_form(
        f"/datasets/{dataset.id}/rows/2/cell",
        {"column": "c3", "value": "Cusco", "version": fresh(dataset).version},
    )
    assert response.status_code == 200 and response.json["value"] == "Cusco"
    assert sorted((app.config["DATA_DIR"] / "datasets").iterdir()) == before
    change = RowChange.get()
    assert (change.row_id, change.version.kind) == (2, "edit")
    page = editor_client.get(f"/datasets/{dataset.id}/rows/2/history").get_data(as_text=True)
    assert "Lima" in page and "Cusco" in page and "Eddie Editor" in page


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("c1", "one", "is not a whole number"),
        ("c1", "9" * 30, "too large"),
        ("c9", "x", "columns have changed"),
    ],
)
def test_a_bad_cell_says_why_and_changes_nothing(
    app, editor_client, dataset, column, value, message
):
    response = editor_client.post_form(
        f"/datasets/{dataset.id}/rows/1/cell",
        {"column": column, "value": value, "version": fresh(dataset).version},
    )
    assert response.status_code == 400 and message in response.json["error"]
    assert fresh(dataset).version == 1 and RowChange.select().count() == 0


def test_the_row_form_says_which_field_does_not_fit(app, editor_client, people):
    dataset = make_dataset(app, people["editor"], "n,amount,day\n1,2.5,2024-01-02\n", "Typed")
    page = editor_client.get(f"/datasets/{dataset.id}/rows/1/edit").get_data(as_text=True)
    assert 'type="number"' in page and 'type="date"' in page and 'value="2.5"' in page
    response = post(editor_client, dataset, "/rows/1/edit", c1="12", c2="lots", c3="2024-13-01")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and page.count('class="error"') == 2
    assert "Not a valid decimal value" in page and "Not a valid date value" in page
    assert fresh(dataset).version == 1


def test_a_viewer_can_read_the_history_but_change_nothing(app, dataset, viewer_client, people):
    from server.models import DatasetShare

    DatasetShare.create(dataset=dataset, user=people["viewer"])
    page = viewer_client.get(f"/datasets/{dataset.id}/history").get_data(as_text=True)
    assert "Imported" in page and "Undo" not in page and "Go back" not in page
    table = viewer_client.get(f"/datasets/{dataset.id}").get_data(as_text=True)
    assert "data-edit-cell" not in table and "Add a row" not in table
    for path, fields in [
        ("/undo", {}),
        ("/redo", {}),
        ("/history/1/go-back", {}),
        ("/rows/1/edit", {"c2": "x"}),
        ("/rows/new", {"c2": "x"}),
        ("/rows/delete", {"row": "1"}),
        ("/rows/1/cell", {"column": "c2", "value": "x"}),
    ]:
        assert post(viewer_client, dataset, path, **fields).status_code == 403, path
    assert fresh(dataset).version == 1


def test_many_people_editing_at_once_lose_nothing(app, dataset, people):
    """Threads editing cells of their own rows and racing on one row: every edit reported as
    applied is in the data, every refused one is not, and the history is one line."""
    for i in range(4, 24):
        post(signed_in(app, "eddie"), dataset, "/rows/new", c1=str(i), c2=f"P{i}", c3="-")
    results: list[tuple[int, str, int]] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        client = signed_in(app, "eddie")
        for n in range(5):
            row = 4 + (worker * 5 + n) % 20
            version = fresh(dataset).version
            value = f"w{worker}-{n}"
            response = client.post_form(
                f"/datasets/{dataset.id}/rows/{row}/cell",
                {"column": "c3", "value": value, "version": version},
            )
            with lock:
                results.append((row, value, response.status_code))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert {code for _row, _value, code in results} <= {200, 400}
    applied = [(row, value) for row, value, code in results if code == 200]
    assert applied
    last = {}
    for change in RowChange.select().join(DatasetVersion).order_by(DatasetVersion.number):
        if change.version.kind == "edit":
            last[change.row_id] = versions._load(change.after)["c3"]
    table = {row[0]: row[2] for row in stored(app, fresh(dataset))}
    by_id = {rid: table.get(rid) for rid in last}
    assert by_id == {rid: value for rid, value in last.items()}
    recorded = {
        (c.row_id, versions._load(c.after)["c3"])
        for c in RowChange.select().join(DatasetVersion).where(DatasetVersion.kind == "edit")
    }
    assert set(applied) <= recorded
    numbers = [v.number for v in DatasetVersion.select().order_by(DatasetVersion.number)]
    assert numbers == list(range(1, len(numbers) + 1))


def test_round_one_cleaning_steps_become_versions(tmp_path):
    """A data folder from round one: its steps in effect become versions that undo and go-back
    can use; an undone step (its file deleted then) is left out."""
    from server.db import open_database
    from server.migrations import migrate

    data = tmp_path / "old"
    (data / "datasets").mkdir(parents=True)
    db = open_database(data / "sheaf.db")
    migrate(db, target=6)
    role = db.execute_sql("SELECT id FROM role WHERE builtin = 'editor'").fetchone()[0]
    db.execute_sql(
        "INSERT INTO user (id, login, login_key, display_name, password_hash, role_id, "
        "session_version, created_at) VALUES (1, 'eddie', 'eddie', 'Eddie', 'x', ?, 'v', "
        "'2026-01-01T00:00:00+00:00')",
        (role,),
    )
    columns = '[{"name": "c1", "label": "name", "type": "text"}]'
    upper = '[{"name": "c1", "label": "NAME", "type": "text"}]'
    db.execute_sql(
        "INSERT INTO dataset (id, name, description, owner_id, storage_key, row_count, columns, "
        "created_at, updated_at) VALUES (1, 'Old', '', 1, 'c', 2, ?, "
        "'2026-01-01T00:00:00+00:00', '2026-01-03T00:00:00+00:00')",
        (upper,),
    )
    steps = [  # key before, columns before, rows before, undone
        ("trim", "a", columns, 2, 0),
        ("rename", "b", columns, 2, 0),
        ("case", "c", upper, 2, 1),
    ]
    for number, (kind, key, cols, count, undone) in enumerate(steps, start=1):
        db.execute_sql(
            "INSERT INTO dataset_step (dataset_id, user_id, kind, params, summary, rows_changed, "
            "previous_key, previous_columns, previous_row_count, undone, created_at) "
            "VALUES (1, 1, ?, '{}', 'done', 1, ?, ?, ?, ?, ?)",
            (kind, key, cols, count, undone, f"2026-01-0{number + 1}T00:00:00+00:00"),
        )
    migrate(db)
    rows = db.execute_sql(
        "SELECT number, kind, summary, file_key, previous_file_key, columns FROM dataset_version "
        "ORDER BY number"
    ).fetchall()
    assert rows == [
        (1, "import", "Imported", "a", None, columns),
        (2, "step", "Trim spaces: done", "b", "a", columns),
        (3, "step", "Rename a column: done", "c", "b", upper),
    ]
    assert db.execute_sql("SELECT version FROM dataset").fetchone() == (3,)
    db.close()


def test_a_row_edit_the_dataset_file_missed_is_finished_at_the_next_start(
    app, editor_client, dataset
):
    """A crash between the application database and the dataset file: the next start applies
    the recorded change, so the data and the history agree."""
    from tests.helpers import make_app

    post(editor_client, dataset, "/rows/2/edit", c2="Grete")
    path = dataset_file(app.config["DATA_DIR"], fresh(dataset).storage_key)
    con = sqlite3.connect(path)
    with con:  # the file as it was before the edit committed
        con.execute("UPDATE rows SET c2 = 'Grace' WHERE rowid = 2")
        con.execute("UPDATE sheaf_meta SET value = 1 WHERE key = 'version'")
    con.close()
    make_app(app.config["DATA_DIR"])
    assert [r[1] for r in stored(app, fresh(dataset))] == ["Ada", "Grete", "Ada"]


def test_old_versions_are_pruned_past_both_limits_and_say_so(app, editor_client, dataset):
    from datetime import timedelta

    from server.models import utcnow

    for mode in ("upper", "lower", "title", "upper"):
        step(editor_client, dataset, "case", column="c2", mode=mode)
    post(editor_client, dataset, "/undo")  # the next redo needs version 5's file
    kept_before = {k for k in _kept(app, dataset)}
    DatasetVersion.update(created_at=utcnow() - timedelta(days=30)).execute()
    freed = versions.prune(app.config["DATA_DIR"], keep_versions=2, keep_days=7)
    assert freed > 0
    kept_after = _kept(app, dataset)
    assert kept_after < kept_before
    current = fresh(dataset)
    assert current.storage_key in kept_after
    done, undone = versions.stacks(current)
    assert undone[-1].file_key in kept_after  # redo still works
    assert done[-1].previous_file_key in kept_after  # and so does the next undo
    response = post(editor_client, dataset, "/history/1/go-back")
    body = response.get_data(as_text=True)
    assert response.status_code == 302, body[body.find("<main") :][:1500]
    page = flashed(editor_client, response)
    assert "older than the history keeps" in page
    history = editor_client.get(f"/datasets/{dataset.id}/history").get_data(as_text=True)
    assert "rows no longer kept" in history
    assert post(editor_client, dataset, "/redo").status_code == 302
    assert [r[1] for r in stored(app, fresh(dataset))] == ["ADA", "GRACE", "ADA"]


def test_versions_within_the_limits_are_never_pruned(app, editor_client, dataset):
    for mode in ("upper", "lower", "title"):
        step(editor_client, dataset, "case", column="c2", mode=mode)
    before = _kept(app, dataset)
    assert versions.prune(app.config["DATA_DIR"], keep_versions=2, keep_days=7) == 0
    assert _kept(app, dataset) == before


def test_pruning_runs_in_the_background(app, editor_client, dataset):
    import time
    from datetime import timedelta

    from server.models import utcnow

    for mode in ("upper", "lower", "title"):
        step(editor_client, dataset, "case", column="c2", mode=mode)
    DatasetVersion.update(created_at=utcnow() - timedelta(days=30)).execute()
    before = _kept(app, dataset)
    app.config.update(HISTORY_KEEP_VERSIONS=1, HISTORY_KEEP_DAYS=1)
    versions.start_pruning(app, interval=3600)
    deadline = time.monotonic() + 10
    while _kept(app, dataset) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _kept(app, dataset) < before


def _kept(app, dataset) -> set[str]:
    folder = app.config["DATA_DIR"] / "datasets"
    return {p.name.split(".")[0] for p in folder.glob("*.sqlite")}


def test_an_append_through_a_recipe_is_checked_against_the_dataset_types(
    app, editor_client, people
):
    """A recipe made on a text column, appending to a whole-number column: the text that does
    not fit is flagged and emptied, as an import into that type would, never stored as text."""
    from server.models import Recipe

    target = run_import(app, editor_client, b"id,amount\n1,10\n2,20\n", "t.csv").dataset
    source = run_import(app, editor_client, b"id,amount\n1, x\n", "s.csv").dataset
    assert [c.type for c in columns_of(fresh(source))] == ["integer", "text"]
    step(editor_client, source, "trim", column="c2")
    post(editor_client, source, "/recipes", name="Tidy amounts")
    recipe = Recipe.get(Recipe.name == "Tidy amounts")
    job = run_import(
        app,
        editor_client,
        b"id,amount\n3, abc\n4, 40\n",
        "n.csv",
        mode="append",
        target=str(target.id),
        recipe=str(recipe.id),
    )
    assert job.status == "done" and job.rows == 2 and job.problem_count == 1
    assert stored(app, fresh(target)) == [(1, 10), (2, 20), (3, "abc"), (4, 40)]  # flagged
    problem = job.problems.get()
    assert (problem.row, problem.column_label, problem.value) == (1, "amount", "abc")


def test_values_kept_as_written_are_flagged_filtered_and_left_out_of_figures(
    app, editor_client, people
):
    """Kept, then flagged: the table marks them, a filter finds them, the profile counts them
    and leaves them out of its figures, a sum per month never adds them, exports keep them."""
    body = b"day,amount\n2024-01-05,10\n2024-01-20,unknown\n2024-02-03,30\nsoon,5\n"
    job = run_import(app, editor_client, body, "m.csv", type_0="date", type_1="integer")
    dataset = job.dataset
    assert job.problem_count == 2
    assert stored(app, fresh(dataset)) == [
        ("2024-01-05", 10),
        ("2024-01-20", "unknown"),
        ("2024-02-03", 30),
        ("soon", 5),
    ]
    table = editor_client.get(f"/datasets/{dataset.id}").get_data(as_text=True)
    assert table.count('class="integer misfit"') == 1 and table.count('class="date misfit"') == 1
    found = editor_client.get(f"/datasets/{dataset.id}?c2.misfit=1").get_data(as_text=True)
    assert "1 of 4 rows match" in found and "unknown" in found
    at_least = editor_client.get(f"/datasets/{dataset.id}?c1.min=2024-01-01").get_data(as_text=True)
    assert "3 of 4 rows match" in at_least  # "soon" is not a date after 2024
    profile = editor_client.get(f"/datasets/{dataset.id}/profile").get_data(as_text=True)
    assert "1 kept as written" in profile
    chart = editor_client.get(
        f"/datasets/{dataset.id}/chart?kind=line&date=c1&value=c2&agg=sum&period=month"
    ).get_data(as_text=True)
    assert "2024-01" in chart and "2024-02" in chart and ">None<" not in chart
    csv = editor_client.get(f"/datasets/{dataset.id}/export?format=csv").get_data(as_text=True)
    assert "2024-01-20,unknown" in csv and "soon,5" in csv


def test_a_cell_changed_by_someone_else_is_not_overwritten_by_a_page_that_moved_on(
    app, dataset, people
):
    """The table takes the version its own edits return; the cell as the page showed it is
    what guards a colleague's change (a review found an edit on a later version overwriting
    it silently)."""
    from server.models import User

    ann, ada = signed_in(app, "eddie"), signed_in(app, "eddie")
    User.update(display_name="Ada").where(User.login == "eddie").execute()
    page_version = fresh(dataset).version
    assert (
        ada.post_form(
            f"/datasets/{dataset.id}/rows/1/cell",
            {"column": "c3", "value": "Bergen", "before": "Oslo", "version": page_version},
        ).status_code
        == 200
    )
    moved_on = ann.post_form(
        f"/datasets/{dataset.id}/rows/2/cell",
        {"column": "c3", "value": "Cusco", "before": "Lima", "version": page_version},
    )
    assert moved_on.status_code == 200  # another row: fine, and the page moves on
    stale = ann.post_form(
        f"/datasets/{dataset.id}/rows/1/cell",
        {"column": "c3", "value": "Tromsø", "before": "Oslo", "version": moved_on.json["version"]},
    )
    assert (
        stale.status_code == 400
        and "changed this dataset after you opened it" in (stale.json["error"])
    )
    assert stored(app, fresh(dataset))[0][2] == "Bergen"
    again = ann.post_form(
        f"/datasets/{dataset.id}/rows/2/cell",
        {
            "column": "c3",
            "value": "Puno",
            "before": moved_on.json["shown"],
            "version": moved_on.json["version"],
        },
    )
    assert again.status_code == 200  # one's own change, as the page shows it, is not stale


def test_a_long_history_lists_the_newest_versions_first_and_all_on_request(
    app, editor_client, dataset
):
    from server.datasets.web.history_pages import SHOWN

    for i in range(SHOWN + 5):
        post(editor_client, dataset, "/rows/1/cell", column="c3", value=f"v{i}")
    page = editor_client.get(f"/datasets/{dataset.id}/history").get_data(as_text=True)
    assert page.count('id="version-') == SHOWN and f"Show every version ({SHOWN + 6})" in page
    page = editor_client.get(f"/datasets/{dataset.id}/history?all=1").get_data(as_text=True)
    assert page.count('id="version-') == SHOWN + 6 and 'id="version-1"' in page


def test_a_new_dataset_s_history_says_what_will_appear_there(app, dataset, editor_client):
    page = editor_client.get(f"/datasets/{dataset.id}/history").get_data(as_text=True)
    assert "Only the import so far." in page and "Undo takes it back" in page
    step(editor_client, dataset, "trim", column="c2")
    page = editor_client.get(f"/datasets/{dataset.id}/history").get_data(as_text=True)
    assert "Only the import so far." not in page
