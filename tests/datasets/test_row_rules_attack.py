"""An attacker's review of row rules (#18): a rule-limited viewer and a rule-limited editor,
each seeing 5 rows of 25, try every route and parameter to read a value of a hidden row or to
change one. Every value of the hidden rows is distinctive (names, five-digit numbers, dates of
1873, scores of 55xx), and no answer may hold any of them, in any form the pages write them."""

from __future__ import annotations

import io
import json
import re
import zipfile
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.datasets import row_rules, versions
from server.datasets.catalog import columns_of
from server.datasets.cleaning import rows, steps
from server.datasets.cleaning import rows as rows_module
from server.datasets.reading.browse import encode_cursor
from server.datasets.sharing import share
from server.models import Dataset, Recipe, User
from tests.helpers import make_dataset, make_role, make_user, signed_in

HEADER = "id,doctor,patient,minutes,seen,score,paid,ward,note\n"
OWN = range(1, 26, 5)  # rows 1, 6, 11, 16, 21: Dana's, on ward 7


def _row(n: int) -> str:
    if n in OWN:
        return f"{n},dana,Own{n}pat,{10 + n},2024-02-{n:02d},{n}.5,yes,7,mine{n}\n"
    doctor = "omar" if n % 2 else "nils"
    return (
        f"{n},{doctor},Hq{n}zed,{40000 + 37 * n},1873-{1 + n % 12:02d}-{n:02d},"
        f"{5500 + n}.25,no,{n % 5 + 1},nq{n}secret\n"
    )


WARD = HEADER + "".join(_row(n) for n in range(1, 26))
HIDDEN_IDS = [n for n in range(1, 26) if n not in OWN]
# What no answer to a limited person may hold: the hidden rows' words, numbers, dates, scores.
HIDDEN_WORDS = [f"Hq{n}zed" for n in HIDDEN_IDS] + [f"nq{n}secret" for n in HIDDEN_IDS]


def _number(value: int) -> str:
    """A whole number as the pages may write it: 40074 or 40,074 (not inside a longer one)."""
    return rf"(?<![\d,.]){value // 1000},?{value % 1000:03d}(?![\d,])"


HIDDEN_PATTERNS = [
    re.compile("|".join(_number(40000 + 37 * n) for n in HIDDEN_IDS)),  # minutes
    re.compile("|".join(_number(5500 + n) for n in HIDDEN_IDS)),  # scores (their whole part)
    re.compile(r"1873"),  # the hidden rows' dates
    re.compile(r"\bomar\b|\bnils\b"),  # the other doctors
]
# CSRF tokens and other random text may hold any digits: left out before checking.
_NOISE = re.compile(r'(csrf[^"]*" (?:content|value)="[^"]+")|(nonce="[^"]+")')


def hidden_values_in(text: str) -> list[str]:
    """Every hidden value (or trace of one) in ``text``."""
    text = _NOISE.sub("", text)
    found = [w for w in HIDDEN_WORDS if w in text]
    for pattern in HIDDEN_PATTERNS:
        found.extend(m.group(0) for m in pattern.finditer(text))
    return found


def leaked(path: str, text: str) -> list[str]:
    """The hidden values in the answer ``text`` to ``path``, less those the person asked
    for themselves (a filter's value said back to them)."""
    asked = set(hidden_values_in(unquote(path)))
    return [value for value in hidden_values_in(text) if value not in asked]


def body_of(response) -> str:
    data = response.get_data()
    if data[:2] == b"PK":  # a spreadsheet: its XML
        sheet = zipfile.ZipFile(io.BytesIO(data))
        return "".join(sheet.read(n).decode() for n in sheet.namelist() if "theme" not in n)
    # Without the page's random CSRF token, which may hold any digits ("25" one time in 50).
    return _TOKENS.sub("", data.decode("utf-8", "replace"))


_TOKENS = re.compile(r'(?<=name="csrf-token" content=")[^"]*|(?<=name="csrf_token" value=")[^"]*')


@pytest.fixture
def ward(app, people):
    """Eddie's 25 appointments. Dana (a Doctor, who may change them) sees the rows where the
    doctor is her user name; Vic (a viewer) the rows on ward 7 (a rule on a whole-number
    column): both the same 5 rows."""
    doctor = make_role("Doctor", ["datasets.export", "datasets.import"])
    dana = make_user("dana", doctor, display_name="Dana Doe")
    vic = make_user("vic", "viewer", display_name="Vic Viewer")
    dataset = make_dataset(app, people["editor"], WARD, name="Ward")
    share(dataset, by=people["editor"], role=doctor, can_edit=True)
    share(dataset, by=people["editor"], user=vic)
    data_dir = app.config["DATA_DIR"]
    row_rules.add_rule(
        dataset, role=doctor, column="c2", kind="user_name", values=[], data_dir=data_dir
    )
    row_rules.add_rule(
        dataset, user=vic, column="c8", kind="value", values=["7"], data_dir=data_dir
    )
    assert dana and vic
    return Dataset.get_by_id(dataset.id)


def stored(app, dataset) -> dict[int, dict]:
    dataset = Dataset.get_by_id(dataset.id)
    columns = columns_of(dataset)
    return {n: versions.read_row(dataset, columns, n, app.config["DATA_DIR"]) for n in range(1, 26)}


def latest(dataset) -> int:
    return versions.latest(Dataset.get_by_id(dataset.id)).number


def reads(dataset_id: int) -> list[str]:
    """Every read a limited person can ask, with the parameters that could reveal the most."""
    base = f"/datasets/{dataset_id}"
    api = f"/api/v1/datasets/{dataset_id}"
    names = [f"c{i}" for i in range(1, 10)]
    paths = ["/datasets", "/datasets?q=Ward", "/api/v1/datasets", api, base, f"{base}?last=1"]
    for c in names:
        for direction in ("", "&dir=desc"):
            paths.append(f"{base}?sort={c}{direction}")
            paths.append(f"{base}?sort={c}{direction}&q=pat")
        for op in ("empty", "notempty", "misfit"):
            paths.append(f"{base}?{c}.{op}=1")
        paths += [f"{base}/facets/{c}", f"{api}/facets/{c}", f"{base}/facets/{c}?q=zed"]
        paths.append(f"{base}/chart?kind=bar&column={c}")
        paths.append(f"{base}/chart.svg?kind=bar&column={c}")
        paths.append(f"{base}/chart.svg?kind=histogram&column={c}")
        paths.append(f"{base}/chart?kind=bar&column={c}&by=c2&stack=stacked")
        for fn in ("distinct", "min", "max", "median", "sum", "mean"):
            paths.append(f"{base}/summary?by=c7&fn1={fn}&of1={c}")
            paths.append(f"{api}/summary?by=c8&fn1={fn}&of1={c}")
        paths.append(f"{base}/summary?by={c}&fn1=count")
        paths.append(f"{base}/summary.csv?by={c}&fn1=count")
        paths.append(f"{api}/summary?by={c}&fn1=count")
    for period in ("day", "week", "month", "year"):
        paths.append(f"{base}/chart?kind=line&date=c5&period={period}&agg=sum&value=c4")
        paths.append(f"{base}/summary?by=c5&by_period={period}&fn1=max&of1=c4")
    paths += [
        f"{base}/summary?by=c2&then=c8&fn1=count&layout=pivot",
        f"{base}/summary?by=c8&then=c5&then_period=year&fn1=max&of1=c4&layout=pivot",
        f"{base}/summary.csv?by=c8&then=c5&then_period=month&fn1=min&of1=c6",
        f"{api}/summary?by=c2&then=c3&fn1=count",
        f"{base}/chart?kind=scatter&x=c4&y=c6",
        f"{base}/chart.svg?kind=scatter&x=c4&y=c6",
        f"{base}/profile",
        f"{base}/profile?c4.min=0",
        f"{base}/profile/status",
        f"{base}?c4.min=0&c4.max=99999",
        f"{base}?c5.min=1800-01-01",
        f"{base}?c6.max=9999",
        f"{base}?c3.in=Own1pat|Own6pat",
        f"{base}?c2.in=omar|nils",
        f"{base}?c2.eq=omar",
        f"{base}?c8.in=1|2|3|4|5",
        f"{base}?q=zed",
        f"{base}?q=secret",
        f"{base}?q=Hq",
        f"{base}?page=2",
        f"{base}?page=5",
        f"{api}/rows?limit=1000",
        f"{api}/rows?q=zed",
        f"{api}/rows?sort=c4&dir=desc",
        f"{base}/views",
        f"{base}/recipes",
        f"{base}/about",
        f"{base}/rows/new",
    ]
    for fmt in ("csv", "csv-bom", "json", "xlsx"):
        paths += [f"{base}/export?format={fmt}", f"{base}/export?format={fmt}&sort=c4&dir=desc"]
    # Page links with cursors made up to start beside or inside the hidden rows.
    for n in (2, 3, 13, 25):
        for sort, value in (
            ("", None),
            ("&sort=c4", 40000 + 37 * n),
            ("&sort=c4&dir=desc", 40000 + 37 * n),
            ("&sort=c3", f"Hq{n}zed"),
            ("&sort=c5", "1873-01-01"),
        ):
            for way in ("after", "before"):
                cursor = encode_cursor(value, n)
                paths.append(f"{base}?{way}={cursor}{sort}")
                paths.append(f"{api}/rows?{way}={cursor}{sort}")
    for n in range(1, 26):
        paths += [f"{base}/rows/{n}/edit", f"{base}/rows/{n}/history"]
    return paths


@pytest.mark.parametrize("login", ["dana", "vic"])
def test_no_read_gives_a_limited_person_a_hidden_value(app, people, ward, login):
    client = signed_in(app, login)
    answered = 0
    for path in reads(ward.id):
        response = client.get(path)
        assert response.status_code < 500, path
        answered += response.status_code == 200
        found = leaked(path, body_of(response))
        assert found == [], (path, response.status_code, found)
    assert answered > 250, answered
    # The owner sees them all (the check itself finds hidden values where they are).
    owner = signed_in(app, people["editor"].login)
    text = body_of(owner.get(f"/datasets/{ward.id}/export?format=csv"))
    assert len(set(hidden_values_in(text))) > 40


def test_the_rules_find_the_same_rows_by_text_and_by_number(app, ward):
    """Dana's rule (her user name, on a text column) and Vic's (the value 7, typed as text, on
    a whole-number column) both find exactly rows 1, 6, 11, 16 and 21."""
    for login in ("dana", "vic"):
        answer = signed_in(app, login).get(f"/api/v1/datasets/{ward.id}/rows").get_json()
        assert [r["_rowid"] for r in answer["rows"]] == list(OWN), login
        assert answer["total"] == 5
        assert [r["c8"] for r in answer["rows"]] == [7] * 5


def test_a_limited_editor_changes_no_hidden_row_by_any_route(app, ward):
    dana = signed_in(app, "dana")
    base = f"/datasets/{ward.id}"
    before = stored(app, ward)
    for n in HIDDEN_IDS[:6]:
        version = latest(ward)
        fields = {"c2": "dana", "c3": "Taken", "c8": "7", "version": version}
        response = dana.post_form(f"{base}/rows/{n}/edit", fields)
        assert response.status_code == 404, n
        for column, value in (("c3", "Taken"), ("c2", "dana"), ("c8", "7")):
            response = dana.post_form(
                f"{base}/rows/{n}/cell",
                {"column": column, "value": value, "before": "", "version": version},
            )
            assert response.status_code == 400 and "does not exist" in response.get_json()["error"]
            assert hidden_values_in(body_of(response)) == []
        # A list of rows to delete that holds one hidden row: none is deleted.
        response = dana.post_form(
            f"{base}/rows/delete", {"row": ["1", str(n)], "version": version}, follow_redirects=True
        )
        assert f"Row {n:,} does not exist" in body_of(response)
        assert hidden_values_in(body_of(response)) == []
    # A row added outside her rules, or hers edited out of them: refused, nothing changed.
    new = {"c1": "99", "c2": "omar", "c3": "Sneak", "c7": "yes", "c8": "7", "version": latest(ward)}
    response = dana.post_form(f"{base}/rows/new", new)
    assert response.status_code == 400 and "a row you add must be one of them" in body_of(response)
    response = dana.post_form(
        f"{base}/rows/1/cell", {"column": "c2", "value": "omar", "version": latest(ward)}
    )
    assert (
        response.status_code == 400 and "no longer be one of them" in response.get_json()["error"]
    )
    response = dana.post_form(
        f"{base}/rows/1/cell", {"column": "c2", "value": "", "version": latest(ward)}
    )
    assert response.status_code == 400
    assert stored(app, ward) == before
    # Vic may only read: every change is refused.
    vic = signed_in(app, "vic")
    for path, form in (
        (f"{base}/rows/1/edit", {"c3": "X"}),
        (f"{base}/rows/1/cell", {"column": "c3", "value": "X"}),
        (f"{base}/rows/delete", {"row": "1"}),
        (f"{base}/rows/new", {"c2": "dana", "c8": "7"}),
        (f"{base}/about", {"name": "Mine", "description": ""}),
    ):
        assert vic.post_form(path, {**form, "version": latest(ward)}).status_code == 403, path
    assert stored(app, ward) == before


def test_whole_dataset_actions_are_refused_to_a_limited_person(app, people, ward):
    """Deleting the dataset, cleaning it, undo, redo, going back, recipes, the history and
    appending or replacing by import reach every row: refused to a limited person, even one
    whose role may change every dataset it sees."""
    chief = make_role("Chief", ["datasets.edit_all", "datasets.export"])
    make_user("cleo", chief, display_name="Cleo Chief")
    share(ward, by=people["editor"], role=chief)
    row_rules.add_rule(
        ward, role=chief, column="c8", kind="value", values=["7"], data_dir=app.config["DATA_DIR"]
    )
    base = f"/datasets/{ward.id}"
    for login in ("dana", "cleo"):
        Recipe.create(  # one of their own, that the recipes page would offer to run here
            name="Tidy",
            owner=User.get(User.login == login),
            columns=ward.columns,
            steps=json.dumps([{"kind": "trim", "params": {"column": "c3"}}]),
        )
        client = signed_in(app, login)
        page = body_of(client.get(base))
        assert "5 rows" in page and f"{base}/delete" not in page
        response = client.get(f"{base}/delete")
        assert response.status_code == 403 and "25" not in body_of(response), login
        response = client.post_form(f"{base}/delete")
        assert response.status_code == 403, login
        assert Dataset.get_or_none(Dataset.id == ward.id) is not None
        for path in ("undo", "redo", "history/1/go-back", "clean", "recipes"):
            response = client.post_form(f"{base}/{path}", {"version": latest(ward)})
            assert response.status_code == 403, (login, path)
        assert client.get(f"{base}/history").status_code == 403
        assert f"{base}/recipes/" not in body_of(client.get(f"{base}/recipes"))  # no Run
    assert len(stored(app, ward)) == 25 and None not in stored(app, ward).values()


def test_a_refused_change_names_no_value_of_a_hidden_row(app, people, ward):
    """The owner changes a column's type and the summary names values that do not fit, some
    of hidden rows. Dana's change made on the page from before is refused as out of date,
    and the sentence says who changed the dataset and when, not what the change said."""
    data_dir = app.config["DATA_DIR"]
    opened = latest(ward)
    steps.apply_step(
        Dataset.get_by_id(ward.id),
        "cast",
        {"column": "c3", "type": "integer"},
        people["editor"],
        data_dir,
        opened,
    )
    summary = versions.latest(Dataset.get_by_id(ward.id)).summary
    assert "Hq2zed" in summary  # the owner's history says which values did not fit
    dana = signed_in(app, "dana")
    base = f"/datasets/{ward.id}"
    answers = [
        dana.post_form(f"{base}/rows/1/cell", {"column": "c4", "value": "12", "version": opened}),
        dana.post_form(f"{base}/rows/1/edit", {"c4": "12", "c7": "yes", "version": opened}),
        dana.post_form(
            f"{base}/rows/delete", {"row": "1", "version": opened}, follow_redirects=True
        ),
    ]
    for response in answers:
        text = body_of(response)
        assert "Eddie Editor changed this dataset after you opened it" in text, text[-2000:]
        assert hidden_values_in(text) == [] and "to integer" not in text
    assert stored(app, ward)[1]["c4"] == 11
    # The owner, who sees every row, is told what the change was.
    with pytest.raises(versions.Stale, match="Hq2zed"):
        rows.edit_row(ward.id, opened, 1, {"c4": "12"}, people["editor"], data_dir)


def _step(app, people, dataset, kind: str, **params) -> None:
    current = Dataset.get_by_id(dataset.id)
    steps.apply_step(
        current, kind, params, people["editor"], app.config["DATA_DIR"], current.version
    )


def _undo(app, people, dataset) -> None:
    current = Dataset.get_by_id(dataset.id)
    versions.undo(current.id, current.version, people["editor"], app.config["DATA_DIR"])


def seen_ids(app, login: str, dataset) -> list[int]:
    answer = signed_in(app, login).get(f"/api/v1/datasets/{dataset.id}/rows?limit=100")
    return [r["_rowid"] for r in answer.get_json()["rows"]]


def test_a_rule_whose_column_another_takes_over_lets_nobody_see_rows(app, people, ward):
    """Nia's rule is on the last column (note). The owner drops it: she sees nothing. The owner
    then splits the doctor column: a new column takes the dropped one's identifier (c9), and
    its values (“om” for Omar's rows) are those of her rule; she still sees nothing."""
    nia = make_user("nia", "viewer", display_name="Nia Nurse")
    share(ward, by=people["editor"], user=nia)
    row_rules.add_rule(
        ward,
        user=nia,
        column="c9",
        kind="one_of",
        values=["mine1", "om"],
        data_dir=app.config["DATA_DIR"],
    )
    assert seen_ids(app, "nia", ward) == [1]
    _step(app, people, ward, "drop", column="c9")
    assert seen_ids(app, "nia", ward) == []
    _step(app, people, ward, "split", column="c2", delimiter="a")
    columns = columns_of(Dataset.get_by_id(ward.id))
    assert ("c9", "doctor 1") in [(c.name, c.label) for c in columns]
    assert seen_ids(app, "nia", ward) == []
    for path in ("", "/export?format=csv", "/facets/c9", "/summary?by=c9&fn1=count"):
        text = body_of(signed_in(app, "nia").get(f"/datasets/{ward.id}{path}"))
        assert hidden_values_in(text) == [] and "Own1pat" not in text, path
    # The rules page tells the owner why, and what to do.
    page = body_of(signed_in(app, "eddie").get(f"/datasets/{ward.id}/sharing/rules"))
    assert "the column note was renamed or removed since: this rule lets them see no row" in page
    assert "Nia Nurse" in page and "would see 0 of 25 rows" in page
    # Undoing the split and the drop brings the note column back, and her row with it.
    _undo(app, people, ward)
    _undo(app, people, ward)
    assert seen_ids(app, "nia", ward) == [1]


def test_a_renamed_rule_column_closes_the_rule_until_it_is_undone(app, people, ward):
    _step(app, people, ward, "rename", column="c2", label="physician")
    assert seen_ids(app, "dana", ward) == []
    assert body_of(signed_in(app, "dana").get(f"/datasets/{ward.id}")).count("0 rows") >= 1
    assert seen_ids(app, "vic", ward) == list(OWN)  # his rule is on another column
    _undo(app, people, ward)
    assert seen_ids(app, "dana", ward) == list(OWN)


def test_a_rule_follows_its_column_through_a_change_of_type_and_its_undo(app, people, ward):
    """Vic's rule (ward 7) on a whole-number column made text, then back: his rows either
    way. Dana's (her user name) on the doctor column made whole numbers: no name is a number,
    so she sees nothing (never everything); undone, her rows again."""
    _step(app, people, ward, "cast", column="c8", type="text")
    assert seen_ids(app, "vic", ward) == list(OWN)
    _undo(app, people, ward)
    assert seen_ids(app, "vic", ward) == list(OWN)
    _step(app, people, ward, "cast", column="c2", type="integer")
    assert seen_ids(app, "dana", ward) == []
    dana = signed_in(app, "dana")
    assert dana.get(f"/datasets/{ward.id}/rows/1/edit").status_code == 404
    _undo(app, people, ward)
    assert seen_ids(app, "dana", ward) == list(OWN)


def test_a_display_name_rule_follows_a_new_display_name(app, people, ward):
    """Ulla sees the rows whose doctor is her display name. Renamed from “omar” to “dana”,
    she sees Dana's rows at once, with their count (nothing kept from before is reused)."""
    ulla = make_user("ulla", "viewer", display_name="omar")
    share(ward, by=people["editor"], user=ulla)
    row_rules.add_rule(
        ward,
        user=ulla,
        column="c2",
        kind="display_name",
        values=[],
        data_dir=app.config["DATA_DIR"],
    )
    client = signed_in(app, "ulla")
    omars = [n for n in HIDDEN_IDS if n % 2]
    assert seen_ids(app, "ulla", ward) == omars
    assert f"{len(omars)} rows" in body_of(client.get(f"/datasets/{ward.id}"))
    ulla.display_name = "dana"
    ulla.save()
    assert seen_ids(app, "ulla", ward) == list(OWN)
    page = body_of(client.get(f"/datasets/{ward.id}"))
    assert "5 rows" in page and hidden_values_in(page) == []
    facet = client.get(f"/api/v1/datasets/{ward.id}/facets/c2").get_json()
    assert [(i["label"], i["count"]) for i in facet["items"]] == [("dana", 5)]


def test_rules_made_before_labels_were_kept_take_their_columns_label(tmp_path):
    """m0013: a rule made earlier takes its column's label; one whose column is gone, none
    (and so lets nobody see rows)."""
    from server.db import open_database
    from server.migrations import migrate

    data = tmp_path / "old"
    data.mkdir()
    db = open_database(data / "sheaf.db")
    migrate(db, target=12)
    role = db.execute_sql("SELECT id FROM role WHERE builtin = 'viewer'").fetchone()[0]
    db.execute_sql(
        "INSERT INTO user (id, login, login_key, display_name, password_hash, role_id, "
        "session_version, created_at) VALUES (1, 'eddie', 'eddie', 'Eddie', 'x', ?, 'v', "
        "'2026-01-01T00:00:00+00:00')",
        (role,),
    )
    columns = json.dumps(
        [
            {"name": "c1", "label": "doctor", "type": "text"},
            {"name": "c3", "label": "ward", "type": "integer"},
        ]
    )
    db.execute_sql(
        "INSERT INTO dataset (id, name, description, owner_id, storage_key, row_count, columns, "
        "created_at, updated_at) VALUES (1, 'Old', '', 1, 'k', 2, ?, "
        "'2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
        (columns,),
    )
    for column in ("c1", "c2", "c3"):
        db.execute_sql(
            'INSERT INTO row_rule (dataset_id, role_id, "column", kind, created_at) '
            "VALUES (1, ?, ?, 'user_name', '2026-01-02T00:00:00+00:00')",
            (role, column),
        )
    migrate(db)
    found = db.execute_sql('SELECT "column", label FROM row_rule ORDER BY id').fetchall()
    assert found == [("c1", "doctor"), ("c2", None), ("c3", "ward")]
    db.close()


def _replace(app, people, dataset, csv_text: str) -> None:
    """The dataset's rows replaced by ``csv_text``'s, as a replacing import (or one through a
    recipe, whose columns may come in another order) makes them its next version."""
    import secrets
    from pathlib import Path

    from server.datasets.catalog import dataset_file
    from server.datasets.loading.pipeline import load_file

    data_dir = app.config["DATA_DIR"]
    source = Path(data_dir) / "replacement.csv"
    source.write_text(csv_text, encoding="utf-8")
    key = secrets.token_hex(16)
    outcome = load_file(source, dataset_file(data_dir, key))
    with versions.writing(dataset.id) as current:
        versions.commit_file(
            current,
            people["editor"],
            "replace",
            "Rows replaced",
            new_key=key,
            columns=outcome.columns,
            row_count=outcome.result.rows,
            rows_touched=outcome.result.rows,
            audit="dataset.replaced",
        )


def test_a_replacement_keeps_rules_on_the_same_columns_and_closes_them_on_others(app, people, ward):
    """Replaced by a file with the same columns, Dana's rule finds her rows in it. Replaced by
    one whose second column is another (patients first, then doctors), her rule on c2 would
    narrow on patients: it lets her see nothing instead."""
    _replace(app, people, ward, "id,doctor,patient\n1,dana,Ann\n2,omar,Hq2zed\n3,dana,Bo\n")
    assert seen_ids(app, "dana", ward) == [1, 3]
    assert seen_ids(app, "vic", ward) == []  # his column (ward) is gone
    _replace(app, people, ward, "id,patient,doctor\n1,dana,omar\n2,Hq2zed,omar\n3,Bo,dana\n")
    assert seen_ids(app, "dana", ward) == []
    text = body_of(signed_in(app, "dana").get(f"/datasets/{ward.id}/export?format=csv"))
    assert text.strip().splitlines() == ["id,patient,doctor"]


# Views that, on every row, would find only hidden ones: a count of any of them above 0 would
# tell a limited person something of the hidden rows (and a search in halves, their values).
ONLY_HIDDEN = [
    "c4.min=40000",
    "c5.max=1900-01-01",
    "c6.min=5000",
    "c2.in=omar|nils",
    "c8.in=1|2|3|4|5",
    "c9.contains=secret",
    "q=zed",
    "q=secret",
    "c3.eq=Hq2zed",
]


@pytest.mark.parametrize("login", ["dana", "vic"])
def test_no_count_tells_a_limited_person_of_hidden_rows(app, ward, login):
    client = signed_in(app, login)
    base, api = f"/datasets/{ward.id}", f"/api/v1/datasets/{ward.id}"
    assert client.get(api).get_json()["rows"] == 5
    listed = client.get("/api/v1/datasets").get_json()["datasets"]
    assert [d["rows"] for d in listed] == [5]
    assert "5 rows" in body_of(client.get(base))
    for probe in ONLY_HIDDEN:
        assert "0 of 5 rows match" in body_of(client.get(f"{base}?{probe}")), probe
        answer = client.get(f"{api}/rows?{probe}").get_json()
        assert (answer["matching"], answer["total"], answer["rows"]) == (0, 5, []), probe
        assert client.get(f"{api}/facets/c8?{probe}").get_json()["items"] == [], probe
        summary = client.get(f"{api}/summary?by=c2&fn1=count&{probe}").get_json()
        assert summary["rows"] == [], probe
        assert "0 rows where" in body_of(client.get(f"{base}/profile?{probe}")), probe
        chart = body_of(client.get(f"{base}/chart?kind=bar&column=c8&{probe}"))
        assert "0 rows where" in chart, probe
        exported = client.get(f"{base}/export?format=json&{probe}")
        if login == "dana":  # a viewer may not export
            assert json.loads(body_of(exported)) == [], probe
    # Over all their rows: the counts and sums of their five rows, and nothing else.
    summary = client.get(f"{api}/summary?by=c8&fn1=count&fn2=sum&of2=c4&fn3=max&of3=c6")
    assert summary.get_json()["rows"] == [[7, 5, sum(10 + n for n in OWN), 21.5]]


def _profile_when_done(client, base: str) -> str:
    import time

    client.get(f"{base}/profile")
    for _ in range(200):
        if client.get(f"{base}/profile/status").get_json()["status"] == "done":
            break
        time.sleep(0.05)
    return body_of(client.get(f"{base}/profile"))


def test_a_background_profile_reads_only_the_persons_rows(app, ward):
    """A large dataset's profile is worked out in a thread, outside the request: the thread
    reads the connection the request opened for the person, so it holds only their rows."""
    app.config["PROFILE_BACKGROUND_ROWS"] = 1
    base = f"/datasets/{ward.id}"
    page = _profile_when_done(signed_in(app, "dana"), base)
    assert "dana" in page and hidden_values_in(page) == []
    owner = _profile_when_done(signed_in(app, "eddie"), base)
    assert "omar" in owner and "1873" in owner  # the owner's, worked out on every row


def test_a_request_without_a_signed_in_person_reads_no_row(app, ward):
    """Every page needs signing in; were one not to, its connection would see no row (fail
    closed), where a job of Sheaf's own (outside any request) sees them all."""
    from server.datasets.web.access import open_rows

    with app.test_request_context(f"/datasets/{ward.id}"):
        con = open_rows(ward)
        try:
            assert con.execute("SELECT count(*) FROM rows").fetchone() == (0,)
        finally:
            con.close()
    with app.app_context():
        con = open_rows(ward)
        try:
            assert con.execute("SELECT count(*) FROM rows").fetchone() == (25,)
        finally:
            con.close()


def test_a_closed_rule_shows_no_row_anywhere_and_breaks_no_page(app, people, ward):
    """Dana's rule closed (its column renamed): every read answers, with none of the rows."""
    _step(app, people, ward, "rename", column="c2", label="physician")
    client = signed_in(app, "dana")
    for path in reads(ward.id):
        response = client.get(path)
        assert response.status_code < 500, path
        text = body_of(response)
        assert leaked(path, text) == [], path
        assert "mine6" not in text and ("Own1pat" not in text or "Own1pat" in path), path
    assert client.get(f"/api/v1/datasets/{ward.id}").get_json()["rows"] == 0


def test_an_append_planned_before_a_rule_was_made_is_refused(app, people, ward):
    """Olga (no rule) plans to append to the ward; before the import ends, the owner gives
    her a rule. Appending changes rows beyond her rules now: the import fails, nothing added."""
    from pathlib import Path

    from server.datasets.loading import jobs
    from server.importers import Limits, Meter, ReadOptions

    clerk = make_role("Clerk", ["datasets.import"])
    olga = make_user("olga", clerk, display_name="Olga Clerk")
    share(ward, by=people["editor"], user=olga, can_edit=True)
    data_dir = app.config["DATA_DIR"]
    source = Path(data_dir) / "more.csv"
    source.write_text(HEADER + "26,omar,Late,5,2024-03-01,1.5,no,3,x\n", encoding="utf-8")
    job = jobs.receive_path(source, data_dir, olga)
    options = ReadOptions(format="delimited", encoding="utf-8", delimiter=",", header_row=1)
    sample = jobs.preview(job, data_dir, options, Limits())
    plan = jobs.Plan(
        options={"format": "delimited", "encoding": "utf-8", "delimiter": ",", "header_row": 1},
        labels=sample.labels,
        types=[c.type for c in columns_of(ward)],
        name="Ward",
        mode="append",
        target_id=ward.id,
    )
    jobs.check_plan(plan, olga, [ward])
    jobs.queue(job, plan)
    row_rules.add_rule(ward, user=olga, column="c8", kind="value", values=["3"], data_dir=data_dir)
    job = jobs.run(job.id, data_dir, Limits(), Meter(), lambda: False)
    assert job.status == "failed" and "Row rules now let you see only some" in job.message
    assert Dataset.get_by_id(ward.id).row_count == 25 and len(stored(app, ward)) == 25


STORED = {  # what a column of each affinity may hold: fitting values and misfits kept as written
    "integer": st.none()
    | st.integers(-3, 9)
    | st.sampled_from(["7", "07", "7.0", " 7", "x", 2**62])
    | st.floats(-3, 9).map(lambda f: round(f, 1)),
    "real": st.none()
    | st.floats(-3, 9).map(lambda f: round(f, 1))
    | st.integers(-3, 9)
    | st.sampled_from(["7.5", "x"]),
    "boolean": st.none() | st.sampled_from([0, 1, "yes", "x"]),
    "text": st.none() | st.sampled_from(["7", "07", "7.0", "dana", "Dana", " dana", "1", "yes"]),
    "date": st.none() | st.sampled_from(["2024-02-01", "2024-2-1", "2024-02-01 00:00:00", "x"]),
}
TYPED = st.sampled_from(
    ["7", "07", "7.0", "-1", "0", "1", "yes", "no", "dana", "Dana", "2024-02-01", "2024-2-1", "x"]
)


@settings(max_examples=300, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(sorted(STORED)), min_size=1, max_size=3),
    data=st.data(),
)
def test_the_view_and_the_row_check_agree_on_every_row(kinds, data):
    """What a limited person reads (the restricted view, in SQL) and what their changes are
    checked against (``Restriction.allows``, in Python, on the row as stored) are the same rows,
    whatever the columns' types, the values stored (misfits too) and the values typed in rules:
    an editor can never change a row they cannot see, nor be shown one they could not keep."""
    import sqlite3

    from server.datasets.reading.restricted import restrict
    from server.datasets.storage import STORAGE_TYPES, Column

    columns = [Column(f"c{i + 1}", f"col {i + 1}", kind) for i, kind in enumerate(kinds)]
    con = sqlite3.connect(":memory:")
    con.execute(
        "CREATE TABLE rows ("
        + ", ".join(f"{c.name} {STORAGE_TYPES[c.type]}" for c in columns)
        + ")"
    )
    rows = data.draw(
        st.lists(st.tuples(*(STORED[c.type] for c in columns)), min_size=1, max_size=12)
    )
    con.executemany(f"INSERT INTO rows VALUES ({', '.join('?' * len(columns))})", rows)
    clauses = []
    for column in data.draw(st.lists(st.sampled_from(columns), max_size=3)):
        values = []
        for text in data.draw(st.lists(TYPED, min_size=1, max_size=3)):
            try:
                value = rows_module.parse_value(column, text)
            except rows_module.RowError:
                continue
            if value is not None and value not in values:
                values.append(value)
        if values:
            clauses.append((column.name, tuple(values)))
    limit = row_rules.Restriction(tuple(clauses))
    names = [c.name for c in columns]
    stored_rows = {
        r[0]: dict(zip(names, r[1:], strict=True))
        for r in con.execute(f"SELECT rowid, {', '.join(names)} FROM rows")
    }
    allowed = sorted(n for n, row in stored_rows.items() if limit.allows(row))
    restrict(con, limit.clauses)
    seen = [r[0] for r in con.execute("SELECT rowid FROM rows ORDER BY rowid")]
    assert seen == allowed, (rows, clauses)
    con.close()


def test_a_limited_sharer_manages_only_their_own_saved_views(app, people, ward):
    """Whoever manages a dataset's sharing may rename, unshare or delete anyone's saved view;
    Sam may share datasets but is limited by a rule, so he manages no sharing here: the
    owner's shared view stays as it is, while his own is his to change."""
    from server.datasets import saved_views
    from server.datasets.reading.browse import View
    from server.models import SavedView

    sharer = make_role("Sharer", ["datasets.share"])
    sam = make_user("sam", sharer, display_name="Sam Sharer")
    share(ward, by=people["editor"], user=sam)
    row_rules.add_rule(
        ward, user=sam, column="c8", kind="value", values=["7"], data_dir=app.config["DATA_DIR"]
    )
    theirs = saved_views.save_view(people["editor"], ward, "Long visits", View(), None, shared=True)
    his = saved_views.save_view(sam, ward, "Mine", View(), None)
    client = signed_in(app, "sam")
    base = f"/datasets/{ward.id}/views"
    page = body_of(client.get(base))
    assert f"{base}/{his.id}/rename" in page and f"{base}/{theirs.id}/rename" not in page
    for action, form in (("rename", {"name": "Taken"}), ("share", {"shared": "0"}), ("delete", {})):
        assert client.post_form(f"{base}/{theirs.id}/{action}", form).status_code == 403, action
    kept = SavedView.get_by_id(theirs.id)
    assert (kept.name, kept.shared) == ("Long visits", True)
    assert client.post_form(f"{base}/{his.id}/rename", {"name": "Still mine"}).status_code == 302
    assert SavedView.get_by_id(his.id).name == "Still mine"
