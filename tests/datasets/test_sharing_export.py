"""Sharing decides who sees a dataset, on every page and in every list; exports are faithful
and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from server.formula_guard import is_risky
from server.models import AuditEvent, Dataset, DatasetShare, Role
from tests.helpers import make_dataset, make_user, signed_in

CORPUS = Path(__file__).parents[1] / "data" / "corpus"


@pytest.fixture
def owned(app, people):
    return make_dataset(
        app, people["editor"], "id,name,amount\n1,Ada,10.5\n2,Grace,-3\n", name="Payroll"
    )


def dataset_paths(dataset_id: int) -> list[str]:
    base = f"/datasets/{dataset_id}"
    return [
        base,
        f"{base}?c2.contains=a",
        f"{base}?sort=c1&dir=desc",
        f"{base}?last=1",
        f"{base}/about",
        f"{base}/sharing",
        f"{base}/delete",
        f"{base}/export?format=csv",
        f"{base}/profile",
        f"{base}/chart?kind=bar&column=c2",
        f"{base}/chart.svg?kind=bar&column=c2",
        f"{base}/clean",
        f"/api/v1/datasets/{dataset_id}",
        f"/api/v1/datasets/{dataset_id}/rows",
    ]


def test_a_viewer_sees_nothing_that_is_not_shared(app, owned, viewer_client):
    for path in dataset_paths(owned.id):
        expected = 403 if "export" in path else 404  # no export permission at all: 403 first
        assert viewer_client.get(path).status_code == expected, path
    assert "Payroll" not in viewer_client.get("/datasets").get_data(as_text=True)
    for path in ["delete", "about", "clean", "undo", "recipes", "sharing"]:
        response = viewer_client.post_form(
            f"/datasets/{owned.id}/{path}", {"name": "x", "kind": "trim", "column": "c2"}
        )
        assert response.status_code == 404, path
    assert Dataset.select().count() == 1 and Dataset.get_by_id(owned.id).name == "Payroll"


def test_sharing_with_a_role_shows_it_read_only(app, owned, people, editor_client):
    viewer_role = Role.get(Role.builtin == "viewer")
    response = editor_client.post_form(
        f"/datasets/{owned.id}/sharing", {"target": f"role:{viewer_role.id}", "rights": "read"}
    )
    assert response.status_code == 302
    vera = signed_in(app, "vera")
    assert "Payroll" in vera.get("/datasets").get_data(as_text=True)
    page = vera.get(f"/datasets/{owned.id}").get_data(as_text=True)
    assert "Grace" in page and "read only" in page and "Rename or describe" not in page
    assert vera.get(f"/datasets/{owned.id}/about").status_code == 403
    assert vera.post_form(f"/datasets/{owned.id}/about", {"name": "Mine"}).status_code == 403
    assert vera.get(f"/datasets/{owned.id}/sharing").status_code == 403
    assert vera.post_form(f"/datasets/{owned.id}/delete").status_code == 403
    assert Dataset.get_by_id(owned.id).name == "Payroll"
    event = AuditEvent.get(AuditEvent.action == "dataset.shared")
    assert event.details_dict == {"with": "role Viewer", "rights": "read"}
    # Revoking takes it away at once.
    share = DatasetShare.get()
    editor_client.post_form(f"/datasets/{owned.id}/sharing/{share.id}/revoke")
    assert vera.get(f"/datasets/{owned.id}").status_code == 404


def test_sharing_with_a_person_with_edit_rights(app, owned, people, editor_client):
    editor_client.post_form(
        f"/datasets/{owned.id}/sharing", {"target": f"user:{people['viewer'].id}", "rights": "edit"}
    )
    vera = signed_in(app, "vera")
    response = vera.post_form(
        f"/datasets/{owned.id}/about", {"name": "Payroll 2026", "description": "Checked"}
    )
    assert response.status_code == 302
    assert Dataset.get_by_id(owned.id).name == "Payroll 2026"
    assert vera.get(f"/datasets/{owned.id}/delete").status_code == 403  # owners delete
    # A person who may not share cannot pass the dataset on.
    assert vera.get(f"/datasets/{owned.id}/sharing").status_code == 403
    page = editor_client.get(f"/datasets/{owned.id}/sharing").get_data(as_text=True)
    assert "Vera Viewer" in page and "Read and change" in page


def test_the_owner_deletes_after_confirming(app, owned, editor_client):
    page = editor_client.get(f"/datasets/{owned.id}/delete").get_data(as_text=True)
    assert "cannot be undone" in page
    assert editor_client.post(f"/datasets/{owned.id}/delete").status_code == 400  # no token
    assert Dataset.select().count() == 1
    assert editor_client.post_form(f"/datasets/{owned.id}/delete").status_code == 302
    assert Dataset.select().count() == 0
    assert list((Path(app.config["DATA_DIR"]) / "datasets").iterdir()) == []
    assert AuditEvent.get(AuditEvent.action == "dataset.deleted").details_dict["name"] == "Payroll"


def test_the_table_view_filters_sorts_and_searches(app, editor_client, people):
    dataset = make_dataset(
        app,
        people["editor"],
        "id,name,amount\n" + "".join(f"{i},name {i},{i * 1.5}\n" for i in range(1, 121)),
    )
    page = editor_client.get(f"/datasets/{dataset.id}?c1.min=100&sort=c3&dir=desc").get_data(
        as_text=True
    )
    assert "21 of 120 rows match" in page
    assert page.index("name 120") < page.index("name 119")
    page = editor_client.get(f"/datasets/{dataset.id}?q=name+7").get_data(as_text=True)
    assert "1 of 120 rows match" in page
    page = editor_client.get(f"/datasets/{dataset.id}?c1.min=ten").get_data(as_text=True)
    assert "is not a whole number" in page and "120 rows" in page
    last = editor_client.get(f"/datasets/{dataset.id}?last=1").get_data(as_text=True)
    assert "name 120" in last and "name 70<" not in last


def read_export(client, dataset_id, fmt, query=""):
    response = client.get(f"/datasets/{dataset_id}/export?format={fmt}{query}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response.get_data()


@pytest.mark.parametrize(
    "name",
    [
        "csv-spectrum__quotes_and_newlines.csv",
        "csv-spectrum__utf8.csv",
        "frictionless__table.tsv",
        "messytables__simple.psv",
    ],
)
def test_exports_of_corpus_datasets_read_back_equal(app, editor_client, people, name):
    source = (CORPUS / "csv" / name).read_text(encoding="utf-8")
    dataset = make_dataset(app, people["editor"], source, name=name)
    from server.datasets.catalog import columns_of, dataset_file
    from tests.helpers import read_rows

    columns = columns_of(dataset)
    stored = [
        r[1:]
        for r in read_rows(
            dataset_file(app.config["DATA_DIR"], dataset.storage_key), columns, 100_000
        )
    ]
    labels = [c.label for c in columns]
    as_text = [["" if v is None else str(v) for v in row] for row in stored]
    exported = list(csv.reader(io.StringIO(read_export(editor_client, dataset.id, "csv").decode())))
    assert exported[0] == labels and exported[1:] == as_text
    bom = read_export(editor_client, dataset.id, "csv-bom")
    assert bom.startswith("\ufeff".encode())
    records = json.loads(read_export(editor_client, dataset.id, "json"))
    assert [list(r.values()) for r in records] == [list(row) for row in stored]
    assert all(list(r) == labels for r in records)
    xlsx = read_export(editor_client, dataset.id, "xlsx")
    import python_calamine_plus as python_calamine

    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(xlsx)).get_sheet_by_index(0)
    grid = sheet.to_python()
    assert grid[0] == labels
    assert [[("" if v is None else v) for v in row] for row in stored] == [
        [
            int(v) if isinstance(v, float) and v.is_integer() and isinstance(s, int) else v
            for v, s in zip(r, row, strict=True)
        ]
        for r, row in zip(grid[1:], stored, strict=True)
    ]


def test_injection_payloads_come_out_neutralised(app, editor_client, people):
    payloads = [
        line
        for line in (CORPUS / "strings" / "payloadbox__csv-payload.txt")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    ]
    payloads += ["-2+3", "@SUM(1,1)", "\tTAB", "\rCR", "+1"]
    body = "note\n" + "".join('"' + p.replace('"', '""') + '"\n' for p in payloads)
    dataset = make_dataset(app, people["editor"], body, name="Payloads")
    from server.datasets.catalog import columns_of

    assert [c.type for c in columns_of(dataset)] == ["text"]
    rows = list(csv.reader(io.StringIO(read_export(editor_client, dataset.id, "csv").decode())))
    assert sum(is_risky(p) for p in payloads) >= 8
    for (value,), original in zip(rows[1:], payloads, strict=True):
        assert value == ("'" + original if is_risky(original) else original), original
    xlsx = read_export(editor_client, dataset.id, "xlsx")
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula cells at all
    import python_calamine_plus as python_calamine

    grid = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(xlsx)).get_sheet_by_index(0)
    for (value,), original in zip(grid.to_python()[1:], payloads, strict=True):
        assert value == ("'" + original if is_risky(original) else original)
    assert json.loads(read_export(editor_client, dataset.id, "json"))[0]["note"] == payloads[0]


def test_negative_numbers_stay_numbers(app, editor_client, people):
    dataset = make_dataset(app, people["editor"], "amount\n-3\n4.5\n")
    rows = list(csv.reader(io.StringIO(read_export(editor_client, dataset.id, "csv").decode())))
    assert rows == [["amount"], ["-3.0"], ["4.5"]]


def test_export_follows_the_view_and_is_audited(app, editor_client, people, owned):
    data = read_export(editor_client, owned.id, "json", "&c2.eq=Grace")
    assert json.loads(data) == [{"id": 2, "name": "Grace", "amount": -3.0}]
    event = AuditEvent.get(AuditEvent.action == "dataset.exported")
    assert event.details_dict == {"format": "json", "view": {"c2.eq": "Grace"}, "rows": 1}
    assert editor_client.get(f"/datasets/{owned.id}/export?format=exe").status_code == 404
    assert editor_client.get(f"/datasets/{owned.id}/export?format=csv&c1.min=x").status_code == 400


def test_a_viewer_with_access_but_no_export_permission_cannot_export(app, owned, people):
    DatasetShare.create(dataset=owned, user=people["viewer"])
    vera = signed_in(app, "vera")
    assert vera.get(f"/datasets/{owned.id}").status_code == 200
    assert vera.get(f"/datasets/{owned.id}/export?format=csv").status_code == 403
    make_user("xena", "editor")  # export permission but no access
    assert signed_in(app, "xena").get(f"/datasets/{owned.id}/export?format=csv").status_code == 404
