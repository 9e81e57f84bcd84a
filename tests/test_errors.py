"""Error pages: in the app's style, with a message for a person and never a traceback."""

import pytest
from werkzeug.exceptions import BadRequest, Forbidden

from tests.helpers import make_app, make_user, signed_in


def test_404_page(admin_client):
    response = admin_client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Not found" in page and 'href="/assets/css/sheaf.css"' in page


def test_403_page(viewer_client):
    response = viewer_client.get("/people")
    assert response.status_code == 403
    assert "Your role does not allow this." in response.get_data(as_text=True)


def test_405_page(viewer_client):
    response = viewer_client.get("/sign-out")
    assert response.status_code == 405
    assert "cannot be used that way" in response.get_data(as_text=True)


def test_413_page(tmp_path):
    app = make_app(tmp_path / "d", MAX_CONTENT_LENGTH=2048)
    make_user("vera")
    client = signed_in(app, "vera")
    response = client.post_form("/account", {"display_name": "x" * 5000})
    assert response.status_code == 413
    assert "larger than this Sheaf accepts" in response.get_data(as_text=True)


@pytest.fixture
def broken_app(tmp_path):
    app = make_app(tmp_path / "d")
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.route("/bad")
    def bad():
        raise BadRequest()

    @app.route("/forbidden")
    def forbidden():
        raise Forbidden()

    make_user("vera")
    return app


def test_500_page_hides_the_details_and_logs_them(broken_app, caplog):
    client = signed_in(broken_app, "vera")
    response = client.get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "secret internals" not in page
    assert "Traceback" not in page
    assert any("secret internals" in str(r.exc_info) for r in caplog.records if r.exc_info)


def test_400_page(broken_app):
    client = signed_in(broken_app, "vera")
    response = client.get("/bad")
    assert response.status_code == 400
    assert "could not understand" in response.get_data(as_text=True)


def test_a_full_disk_during_a_cleaning_step_says_so_and_loses_nothing(app, monkeypatch):
    """Round one answered a generic 500 that hid "cannot rollback" behind the full disk."""
    import sqlite3

    from server.datasets.cleaning import steps
    from server.models import Dataset
    from tests.helpers import make_dataset, make_user, signed_in

    editor = make_user("eddie", "editor")
    dataset = make_dataset(app, editor, "id,name\n1, Ada\n", "Full")
    real = steps.OPERATIONS["trim"]

    def full(con, columns, params):
        real(con, columns, params)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setitem(steps.OPERATIONS, "trim", full)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = signed_in(app, "eddie")
    response = client.post_form(
        f"/datasets/{dataset.id}/clean", {"kind": "trim", "column": "c2", "version": "1"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 507 and "The disk is full" in page
    assert "nothing is lost" in page
    current = Dataset.get_by_id(dataset.id)
    assert current.version == 1 and current.storage_key == dataset.storage_key
    files = list((app.config["DATA_DIR"] / "datasets").iterdir())
    assert [f.name for f in files] == [f"{dataset.storage_key}.sqlite"]  # no partial left


def test_a_full_disk_during_a_backup_says_so(app, monkeypatch):
    import errno

    from server import backup
    from tests.helpers import make_user, signed_in

    make_user("ada", "admin")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup, "make_backup", full)
    admin = signed_in(app, "ada")
    response = admin.post_form("/backups/new", {})
    assert response.status_code == 302
    page = admin.get("/backups").get_data(as_text=True)
    assert "The backup could not be made: the disk is full" in page
    assert list((app.config["DATA_DIR"] / "backups").glob("*")) == []
