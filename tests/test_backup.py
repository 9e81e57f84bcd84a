"""Backups and restores: what a backup holds, that a damaged or foreign file is refused and
changes nothing, that a restore brings the data back exactly (and survives a crash half-way),
the admin pages, the command line and the start-up integrity check."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from desktop.cli import main
from server import backup
from server.audit_trail import record
from server.db import database
from server.migrations import available
from server.models import AuditEvent, Dataset, User
from tests.helpers import PASSWORD, make_app, make_dataset, make_import, make_user, signed_in


def _tree(data_dir: Path) -> dict[str, str]:
    """The dataset files (by the hash of their SQL dump: a copy made with the online backup
    API holds the same rows in other bytes) and the originals (by their bytes) of a folder."""
    found = {}
    for path in sorted((data_dir / "datasets").glob("*.sqlite")):
        con = sqlite3.connect(path)
        try:
            dump = "\n".join(con.iterdump())
        finally:
            con.close()
        found[f"datasets/{path.name}"] = hashlib.sha256(dump.encode()).hexdigest()
    for path in sorted((data_dir / "originals").glob("*")):
        found[f"originals/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def office(tmp_path):
    """A data folder with an admin, an editor and one dataset; the app is closed again."""
    data_dir = tmp_path / "data"
    app = make_app(data_dir)
    make_user("ada", "admin")
    eddie = make_user("eddie", "editor")
    make_dataset(app, eddie, "id,name\n1,Ada\n2,Grace\n", "People")
    make_import(app, eddie, "done", b"id,name\n1,Ada\n")
    database.close()
    return data_dir


def test_a_backup_holds_everything_with_checksums(office, tmp_path):
    info = backup.make_backup(office, tmp_path / "b.zip")
    assert (info.datasets, info.schema_version) == (1, available()[-1].version)
    with zipfile.ZipFile(info.path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = {f["name"] for f in manifest["files"]}
        assert "sheaf.db" in names
        assert {n for n in names if not n.startswith("originals/")} - {"sheaf.db"} == {
            f"datasets/{p.name}" for p in (office / "datasets").glob("*.sqlite")
        }
        assert len([n for n in names if n.startswith("originals/")]) == 1
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
    assert backup.verify_backup(info.path, office).files == len(names)


def _rewrite(source: Path, target: Path, change) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = change(item.filename, old.read(item.filename))
            if data is not None:
                new.writestr(item.filename, data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda n, d: d[:-5] + b"XXXXX" if n.startswith("datasets/") else d,
            r"damaged \(its checksum differs\)",
        ),
        (lambda n, d: None if n == "manifest.json" else d, "has no manifest"),
        (lambda n, d: None if n == "sheaf.db" else d, "does not match its manifest"),
        (
            lambda n, d: d.replace(b'"datasets/', b'"../../evil/') if n == "manifest.json" else d,
            "does not restore",
        ),
    ],
    ids=["flipped-bytes", "no-manifest", "missing-file", "path-escape"],
)
def test_a_damaged_or_foreign_backup_is_refused_and_changes_nothing(
    office, tmp_path, change, message
):
    good = backup.make_backup(office, tmp_path / "good.zip")
    bad = tmp_path / "bad.zip"
    _rewrite(good.path, bad, change)
    before = _tree(office)
    with pytest.raises(backup.BackupError, match=message):
        backup.stage_restore(bad, office)
    assert not backup.restore_pending(office)
    assert not (office / "restore-pending.partial").exists()
    assert _tree(office) == before


def test_files_that_are_not_backups_are_refused(office, tmp_path):
    text = tmp_path / "notes.zip"
    text.write_text("hello")
    with pytest.raises(backup.BackupError, match="not a zip archive"):
        backup.verify_backup(text, office)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "something-else"}))
    with pytest.raises(backup.BackupError, match="not a Sheaf backup"):
        backup.verify_backup(other, office)


def test_a_backup_from_a_newer_sheaf_is_refused(office, tmp_path):
    info = backup.make_backup(office, tmp_path / "b.zip")
    with pytest.raises(backup.BackupError, match="newer Sheaf"):
        backup.verify_backup(info.path, office, schema_now=info.schema_version - 1)


def test_a_restore_brings_the_data_back_exactly(office, tmp_path):
    saved = backup.make_backup(office, tmp_path / "b.zip")
    before = _tree(office)
    key_before = (office / "secret_key").read_text()
    # Changes after the backup: a new account, the dataset deleted.
    app = make_app(office)
    make_user("mallory", "viewer")
    for dataset in Dataset.select():
        (office / "datasets" / f"{dataset.storage_key}.sqlite").unlink()
        dataset.delete_instance(recursive=True)
    database.close()

    backup.stage_restore(saved.path, office)
    app = make_app(office)  # the next start swaps the backup in
    with app.app_context(), database.connection_context():
        assert sorted(u.login for u in User.select()) == ["ada", "eddie"]
        assert [d.name for d in Dataset.select()] == ["People"]
        event = AuditEvent.select().where(AuditEvent.action == "backup.restored").get()
    assert _tree(office) == before
    assert not backup.restore_pending(office)
    assert (office / "secret_key").read_text() != key_before, "old sessions must end"
    before_restore = [p for p in backup.list_backups(office) if "before-restore" in p.name]
    assert len(before_restore) == 1, "the replaced data is kept as a backup"
    assert event.details_dict["previous_data"] == before_restore[0].name
    with zipfile.ZipFile(before_restore[0]) as archive:
        assert not any(n.startswith("datasets/") for n in archive.namelist())


def test_a_restore_interrupted_half_way_finishes_at_the_next_start(office, tmp_path, monkeypatch):
    saved = backup.make_backup(office, tmp_path / "b.zip")
    before = _tree(office)
    backup.stage_restore(saved.path, office)
    real_replace = os.replace
    calls = []

    def crash_on_the_second_half(source, target):
        calls.append(source)
        if "restore-pending" in str(source):
            raise OSError("power cut")
        return real_replace(source, target)

    monkeypatch.setattr(backup.os, "replace", crash_on_the_second_half)
    with pytest.raises(OSError, match="power cut"):
        backup.finish_restore(office)
    monkeypatch.setattr(backup.os, "replace", real_replace)
    assert not (office / "sheaf.db").exists(), "the old data was moved aside"
    backup.finish_restore(office)
    assert _tree(office) == before
    app = make_app(office)
    with app.app_context(), database.connection_context():
        assert sorted(u.login for u in User.select()) == ["ada", "eddie"]


def test_admins_make_verify_and_restore_backups_from_the_pages(office):
    app = make_app(office)
    admin = signed_in(app, "ada")
    response = admin.post_form("/backups/new")
    assert response.status_code == 302
    made = backup.list_backups(office)
    assert len(made) == 1
    page = admin.get("/backups").get_data(as_text=True)
    assert made[0].name in page
    download = admin.get(f"/backups/{made[0].name}")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    verified = admin.post_form(f"/backups/{made[0].name}/verify", follow_redirects=True)
    assert "is sound" in verified.get_data(as_text=True)

    wrong = admin.post_form(
        f"/backups/{made[0].name}/restore", {"confirm": "y", "password": "not it"}
    )
    assert "The password is not right." in wrong.get_data(as_text=True)
    assert not backup.restore_pending(office)
    right = admin.post_form(
        f"/backups/{made[0].name}/restore", {"confirm": "y", "password": PASSWORD}
    )
    assert right.status_code == 302 and backup.restore_pending(office)
    admin.post_form("/backups/restore/cancel")
    assert not backup.restore_pending(office)
    with app.app_context(), database.connection_context():
        actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    for action in (
        "backup.made",
        "backup.saved",
        "backup.verified",
        "backup.restore_refused",
        "backup.restore_scheduled",
        "backup.restore_cancelled",
    ):
        assert action in actions


def test_an_uploaded_file_is_kept_only_if_it_is_a_sound_backup(office, tmp_path):
    app = make_app(office)
    admin = signed_in(app, "ada")
    import io

    refused = admin.post_form(
        "/backups/upload", {"file": (io.BytesIO(b"PK not really"), "holiday.zip")}
    )
    assert refused.status_code == 400
    assert "not a zip archive" in refused.get_data(as_text=True)
    assert backup.list_backups(office) == []
    good = backup.make_backup(office, tmp_path / "good.zip")
    kept = admin.post_form(
        "/backups/upload", {"file": (io.BytesIO(good.path.read_bytes()), "good.zip")}
    )
    assert kept.status_code == 302
    assert [p.name.startswith("sheaf-uploaded-") for p in backup.list_backups(office)] == [True]


def test_the_command_line_backs_up_and_restores(office, tmp_path, capsys):
    target = tmp_path / "nightly.zip"
    assert main(["--data-dir", str(office), "backup", str(target)]) == 0
    assert "1 datasets" in capsys.readouterr().out
    before = _tree(office)
    for path in (office / "datasets").glob("*.sqlite"):
        path.write_bytes(b"overwritten by mistake")
    assert main(["--data-dir", str(office), "restore", str(target)]) == 0
    assert "The data it replaced is kept in" in capsys.readouterr().out
    assert _tree(office) == before
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"nope")
    assert main(["--data-dir", str(office), "restore", str(bogus)]) == 1
    assert "nothing was restored" in capsys.readouterr().err
    assert _tree(office) == before


def test_a_backup_into_a_folder_gets_a_dated_name(office, tmp_path, capsys):
    """What a daily scheduled task runs (Windows has no shell date to build a name)."""
    folder = tmp_path / "nightly"
    folder.mkdir()
    assert main(["--data-dir", str(office), "backup", str(folder)]) == 0
    made = list(folder.iterdir())
    assert len(made) == 1 and re.fullmatch(r"sheaf-\d{4}-\d\d-\d\d-\d{6}\.zip", made[0].name)
    assert made[0].name in capsys.readouterr().out
    assert backup.verify_backup(made[0], office).datasets == 1


def _damage(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.seek(4096 * 2)
        handle.write(os.urandom(4096 * 3))


def test_a_damaged_database_stops_sheaf_and_offers_the_newest_backup(office, tmp_path):
    app = make_app(office)
    with app.app_context(), database.connection_context():
        for n in range(300):  # enough pages that the damage lands inside the tables
            record("test.filler", details={"n": n, "text": "x" * 200})
    database.close()
    newest = backup.make_backup(office, backup.new_backup_path(office))
    _damage(office / "sheaf.db")

    app = make_app(office)
    page = app.test_client().get("/sign-in")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "database is damaged" in text and newest.path.name in text
    assert "restore" in text and "<form" not in text, "only the desktop window may restore"

    desktop = make_app(office, LAUNCH_SECRET="s3cret", LAUNCH_HOST="localhost")
    client = desktop.test_client()
    token = desktop.extensions["sheaf.launch_tokens"].issue()
    assert client.get(f"/launch?token={token}").status_code == 302
    form = client.get("/").get_data(as_text=True)
    assert "<form" in form, "the desktop window may restore"
    token = form.split('name="csrf_token" value="')[1]
    answer = client.post("/damaged/restore-latest", data={"csrf_token": token.split('"')[0]})
    assert answer.status_code == 503 and "restore is ready" in answer.get_data(as_text=True)
    assert backup.restore_pending(office)
    healed = make_app(office)
    assert healed.test_client().get("/sign-in").status_code == 200


def test_automatic_backups_run_when_due_and_keep_the_last_n(office):
    from server.admin.maintenance import start_automatic_backup

    app = make_app(office, BACKUP_KEEP=2)
    for _ in range(3):
        thread = start_automatic_backup(app, delay=0)
        assert thread is not None
        thread.join(30)
        for path in backup.list_backups(office):  # pretend each was made two days ago
            os.utime(path, (path.stat().st_mtime - 2 * 86400,) * 2)
    automatic = [p for p in backup.list_backups(office) if p.name.startswith("sheaf-auto-")]
    assert len(automatic) == 2
    assert start_automatic_backup(make_app(office, BACKUP_AUTOMATIC=False)) is None


def test_the_full_check_names_a_damaged_dataset_file(office):
    app = make_app(office)
    admin = signed_in(app, "ada")
    fine = admin.post_form("/backups/check", follow_redirects=True).get_data(as_text=True)
    assert "All 2 database files pass" in fine
    dataset_file = next((office / "datasets").glob("*.sqlite"))
    dataset_file.write_bytes(dataset_file.read_bytes()[:100] + b"garbage" * 200)
    damaged = admin.post_form("/backups/check", follow_redirects=True).get_data(as_text=True)
    assert f"datasets/{dataset_file.name}" in damaged and "damaged" in damaged
