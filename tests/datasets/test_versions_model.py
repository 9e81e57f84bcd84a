"""Every change is a version: what a model-based test of the versions found, each on its own,
through the pages where it can be."""

from __future__ import annotations

from server.models import Dataset
from tests.datasets.helpers import stored
from tests.helpers import make_dataset, signed_in


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
