"""A backup is checked for what it holds, not for what its manifest claims: crafted backups
(built here, with a manifest whose checksums match) that name files outside the data folder,
hold a newer schema or unusable settings, or would unpack more than the disk holds are refused
and change nothing; Sheaf never joins a key it did not make into a path at run time either;
backup files are the owner's alone and uploads never share a name."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server import backup
from server.datasets.catalog import dataset_file
from server.db import database
from server.file_keys import BadKey, key_path
from server.models import Dataset, ImportJob
from tests.helpers import make_app, make_dataset, make_import, make_user, signed_in

OUTSIDE = "../../outside"  # from datasets/ or originals/: beside the data folder


@pytest.fixture
def office(tmp_path):
    """A data folder with an admin, an editor, one dataset and one import; the app closed."""
    data_dir = tmp_path / "data"
    app = make_app(data_dir)
    make_user("ada", "admin")
    eddie = make_user("eddie", "editor")
    make_dataset(app, eddie, "id,name\n1,Ada\n2,Grace\n", "People")
    make_import(app, eddie, "done", b"id,name\n1,Ada\n")
    database.close()
    return data_dir


@pytest.fixture
def outside(tmp_path) -> Path:
    """A file beside the data folder that a crafted key points at."""
    path = tmp_path / "outside.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE rows (c1, c2)")
    con.execute("INSERT INTO rows VALUES (1, 'SECRET-OUTSIDE')")
    con.commit()
    con.close()
    return path


def craft(good: Path, target: Path, sql: str = "", files: dict[str, bytes] | None = None) -> Path:
    """``good`` with ``sql`` run on its database and ``files`` added or replaced, under a new
    manifest whose sizes and checksums match (the manifest's schema kept as it was)."""
    with zipfile.ZipFile(good) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        contents = {e["name"]: archive.read(e["name"]) for e in manifest["files"]}
    if sql:
        scratch = target.with_suffix(".db")
        scratch.write_bytes(contents["sheaf.db"])
        con = sqlite3.connect(scratch)
        con.execute("PRAGMA journal_mode = DELETE")
        con.executescript(sql)
        con.close()
        contents["sheaf.db"] = scratch.read_bytes()
        scratch.unlink()
    contents.update(files or {})
    manifest["files"] = [
        {"name": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
        for n, d in contents.items()
    ]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", json.dumps(manifest))
    return target


def _refused(office: Path, crafted: Path, message: str) -> None:
    before = sorted(str(p.relative_to(office)) for p in office.rglob("*"))
    with pytest.raises(backup.BackupError, match=message):
        backup.stage_restore(crafted, office)
    assert not backup.restore_pending(office)
    assert sorted(str(p.relative_to(office)) for p in office.rglob("*")) == before
    app = make_app(office)  # and Sheaf still starts on its own data
    assert app.test_client().get("/sign-in").status_code == 200
    database.close()


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE dataset SET storage_key = '{OUTSIDE}'",
        f"UPDATE dataset_version SET file_key = '{OUTSIDE}'",
        "UPDATE dataset_version SET previous_file_key = '/etc/passwd'",
        f"UPDATE import_job SET original_key = '{OUTSIDE}.sqlite'",
        "UPDATE dataset SET storage_key = 'ABCDEF' || substr(storage_key, 7)",
        "UPDATE import_job SET original_key = original_key || '/'",
    ],
    ids=["dataset", "version", "previous-version", "import", "upper-case", "trailing-slash"],
)
def test_a_backup_whose_database_names_a_file_sheaf_does_not_make_is_refused(
    office, tmp_path, outside, sql
):
    good = backup.make_backup(office, tmp_path / "good.zip")
    crafted = craft(good.path, tmp_path / "crafted.zip", sql)
    _refused(office, crafted, "names a file Sheaf does not make")
    assert outside.exists()


def test_a_database_newer_than_its_manifest_says_is_refused(office, tmp_path):
    good = backup.make_backup(office, tmp_path / "good.zip")
    crafted = craft(
        good.path,
        tmp_path / "crafted.zip",
        "INSERT INTO schema_version VALUES (99, 'future', '2030-01-01T00:00:00+00:00')",
    )
    with zipfile.ZipFile(crafted) as archive:
        assert json.loads(archive.read("manifest.json"))["schema_version"] == good.schema_version
    _refused(office, crafted, r"newer Sheaf \(schema 99")
    with pytest.raises(backup.BackupError, match="newer Sheaf"):
        backup.verify_backup(crafted, office, schema_now=good.schema_version)


@pytest.mark.parametrize(
    "settings",
    [b'{"idle_lock_minutes": 0}', b'{"no_such_setting": 1}', b"not json", b"[1, 2]"],
    ids=["out-of-bounds", "unknown", "not-json", "not-an-object"],
)
def test_a_backup_whose_settings_sheaf_would_refuse_is_refused(office, tmp_path, settings):
    good = backup.make_backup(office, tmp_path / "good.zip")
    crafted = craft(good.path, tmp_path / "crafted.zip", files={"settings.json": settings})
    _refused(office, crafted, "settings cannot be used")


@pytest.fixture
def unpacked(monkeypatch) -> list[str]:
    """The names of the entries unpacked (none may be, when sizes are refused)."""
    names: list[str] = []
    real = backup._extract_checked

    def spy(archive, entry, root):
        names.append(entry["name"])
        return real(archive, entry, root)

    monkeypatch.setattr(backup, "_extract_checked", spy)
    return names


def test_a_settings_file_too_large_to_be_genuine_is_never_unpacked(office, tmp_path, unpacked):
    good = backup.make_backup(office, tmp_path / "good.zip")
    huge = b'{"idle_lock_minutes": 15' + b" " * (2 * 1024 * 1024) + b"}"
    crafted = craft(good.path, tmp_path / "crafted.zip", files={"settings.json": huge})
    _refused(office, crafted, "too large to be genuine")
    assert unpacked == []


def test_a_backup_larger_than_the_free_disk_is_never_unpacked(
    office, tmp_path, unpacked, monkeypatch
):
    good = backup.make_backup(office, tmp_path / "good.zip")
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=100 * 1024**2))
    with pytest.raises(backup.BackupError, match=r"needs .* GiB"):
        backup.stage_restore(good.path, office)
    assert unpacked == [] and not backup.restore_pending(office)


def test_an_entry_bigger_than_its_manifest_says_is_never_unpacked(office, tmp_path, unpacked):
    good = backup.make_backup(office, tmp_path / "good.zip")
    crafted = tmp_path / "crafted.zip"
    with zipfile.ZipFile(good.path) as old, zipfile.ZipFile(crafted, "w") as new:
        manifest = json.loads(old.read("manifest.json"))
        for entry in manifest["files"]:
            new.writestr(entry["name"], old.read(entry["name"]))
            if entry["name"] == "sheaf.db":
                entry["size"] //= 2  # the zip says twice as much: a bomb would say far more
        new.writestr("manifest.json", json.dumps(manifest))
    _refused(office, crafted, "sheaf.db in this backup does not match its manifest")
    assert unpacked == []


# --- at run time --------------------------------------------------------------------------------


def test_keys_become_paths_only_when_sheaf_made_them(tmp_path):
    assert key_path(tmp_path, "0" * 32, ".sqlite") == tmp_path / f"{'0' * 32}.sqlite"
    for bad in ["../x", "/etc/passwd", "A" * 32, "0" * 31, "0" * 33, "0" * 31 + "/", None, 7]:
        with pytest.raises(BadKey):
            key_path(tmp_path, bad)


def test_a_dataset_with_a_foreign_key_reads_and_deletes_nothing_outside(office, outside):
    app = make_app(office)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the error page, as people get it
    with app.app_context(), database.connection_context():
        dataset = Dataset.get()
        Dataset.update(storage_key=OUTSIDE).where(Dataset.id == dataset.id).execute()
    editor = signed_in(app, "eddie")
    page = editor.get(f"/datasets/{dataset.id}")
    assert page.status_code == 500 and b"SECRET-OUTSIDE" not in page.data
    exported = editor.get(f"/datasets/{dataset.id}/export?format=csv")
    assert exported.status_code == 500 and b"SECRET-OUTSIDE" not in exported.data
    editor.post_form(f"/datasets/{dataset.id}/delete")
    assert outside.exists(), "deleting the dataset must not delete a file outside"
    with pytest.raises(BadKey):
        dataset_file(office, OUTSIDE)
    database.close()


def test_a_start_never_deletes_an_import_file_outside_the_data_folder(office, tmp_path):
    victim = tmp_path / "outside.txt"
    victim.write_text("keep me")
    app = make_app(office)
    with app.app_context(), database.connection_context():
        job = ImportJob.get()
        ImportJob.update(original_key="../../outside.txt", status="running").execute()
    database.close()
    make_app(office)  # the next start fails the interrupted import and cleans up
    assert victim.read_text() == "keep me"
    with database.connection_context():
        assert ImportJob.get_by_id(job.id).status == "failed"
    database.close()


# --- the files themselves ---------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_backup_files_and_what_a_restore_unpacks_are_the_owners_alone(office, tmp_path):
    old_umask = os.umask(0o022)
    try:
        made = backup.make_backup(office, backup.new_backup_path(office))
        assert _mode(made.path) == 0o600
        backup.stage_restore(made.path, office)
        unpacked = [p for p in (office / backup.PENDING_DIR).rglob("*") if p.is_file()]
        assert unpacked and {_mode(p) for p in unpacked} == {0o600}
        backup.cancel_restore(office)
        app = make_app(office)
        admin = signed_in(app, "ada")
        kept = admin.post_form(
            "/backups/upload", {"file": (io.BytesIO(made.path.read_bytes()), "b.zip")}
        )
        assert kept.status_code == 302
        uploaded = [p for p in backup.list_backups(office) if p.name.startswith("sheaf-uploaded")]
        assert [_mode(p) for p in uploaded] == [0o600]
    finally:
        os.umask(old_umask)
        database.close()


def test_two_uploads_in_the_same_second_keep_two_backups(office, tmp_path, monkeypatch):
    import server.admin.backup_routes as routes

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    monkeypatch.setattr(routes, "datetime", Frozen)
    monkeypatch.setattr(backup, "datetime", Frozen)
    good = backup.make_backup(office, tmp_path / "good.zip")
    app = make_app(office)
    admin = signed_in(app, "ada")
    for _ in range(2):
        kept = admin.post_form(
            "/backups/upload", {"file": (io.BytesIO(good.path.read_bytes()), "good.zip")}
        )
        assert kept.status_code == 302
    uploaded = [p for p in backup.list_backups(office) if p.name.startswith("sheaf-uploaded-")]
    assert len(uploaded) == 2
    assert all("20300102-030405" in p.name for p in uploaded)
    database.close()
