"""A rule-limited person's pages take the quick ways (issue #18) and still show exactly their
rows: a filter on the rules' column for values the rules leave out finds nothing without
reading, one inside them finds those rows; sorting and filtering by another column make the
index on (rule column, that column), which dropping or changing that column still allows."""

from __future__ import annotations

import sqlite3

import pytest

from server.datasets import row_rules
from server.datasets.catalog import columns_of, dataset_file
from server.datasets.reading import browse
from server.datasets.reading.restricted import restrict, rule_clauses
from server.datasets.sharing import share
from server.models import Dataset, Role
from server.sqlite_files import connect
from tests.datasets.clinic_rows import CLINIC, DANA, OTHERS, assert_only_dana, text_of
from tests.helpers import make_dataset, make_role, make_user, signed_in

NILS = {"Elsa Wrenn"}


@pytest.fixture
def clinic(app, people):
    """As in test_row_rules: each doctor sees the rows holding their user name; the Nurse
    role sees dana's and nils's rows (a list rule); Ivy, a nurse, also sees patient Bruno
    Zell's row (rules on two columns)."""
    doctor = make_role("Doctor", ["datasets.export"])
    nurse = make_role("Nurse", [])
    make_user("dana", doctor, display_name="Dana Doe")
    make_user("nina", nurse, display_name="Nina Nye")
    ivy = make_user("ivy", nurse, display_name="Ivy Ito")
    dataset = make_dataset(app, people["editor"], CLINIC, name="Appointments")
    share(dataset, by=people["editor"], role=doctor, can_edit=True)
    share(dataset, by=people["editor"], role=nurse)
    data_dir = app.config["DATA_DIR"]
    row_rules.add_rule(
        dataset, role=doctor, column="c2", kind="user_name", values=[], data_dir=data_dir
    )
    row_rules.add_rule(
        dataset, role=nurse, column="c2", kind="one_of", values=["dana", "nils"], data_dir=data_dir
    )
    row_rules.add_rule(
        dataset, user=ivy, column="c3", kind="value", values=["Bruno Zell"], data_dir=data_dir
    )
    return Dataset.get_by_id(dataset.id)


def shown(client, path: str) -> set[str]:
    """The patients of the rows a page shows (asked of the API, which reads pages the same
    way and does not echo the filter's value)."""
    base, _, query = path.partition("?")
    answer = client.get(f"/api/v1{base}/rows?{query}").get_json()
    return {row["c3"] for row in answer["rows"]}


def test_a_filter_on_the_rules_column_keeps_only_values_inside_them(app, clinic):
    base = f"/datasets/{clinic.id}"
    dana = signed_in(app, "dana")  # one value: her user name
    page = text_of(dana.get(f"{base}?c2.eq=omar"))
    assert "0 of 3 rows match" in page and not {n for n in DANA | OTHERS if n in page}
    assert "0 of 3 rows match" in text_of(dana.get(f"{base}?c2.in=omar|nils"))
    assert "0 of 3 rows match" in text_of(dana.get(f"{base}?c2.empty=1"))
    assert "3 of 3 rows match" in text_of(dana.get(f"{base}?c2.eq=dana"))
    assert_only_dana(text_of(dana.get(f"{base}?c2.in=omar|dana&sort=c4")))
    nina = signed_in(app, "nina")  # a list: dana's and nils's rows
    assert shown(nina, f"{base}?c2.eq=nils") == NILS
    assert shown(nina, f"{base}?c2.eq=omar") == set()
    assert shown(nina, f"{base}?c2.in=omar|nils&sort=c4&dir=desc") == NILS
    assert shown(nina, f"{base}") == DANA | NILS
    assert "1 of 4 rows match" in text_of(nina.get(f"{base}?c2.eq=nils"))
    ivy = signed_in(app, "ivy")  # rules on two columns: dana's and nils's rows, Bruno Zell's
    assert shown(ivy, f"{base}?c2.eq=omar") == {"Bruno Zell"}
    assert shown(ivy, f"{base}?c3.eq=Carla Vint") == {"Carla Vint"}
    assert shown(ivy, f"{base}?c3.eq=Dario Yupp") == set()
    assert shown(ivy, f"{base}?sort=c4") == DANA | NILS | {"Bruno Zell"}
    api = signed_in(app, "dana").get(f"/api/v1/datasets/{clinic.id}/rows?c2.eq=omar")
    assert api.get_json()["rows"] == [] and api.get_json()["matching"] == 0


def test_the_contradiction_is_seen_before_any_row_is_read(app, clinic):
    """A filter for a value the rules leave out is the SQL "0": SQLite answers at once."""
    columns = columns_of(clinic)
    only_dana = [("c2", ("dana",))]
    for args, expected in [
        ({"c2.eq": "omar"}, "0"),
        ({"c2.in": "omar|nils"}, "0"),
        ({"c2.empty": "1"}, "0"),
        ({"c2.eq": "dana"}, "c2 = ?"),
        ({"c2.in": "omar|dana"}, "c2 IN (?, ?)"),
        ({"c2.notempty": "1"}, "c2 IS NOT NULL"),
        ({"c4.min": "10"}, "(c4 >= ?"),
    ]:
        view = browse.View.from_args(args, columns)
        clause, _ = browse.where(view, columns, True, only_dana)
        assert clause.startswith(expected), (args, clause)
        # Without rules, or with rules on two columns, nothing is left out.
        for rules in (None, [("c2", ("dana",)), ("c3", ("Bruno Zell",))]):
            assert browse.where(view, columns, True, rules)[0] != "0"
    view = browse.View.from_args({"c4.eq": "ten"}, columns)
    with pytest.raises(browse.BadView):  # a bad value is still told, rules or not
        browse.where(view, columns, True, only_dana)


def test_rule_clauses_are_read_back_from_the_connection(app, clinic):
    con = connect(dataset_file(app.config["DATA_DIR"], clinic.storage_key))
    try:
        assert rule_clauses(con) is None
        restrict(con, [("c2", ("dana", "nils")), ("c3", ("Bruno Zell",))])
        assert rule_clauses(con) == [("c2", ("dana", "nils")), ("c3", ("Bruno Zell",))]
        with pytest.raises(sqlite3.DatabaseError):  # and cannot be changed through it
            con.execute("UPDATE temp.rule_values SET value = 'omar'")
    finally:
        con.close()


def _indexes(app, dataset) -> set[str]:
    con = connect(dataset_file(app.config["DATA_DIR"], dataset.storage_key))
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        con.close()


def test_sorting_or_filtering_makes_the_pair_index_and_uses_it(app, clinic, editor_client):
    base = f"/datasets/{clinic.id}"
    dana = signed_in(app, "dana")
    assert "rows_by_c2_then_c4" not in _indexes(app, clinic)
    page = text_of(dana.get(f"{base}?sort=c4&dir=desc"))
    assert page.index("Alma Quist") < page.index("Fabio Xant") < page.index("Carla Vint")
    assert_only_dana(page)
    assert "rows_by_c2_then_c4" in _indexes(app, clinic)
    assert shown(dana, f"{base}?c5.eq=visit&c4.max=25") == {"Carla Vint", "Fabio Xant"}
    assert "rows_by_c2_then_c5" in _indexes(app, clinic)
    assert "rows_by_c2_then_c3" not in _indexes(app, clinic)
    shown(dana, f"{base}?c3.contains=a")  # a text search inside values: no index helps
    assert "rows_by_c2_then_c3" not in _indexes(app, clinic)
    con = connect(dataset_file(app.config["DATA_DIR"], clinic.storage_key))
    try:
        restrict(con, [("c2", ("dana",))])
        sql = "SELECT c3 FROM rows WHERE c4 >= 20 ORDER BY c4 DESC, rowid DESC"
        plan = " ".join(str(step) for step in con.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "rows_by_c2_then_c4" in plan and "TEMP B-TREE" not in plan
        assert [r[0] for r in con.execute(sql)] == ["Alma Quist", "Fabio Xant"]
    finally:
        con.close()
    # Someone who sees every row is not given pair indexes.
    assert "Bruno Zell" in text_of(editor_client.get(f"{base}?sort=c1"))
    assert not {i for i in _indexes(app, clinic) if i.endswith("_then_c1")}


def test_a_column_in_a_pair_index_can_still_be_dropped_or_changed(app, clinic, editor_client):
    base = f"/datasets/{clinic.id}"
    dana = signed_in(app, "dana")
    dana.get(f"{base}?sort=c4")
    dana.get(f"{base}?sort=c5")
    assert {"rows_by_c2_then_c4", "rows_by_c2_then_c5"} <= _indexes(app, clinic)

    def step(kind, **fields):
        version = Dataset.get_by_id(clinic.id).version
        data = {"kind": kind, "version": version, **fields}
        return editor_client.post_form(f"{base}/clean", data)

    step("cast", column="c4", type="text")
    step("drop", column="c5")
    dataset = Dataset.get_by_id(clinic.id)
    assert [(c.label, c.type) for c in columns_of(dataset)][3:] == [("minutes", "text")]
    left = _indexes(app, dataset)
    assert not {i for i in left if i.endswith(("_c4", "_c5"))}
    assert_only_dana(text_of(dana.get(f"{base}?sort=c4")))
    assert Role.get(Role.name == "Doctor")  # the rules are untouched
    assert row_rules.rules_of(dataset)
