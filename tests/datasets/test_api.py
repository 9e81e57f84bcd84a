"""The JSON API: the same reads as the pages, behind the same checks."""

from server.models import DatasetShare
from tests.helpers import make_dataset, signed_in


def test_lists_only_visible_datasets(app, people, editor_client, viewer_client):
    mine = make_dataset(app, people["editor"], name="Mine")
    make_dataset(app, people["admin"], name="Not mine")
    names = [d["name"] for d in editor_client.get("/api/v1/datasets").get_json()["datasets"]]
    assert names == ["Mine"]
    assert viewer_client.get("/api/v1/datasets").get_json() == {"datasets": []}
    DatasetShare.create(dataset=mine, user=people["viewer"])
    listed = viewer_client.get("/api/v1/datasets").get_json()["datasets"]
    assert [(d["name"], d["access"]) for d in listed] == [("Mine", "read")]
    assert listed[0]["columns"] == [
        {"name": "c1", "label": "id", "type": "integer"},
        {"name": "c2", "label": "name", "type": "text"},
    ]


def test_rows_with_filters_sort_and_keyset_pages(app, people, editor_client):
    body = "n,word\n" + "".join(f"{i},w{i % 3}\n" for i in range(1, 11))
    dataset = make_dataset(app, people["editor"], body)
    url = f"/api/v1/datasets/{dataset.id}/rows?c2.eq=w1&sort=c1&dir=desc&limit=2"
    first = editor_client.get(url).get_json()
    assert [r["c1"] for r in first["rows"]] == [10, 7]
    assert first["matching"] == 4 and first["total"] == 10 and first["prev"] is None
    second = editor_client.get(f"{url}&after={first['next']}").get_json()
    assert [r["c1"] for r in second["rows"]] == [4, 1] and second["next"] is None
    back = editor_client.get(f"{url}&before={second['prev']}").get_json()
    assert [r["c1"] for r in back["rows"]] == [10, 7]


def test_errors_are_json(app, people, editor_client, viewer_client):
    dataset = make_dataset(app, people["editor"])
    response = editor_client.get(f"/api/v1/datasets/{dataset.id}/rows?c1.min=x")
    assert response.status_code == 400 and "not a whole number" in response.get_json()["error"]
    assert editor_client.get(f"/api/v1/datasets/{dataset.id}/rows?limit=0").status_code == 400
    response = viewer_client.get(f"/api/v1/datasets/{dataset.id}/rows")
    assert response.status_code == 404 and response.get_json() == {"error": "Not found."}
    assert app.test_client().get("/api/v1/datasets").get_json() == {"error": "Sign in first."}


def test_a_locked_session_gets_401_not_data(app, people):
    import time

    client = signed_in(app, "eddie")
    with client.session_transaction() as session:
        session["seen"] = time.time() - 3600
    response = client.get("/api/v1/datasets")
    assert response.status_code == 401 and "locked" in response.get_json()["error"]


def test_numbers_beyond_64_bits_are_refused_not_crashed_on(app, people, editor_client):
    import base64
    import json

    dataset = make_dataset(app, people["editor"], "id,name\n1,Ada\n2,Grace\n")
    rows = f"/api/v1/datasets/{dataset.id}/rows"
    huge = editor_client.get(f"{rows}?c1.min=1{'0' * 27}")
    assert huge.status_code == 400 and "beyond any whole number" in huge.get_json()["error"]
    cursor = base64.urlsafe_b64encode(json.dumps([1, 10**30]).encode()).decode()
    damaged = editor_client.get(f"{rows}?after={cursor}")
    assert damaged.status_code == 400 and "damaged" in damaged.get_json()["error"]
    page = editor_client.get(f"/datasets/{dataset.id}?c1.min=1{'0' * 27}")
    assert page.status_code == 400 or "beyond any whole number" in page.get_data(as_text=True)
