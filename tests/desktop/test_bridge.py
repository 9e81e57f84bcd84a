"""The native-dialog bridge, with the dialogs replaced by stubs that return a path: the import
then proceeds as in the import issue, and exports land where the save dialog pointed."""

from pathlib import Path

import pytest

from desktop.bridge import Bridge
from server.models import Dataset, ImportJob
from tests.datasets.helpers import preview_form
from tests.desktop.helpers import fake_form_thread
from tests.helpers import make_dataset


class StubWindow:
    def __init__(self, answer):
        self.answer, self.asked = answer, []

    def create_file_dialog(self, kind, **options):
        self.asked.append((kind, options))
        return self.answer


@pytest.fixture
def bridge(app):
    return Bridge(app.extensions["sheaf.picked"])


def test_a_file_chosen_in_the_open_dialog_is_imported(app, editor_client, bridge, tmp_path):
    source = tmp_path / "from-the-dialog.csv"
    source.write_text("id,name\n1,Ada\n2,Grace\n", encoding="utf-8")
    bridge._attach(StubWindow((str(source),)))
    picked = bridge.choose_import_file()
    assert picked["name"] == "from-the-dialog.csv"
    response = editor_client.post_form("/import/picked", {"token": picked["token"]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/preview")
    job_id = int(response.headers["Location"].split("/")[2])
    assert ImportJob.get_by_id(job_id).file_name == "from-the-dialog.csv"
    editor_client.post(f"/import/{job_id}/preview", data=preview_form(editor_client, job_id))
    assert app.extensions["sheaf.imports"].wait(job_id, 30)
    assert ImportJob.get_by_id(job_id).rows == 2 and Dataset.select().count() == 1
    # The token works once, and made-up tokens never.
    again = editor_client.post_form("/import/picked", {"token": picked["token"]})
    assert again.status_code == 404
    assert editor_client.post_form("/import/picked", {"token": "guess"}).status_code == 404


def test_a_cancelled_dialog_changes_nothing(bridge):
    bridge._attach(StubWindow(None))
    assert bridge.choose_import_file() is None
    assert bridge.choose_save_path("x.csv") is None


def test_a_viewer_cannot_use_a_picked_file(app, viewer_client, bridge, tmp_path):
    source = tmp_path / "a.csv"
    source.write_text("a\n1\n")
    bridge._attach(StubWindow([str(source)]))
    token = bridge.choose_import_file()["token"]
    assert viewer_client.post_form("/import/picked", {"token": token}).status_code == 403
    assert ImportJob.select().count() == 0


def test_an_export_is_saved_where_the_save_dialog_pointed(
    app, people, editor_client, bridge, tmp_path
):
    dataset = make_dataset(app, people["editor"], "id,name\n1,=cmd\n", name="Saved")
    target = tmp_path / "chosen" / "out.csv"
    target.parent.mkdir()
    bridge._attach(StubWindow(str(target)))
    place = bridge.choose_save_path("Saved.csv")
    _kind, asked = bridge._window.asked[0]
    assert asked["save_filename"] == "Saved.csv"
    response = editor_client.get(f"/datasets/{dataset.id}/export?format=csv&save={place['token']}")
    assert response.get_json() == {"saved": "out.csv", "folder": str(target.parent)}
    assert target.read_text(encoding="utf-8").splitlines() == ["id,name", "1,'=cmd"]
    assert not Path(f"{target}.part").exists()
    again = editor_client.get(f"/datasets/{dataset.id}/export?format=csv&save={place['token']}")
    assert again.status_code == 404


def test_a_backup_copy_is_saved_where_the_save_dialog_pointed(
    app, people, admin_client, bridge, tmp_path
):
    from server import backup

    data_dir = app.config["DATA_DIR"]
    made = backup.make_backup(data_dir, backup.new_backup_path(data_dir))
    target = tmp_path / "usb" / "office.zip"
    target.parent.mkdir()
    bridge._attach(StubWindow(str(target)))
    place = bridge.choose_save_path(made.path.name)
    response = admin_client.get(f"/backups/{made.path.name}?save={place['token']}")
    assert response.get_json() == {"saved": "office.zip", "folder": str(target.parent)}
    assert target.read_bytes() == made.path.read_bytes()
    assert backup.verify_backup(target, data_dir).datasets == 0


def test_on_winforms_the_dialog_is_shown_on_the_forms_thread(bridge, monkeypatch, tmp_path):
    """WinForms shows a file dialog on the calling thread; called from a server thread it
    hangs. The bridge hands it to the form's thread (Control.Invoke, faked by a thread)."""
    import threading
    from types import SimpleNamespace

    class WinFormsWindow(StubWindow):
        native = SimpleNamespace(InvokeRequired=True)

        def create_file_dialog(self, kind, **options):
            self.thread = threading.get_ident()
            return super().create_file_dialog(kind, **options)

    form_threads = fake_form_thread(monkeypatch, WinFormsWindow.native)
    window = WinFormsWindow((str(tmp_path / "out.csv"),))
    bridge._attach(window)
    assert bridge.choose_save_path("out.csv")["name"] == "out.csv"
    assert form_threads == [window.thread] and window.thread != threading.get_ident()


def test_the_import_problems_are_saved_where_the_save_dialog_pointed(
    app, editor_client, bridge, tmp_path
):
    """pywebview blocks plain downloads, so "Download all as CSV" on the import result asks
    the save dialog (data-native-save) and sends its token, as exports do."""
    import re

    from tests.datasets.helpers import run_import

    job = run_import(
        app, editor_client, b"n\n1\n=HYPERLINK(1)\nx\n", "visits.csv", type_0="integer"
    )
    page = editor_client.get(f"/import/{job.id}").get_data(as_text=True)
    link = re.search(r'<a [^>]*data-native-save="([^"]*)"[^>]*>Download all as CSV</a>', page)
    assert link, "the link does not ask the save dialog"
    assert link.group(1) == "visits-problems.csv"
    plain = editor_client.get(f"/import/{job.id}/problems.csv")  # a browser's download
    assert plain.headers["Content-Disposition"] == "attachment; filename=visits-problems.csv"

    target = tmp_path / "chosen" / "problems.csv"
    target.parent.mkdir()
    bridge._attach(StubWindow(str(target)))
    place = bridge.choose_save_path(link.group(1))
    assert bridge._window.asked[0][1]["save_filename"] == "visits-problems.csv"
    response = editor_client.get(f"/import/{job.id}/problems.csv?save={place['token']}")
    assert response.get_json() == {"saved": "problems.csv", "folder": str(target.parent)}
    assert target.read_bytes() == plain.get_data()  # the same file, BOM and all
    assert "'=HYPERLINK(1)" in target.read_text(encoding="utf-8-sig")
    again = editor_client.get(f"/import/{job.id}/problems.csv?save={place['token']}")
    assert again.status_code == 404  # the token worked once
