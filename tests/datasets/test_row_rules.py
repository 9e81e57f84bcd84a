"""Row rules: a person limited by them sees and changes only their rows, on every page, and
everything that reaches beyond them is refused with a sentence."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile

import pytest

from server.datasets import row_rules, versions
from server.datasets.catalog import dataset_file
from server.datasets.reading.restricted import restrict
from server.datasets.sharing import share
from server.models import AuditEvent, Dataset, DatasetShare, Role
from server.sqlite_files import connect
from tests.datasets.clinic_rows import CLINIC, DANA, OTHERS, assert_only_dana, text_of
from tests.helpers import make_dataset, make_role, make_user, signed_in


@pytest.fixture
def clinic(app, people):
    """Eddie's appointments, shared with the Doctor role for changing; each doctor sees the
    rows where the doctor column holds their user name."""
    doctor = make_role("Doctor", ["datasets.export", "datasets.import"])
    make_user("dana", doctor, display_name="Dana Doe")
    make_user("omar", doctor, display_name="Omar Oak")
    dataset = make_dataset(app, people["editor"], CLINIC, name="Appointments")
    share(dataset, by=people["editor"], role=doctor, can_edit=True)
    row_rules.add_rule(
        dataset,
        role=doctor,
        column="c2",
        kind="user_name",
        values=[],
        data_dir=app.config["DATA_DIR"],
    )
    return Dataset.get_by_id(dataset.id)


def latest(dataset) -> int:
    return versions.latest(Dataset.get_by_id(dataset.id)).number


def test_the_restriction_is_decided_in_one_place(app, people, clinic):
    with app.app_context():
        _restriction_cases(app, people, clinic)


def _restriction_cases(app, people, clinic):
    doctor = Role.get(Role.name == "Doctor")
    dana = make_user("dana2", doctor)
    limit = row_rules.restriction(clinic, dana)
    assert limit.clauses == (("c2", ("dana2",)),)
    assert row_rules.restriction(clinic, people["editor"]) is None  # the owner
    assert row_rules.restriction(clinic, people["admin"]) is None  # datasets.view_all
    assert row_rules.restriction(clinic, people["viewer"]) is None  # no rule for them
    # Several rules widen (OR); a rule whose column is gone narrows to nothing.
    row_rules.add_rule(
        clinic,
        user=dana,
        column="c2",
        kind="one_of",
        values=["nils", "omar"],
        data_dir=app.config["DATA_DIR"],
    )
    assert row_rules.restriction(clinic, dana).clauses == (
        ("c2", ("dana2",)),
        ("c2", ("nils", "omar")),
    )
    clinic.columns = json.dumps([c for c in json.loads(clinic.columns) if c["name"] != "c2"])
    assert row_rules.restriction(clinic, dana).clauses == ()
    assert row_rules.restriction(clinic, dana).sql() == ("0", [])


def test_a_rule_is_checked_audited_and_indexed(app, people, clinic):
    doctor = Role.get(Role.name == "Doctor")
    data_dir = app.config["DATA_DIR"]
    for kwargs, message in [
        ({"column": "c9", "kind": "value", "values": ["x"]}, "columns"),
        ({"column": "c2", "kind": "nope", "values": ["x"]}, "what the column"),
        ({"column": "c2", "kind": "value", "values": []}, "Type the value"),
        ({"column": "c2", "kind": "value", "values": ["a", "b"]}, "one value"),
        ({"column": "c4", "kind": "value", "values": ["soon"]}, "not a whole number"),
        ({"column": "c2", "kind": "value", "values": ["a\tb"]}, "control characters"),
    ]:
        with pytest.raises(row_rules.RuleError, match=message):
            row_rules.add_rule(clinic, role=doctor, data_dir=data_dir, **kwargs)
    with pytest.raises(row_rules.RuleError, match="owns this dataset"):
        row_rules.add_rule(
            clinic,
            user=people["editor"],
            column="c2",
            kind="user_name",
            values=[],
            data_dir=data_dir,
        )
    assert len(row_rules.rules_of(clinic)) == 1
    event = AuditEvent.get(AuditEvent.action == "dataset.row_rule_added")
    assert event.details_dict == {
        "rule": "Everyone with the Doctor role see only rows where doctor equals their own "
        "user name"
    }
    con = connect(dataset_file(data_dir, clinic.storage_key))
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    con.close()
    assert "rows_by_c2" in indexes
    row_rules.remove_rule(row_rules.rules_of(clinic)[0])
    assert AuditEvent.get(AuditEvent.action == "dataset.row_rule_removed").details_dict["rule"]
    with app.app_context():
        assert row_rules.restriction(clinic, make_user("x", doctor)) is None


def test_a_limited_person_reads_only_their_rows_everywhere(app, clinic):
    dana = signed_in(app, "dana")
    base = f"/datasets/{clinic.id}"
    page = text_of(dana.get(base))
    assert_only_dana(page)
    assert "3 rows" in page and "6 rows" not in page
    # Searching, filtering, sorting, paging: never another doctor's row, and counts of hers.
    page = text_of(dana.get(f"{base}?q=Bruno"))
    assert "Bruno Zell" not in page and "0 of 3 rows match" in page
    page = text_of(dana.get(f"{base}?q=visit"))
    assert_only_dana(page)
    assert "3 of 3 rows match" in page
    assert_only_dana(text_of(dana.get(f"{base}?sort=c3&dir=desc&q=visit")))
    assert_only_dana(text_of(dana.get(f"{base}?c4.min=10")))
    assert "2 of 3 rows match" in text_of(dana.get(f"{base}?c4.min=20"))
    assert_only_dana(text_of(dana.get(f"{base}?last=1")))
    assert "Appointments" in text_of(dana.get("/datasets"))
    # Exports, in every format.
    rows = list(csv.reader(io.StringIO(text_of(dana.get(f"{base}/export?format=csv")))))
    assert sorted(r[2] for r in rows[1:]) == sorted(DANA)
    assert {r["patient"] for r in json.loads(dana.get(f"{base}/export?format=json").data)} == DANA
    sheet = zipfile.ZipFile(io.BytesIO(dana.get(f"{base}/export?format=xlsx").data))
    cells = "".join(sheet.read(n).decode() for n in sheet.namelist() if n.endswith(".xml"))
    assert_only_dana(cells)
    # The API, the profile and charts.
    answer = dana.get(f"/api/v1/datasets/{clinic.id}/rows").get_json()
    assert {r["c3"] for r in answer["rows"]} == DANA
    assert answer["matching"] == 3 and answer["total"] == 3
    assert dana.get(f"/api/v1/datasets/{clinic.id}").get_json()["rows"] == 3
    assert dana.get(f"/api/v1/datasets/{clinic.id}/rows?q=Elsa").get_json()["rows"] == []
    profile = text_of(dana.get(f"{base}/profile"))
    assert "omar" not in profile and "nils" not in profile and "3 rows" in profile
    chart = text_of(dana.get(f"{base}/chart.svg?kind=bar&column=c2"))
    assert "dana" in chart and "omar" not in chart and "nils" not in chart
    # A hidden row is not there at all, in its form or its history.
    assert dana.get(f"{base}/rows/2/edit").status_code == 404
    assert dana.get(f"{base}/rows/2/history").status_code == 404
    history = dana.get(f"{base}/rows/1/history")
    assert history.status_code == 200 and f"{base}/history" not in text_of(history)
    # The dataset's history and cleaning reach beyond her rows: refused, with the reason.
    for path in ("history", "clean"):
        response = dana.get(f"{base}/{path}")
        assert response.status_code == 403 and "Row rules let you see only some" in text_of(
            response
        )


def test_the_owner_sees_everything_and_caches_are_not_shared(app, clinic, editor_client):
    base = f"/datasets/{clinic.id}"
    dana = signed_in(app, "dana")
    omar = signed_in(app, "omar")
    for _ in range(2):  # the second time from the caches
        assert "6 rows" in text_of(editor_client.get(base))
        assert "3 of 3 rows match" in text_of(dana.get(f"{base}?q=visit"))
        assert "2 of 2 rows match" in text_of(omar.get(f"{base}?q=visit"))
        assert "6 of 6 rows match" in text_of(editor_client.get(f"{base}?q=visit"))
        assert "omar" in text_of(editor_client.get(f"{base}/profile"))
        assert "omar" not in text_of(dana.get(f"{base}/profile"))
    assert editor_client.get(f"{base}/history").status_code == 200


def test_a_limited_editor_changes_only_their_rows(app, clinic):
    dana = signed_in(app, "dana")
    base = f"/datasets/{clinic.id}"
    fields = {"c1": "1", "c2": "dana", "c3": "Alma Quist", "c4": "35", "c5": "visit"}
    response = dana.post_form(f"{base}/rows/1/edit", {**fields, "version": latest(clinic)})
    assert response.status_code == 302
    assert versions.read_row(clinic, _columns(clinic), 1, app.config["DATA_DIR"])["c4"] == 35
    # Giving her row to another doctor would take it out of her rules: refused.
    response = dana.post_form(
        f"{base}/rows/1/edit", {**fields, "c2": "omar", "version": latest(clinic)}
    )
    assert response.status_code == 400 and "no longer be one of them" in text_of(response)
    assert versions.read_row(clinic, _columns(clinic), 1, app.config["DATA_DIR"])["c2"] == "dana"
    # Another doctor's row: not there for her, by form, cell or deletion.
    assert dana.post_form(f"{base}/rows/2/edit", {**fields, "version": 1}).status_code == 404
    response = dana.post_form(
        f"{base}/rows/2/cell", {"column": "c3", "value": "X", "version": latest(clinic)}
    )
    assert response.status_code == 400 and "does not exist" in response.get_json()["error"]
    dana.post_form(f"{base}/rows/delete", {"row": "2", "version": latest(clinic)})
    assert versions.read_row(clinic, _columns(clinic), 2, app.config["DATA_DIR"])["c3"] == (
        "Bruno Zell"
    )
    # A new row must be hers.
    new = {"c1": "7", "c2": "omar", "c3": "Gil Nox", "c4": "5", "version": latest(clinic)}
    response = dana.post_form(f"{base}/rows/new", new)
    assert response.status_code == 400 and "a row you add must be one of them" in text_of(response)
    assert dana.post_form(f"{base}/rows/new", {**new, "c2": "dana"}).status_code == 302
    assert "Gil Nox" in text_of(dana.get(f"{base}?last=1"))
    # Her own row she may delete; a cell of hers she may edit.
    response = dana.post_form(
        f"{base}/rows/3/cell", {"column": "c4", "value": "16", "version": latest(clinic)}
    )
    assert response.status_code == 200
    dana.post_form(f"{base}/rows/delete", {"row": "3", "version": latest(clinic)})
    assert versions.read_row(clinic, _columns(clinic), 3, app.config["DATA_DIR"]) is None
    # Undo, redo, going back, cleaning steps, recipes and appending: refused with the reason.
    for path in ("undo", "redo", "history/1/go-back", "clean"):
        response = dana.post_form(f"{base}/{path}", {"version": latest(clinic), "kind": "trim"})
        assert response.status_code == 403, path
        assert "Ask the dataset" in text_of(response)
    assert versions.read_row(clinic, _columns(clinic), 3, app.config["DATA_DIR"]) is None


def _columns(dataset):
    from server.datasets.catalog import columns_of

    return columns_of(Dataset.get_by_id(dataset.id))


def test_the_connection_itself_refuses_the_real_table(app, clinic):
    con = connect(dataset_file(app.config["DATA_DIR"], clinic.storage_key))
    restrict(con, [("c2", ("dana",))])
    try:
        assert {r[0] for r in con.execute("SELECT c3 FROM rows")} == DANA
        found = con.execute(
            "SELECT c3 FROM rows WHERE rowid IN "
            "(SELECT rowid FROM rows_fts WHERE rows_fts MATCH 'Bruno OR Alma')"
        ).fetchall()
        assert found == [("Alma Quist",)]
        for sql in [
            "SELECT c3 FROM main.rows",
            "SELECT c3 FROM rows_fts WHERE rows_fts MATCH 'Bruno'",
            "SELECT highlight(rows_fts, 1, '[', ']') FROM rows_fts WHERE rows_fts MATCH 'Bruno'",
            "DROP VIEW temp.rows",
            "DELETE FROM temp.rule_values",
            "CREATE TEMP VIEW everything AS SELECT * FROM main.rows",
            "ATTACH DATABASE ':memory:' AS other",
            "DELETE FROM main.rows",
        ]:
            with pytest.raises(sqlite3.DatabaseError):
                con.execute(sql).fetchall()
        con.execute("CREATE INDEX IF NOT EXISTS main.rows_by_c4 ON rows (c4)")  # sorting's own
        assert {r[0] for r in con.execute("SELECT c3 FROM rows ORDER BY c4")} == DANA
    finally:
        con.close()


def test_the_rules_page_adds_previews_and_removes_rules(app, people, clinic, editor_client):
    doctor = Role.get(Role.name == "Doctor")
    url = f"/datasets/{clinic.id}/sharing/rules"
    page = text_of(editor_client.get(url))
    assert "Everyone with the Doctor role see only rows where doctor equals their own user" in page
    assert "Dana Doe" in page and "would see 3 of 6 rows" in page
    assert "Omar Oak" in page and "would see 2 of 6 rows" in page
    assert "always see every row" in page
    assert f"/datasets/{clinic.id}/sharing/rules" in text_of(
        editor_client.get(f"/datasets/{clinic.id}/sharing")
    )
    # Bad input: a sentence, status 400, nothing added.
    vera = people["viewer"]
    for form, message in [
        ({"target": "", "column": "c2", "kind": "value", "values": "x"}, "Choose a role"),
        ({"target": f"user:{vera.id}", "column": "c2", "kind": "value"}, "Type the value"),
        ({"target": f"user:{vera.id}", "column": "c4", "kind": "value", "values": "x"}, "not"),
        ({"target": f"user:{vera.id}", "column": "c99", "kind": "value", "values": "x"}, "Check"),
        ({"target": "role:99999", "column": "c2", "kind": "value", "values": "x"}, "Check"),
        ({"target": "user:abc", "column": "c2", "kind": "one_of", "values": "x"}, "Check"),
    ]:
        response = editor_client.post_form(url, form)
        assert response.status_code == 400 and message in text_of(response), form
    assert len(row_rules.rules_of(clinic)) == 1
    # A person's own rule: one of a list.
    response = editor_client.post_form(
        url,
        {"target": f"user:{vera.id}", "column": "c2", "kind": "one_of", "values": "nils\nomar"},
    )
    assert response.status_code == 302
    assert "Vera Viewer sees only rows where doctor is one of “nils”, “omar”" in text_of(
        editor_client.get(url)
    )
    share(clinic, by=people["editor"], user=vera)
    assert "would see 3 of 6 rows" in text_of(editor_client.get(url))  # two of omar's, nils's
    vera_client = signed_in(app, "vera")
    page = text_of(vera_client.get(f"/datasets/{clinic.id}"))
    assert "Elsa Wrenn" in page and "Bruno Zell" in page and "Alma Quist" not in page
    # Removing it: audited, and Vera sees every row again.
    rule = next(r for r in row_rules.rules_of(clinic) if r.user_id == vera.id)
    response = editor_client.post_form(f"{url}/{rule.id}/remove")
    assert response.status_code == 302
    assert AuditEvent.get(AuditEvent.action == "dataset.row_rule_removed").details_dict == {
        "rule": "Vera Viewer sees only rows where doctor is one of “nils”, “omar”"
    }
    assert "Alma Quist" in text_of(vera_client.get(f"/datasets/{clinic.id}"))
    # A limited doctor cannot manage rules (no sharing right), nor remove one of another dataset.
    assert signed_in(app, "dana").get(url).status_code == 403
    other = make_dataset(app, people["editor"], name="Other")
    assert (
        editor_client.post_form(
            f"/datasets/{other.id}/sharing/rules/{row_rules.rules_of(clinic)[0].id}/remove"
        ).status_code
        == 404
    )
    assert doctor.id and len(row_rules.rules_of(clinic)) == 1


def test_a_limited_person_is_told_and_not_offered_what_is_refused(app, clinic, editor_client):
    base = f"/datasets/{clinic.id}"
    page = text_of(signed_in(app, "dana").get(base))
    assert "only your rows (row rules)" in page
    assert f"{base}/history" not in page and f"{base}/clean" not in page
    page = text_of(editor_client.get(base))
    assert "only your rows" not in page
    assert f"{base}/history" in page and f"{base}/clean" in page


EXTRA_ARGS = {
    "datasets.dataset_chart": "?kind=bar&column=c3",
    "datasets.dataset_chart_svg": "?kind=bar&column=c3",
    "datasets.dataset_export": "?format=json",
    "datasets.dataset_view": "?q=visit&sort=c3",
    "api.rows": "?limit=1000",
    "analysis.dataset_summary": "?by=c3&fn1=count",
    "analysis.dataset_summary_csv": "?by=c3&fn1=count",
    "api.summary": "?by=c3&fn1=count",
}


@pytest.mark.parametrize("login", ["dana", "vic"])
def test_no_route_gives_a_limited_person_a_hidden_row(app, people, clinic, login):
    """Every route that takes a dataset, asked by a limited editor (dana) and a limited viewer
    (vic), about the dataset and about a hidden row (2) and one of theirs (1): no answer holds
    a value of another doctor's row, and no hidden row changes."""
    vic = make_user("vic", "viewer", display_name="Dana Doe")  # limited by display name
    share(clinic, by=people["editor"], user=vic)
    row_rules.add_rule(
        clinic,
        user=vic,
        column="c2",
        kind="one_of",
        values=["dana"],
        data_dir=app.config["DATA_DIR"],
    )
    client = signed_in(app, login)
    before = {
        n: versions.read_row(clinic, _columns(clinic), n, app.config["DATA_DIR"]) for n in (2, 4, 5)
    }
    asked = shown = 0
    for rule in app.url_map.iter_rules():
        if "dataset_id" not in rule.arguments:
            continue
        for row_id in (1, 2):
            values = {"dataset_id": clinic.id, "row_id": row_id, "number": 1}
            values.update(
                {"share_id": 1, "rule_id": 1, "recipe_id": 1, "view_id": 1, "column": "c3"}
            )
            needed = {k: v for k, v in values.items() if k in rule.arguments}
            path = rule.build(needed)[1] + EXTRA_ARGS.get(rule.endpoint, "")
            for method in rule.methods & {"GET", "POST"}:
                form = {
                    "row": str(row_id),
                    "column": "c3",
                    "value": "Zed",
                    "c3": "Zed",
                    "kind": "trim",
                    "version": latest(clinic),
                }
                response = client.get(path) if method == "GET" else client.post_form(path, form)
                asked += 1
                shown += response.status_code == 200
                assert response.status_code < 500, (method, path)
                body = response.get_data(as_text=True)
                for name in OTHERS:
                    assert name not in body, (method, path, name)
    assert asked > 40 and shown > 10, (asked, shown)
    after = {
        n: versions.read_row(clinic, _columns(clinic), n, app.config["DATA_DIR"]) for n in (2, 4, 5)
    }
    assert after == before


def test_both_ways_of_finding_a_persons_rows_find_the_same_rows(app, clinic):
    """Someone who sees many rows gets a view that walks the table in the page's order (not
    through the rule column's index): the same rows either way."""
    for indexed in (True, False):
        con = connect(dataset_file(app.config["DATA_DIR"], clinic.storage_key))
        restrict(con, [("c2", ("dana",))], indexed=indexed)
        try:
            sql = "SELECT c3 FROM rows WHERE c4 >= 20 ORDER BY rowid"
            assert [r[0] for r in con.execute(sql)] == ["Alma Quist", "Fabio Xant"]
            plan = " ".join(str(step) for step in con.execute(f"EXPLAIN QUERY PLAN {sql}"))
            if not indexed:
                assert "rows_by_c2" not in plan
        finally:
            con.close()


def test_a_row_history_shows_nothing_of_its_time_outside_the_rules(app, people, clinic):
    from server.datasets.cleaning import rows

    data_dir = app.config["DATA_DIR"]
    eddie = people["editor"]
    rows.edit_row(clinic.id, latest(clinic), 2, {"c3": "Bruno Zee"}, eddie, data_dir)
    rows.edit_row(clinic.id, latest(clinic), 2, {"c2": "dana"}, eddie, data_dir)
    rows.edit_row(clinic.id, latest(clinic), 2, {"c4": "50"}, eddie, data_dir)
    dana = signed_in(app, "dana")
    page = text_of(dana.get(f"/datasets/{clinic.id}/rows/2/history"))
    assert "45" in page and "50" in page  # the change made while it was hers
    assert "Bruno Zell" not in page and "omar" not in page  # nothing from when it was Omar's
    owner = text_of(signed_in(app, "eddie").get(f"/datasets/{clinic.id}/rows/2/history"))
    assert "Bruno Zell" in owner and "omar" in owner


def test_a_limited_person_who_may_share_cannot_share_or_change_rules(app, people, clinic):
    """Sharing (or removing a rule) by someone who sees only some rows would hand out rows they
    cannot see: refused, with the reason."""
    sharer = make_role("Sharer", ["datasets.share", "datasets.export"])
    sam = make_user("sam", sharer, display_name="Sam Sharer")
    share(clinic, by=people["editor"], user=sam)
    row_rules.add_rule(
        clinic,
        user=sam,
        column="c2",
        kind="value",
        values=["nils"],
        data_dir=app.config["DATA_DIR"],
    )
    client = signed_in(app, "sam")
    rule = row_rules.rules_of(clinic)[-1]
    for response in (
        client.get(f"/datasets/{clinic.id}/sharing"),
        client.post_form(
            f"/datasets/{clinic.id}/sharing", {"target": f"user:{people['viewer'].id}"}
        ),
        client.get(f"/datasets/{clinic.id}/sharing/rules"),
        client.post_form(f"/datasets/{clinic.id}/sharing/rules/{rule.id}/remove"),
    ):
        assert response.status_code == 403
        assert "you cannot share it or change its rules" in text_of(response)
    assert len(row_rules.rules_of(clinic)) == 2
    assert not DatasetShare.select().where(DatasetShare.user == people["viewer"].id).exists()


def test_facets_and_summaries_count_only_the_persons_rows(app, people, clinic):
    """The facets, summaries and their API read the person's connection: Dana's counts are
    those of her three rows, as a plain filter of the file gives them."""
    dana = signed_in(app, "dana")
    facet = text_of(dana.get(f"/datasets/{clinic.id}/facets/c3"))
    assert_only_dana(facet)
    api = dana.get(f"/api/v1/datasets/{clinic.id}/facets/c2").get_json()
    assert [(i["label"], i["count"]) for i in api["items"]] == [("dana", 3)]
    page = text_of(dana.get(f"/datasets/{clinic.id}/summary?by=c3&fn1=sum&of1=c4"))
    assert_only_dana(page)
    rows = dana.get(f"/api/v1/datasets/{clinic.id}/summary?by=c2&fn1=sum&of1=c4").get_json()
    assert rows["rows"] == [["dana", 70]]
    csv_text = text_of(dana.get(f"/datasets/{clinic.id}/summary.csv?by=c3&fn1=count"))
    assert_only_dana(csv_text)
    # The owner's cached facet is not handed to Dana, nor hers to the owner.
    owner = signed_in(app, people["editor"].login)
    assert "Bruno Zell" in text_of(owner.get(f"/datasets/{clinic.id}/facets/c3"))
    assert_only_dana(text_of(dana.get(f"/datasets/{clinic.id}/facets/c3")))


def test_a_dataset_without_rules_says_what_a_rule_is_for(app, people, editor_client):
    dataset = make_dataset(app, people["editor"], CLINIC, name="Fresh")
    page = text_of(editor_client.get(f"/datasets/{dataset.id}/sharing/rules"))
    assert "No rules yet: everyone the dataset is shared with sees every row." in page
    assert "equals their own user name" in page
