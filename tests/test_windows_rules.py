"""Windows' file rules (tests/windows_rules: a file any process holds cannot be deleted or
renamed; a helper outlives its parent). Each test runs in both modes: on Linux the file goes at
once, under ``SHEAF_WINDOWS_RULES=1`` (``make test-windows-rules``) it must wait without an
error page and without losing data. The first tests check the mode itself."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from server import backup, file_removal
from server.datasets import versions
from server.datasets.catalog import dataset_file, kept_files
from server.datasets.cleaning.steps import apply_step
from server.datasets.loading.helper_process import Helper, shared_flag
from server.db import database
from server.logs import configure_logging
from server.models import Dataset, User
from server.sqlite_files import connect
from tests.helpers import make_app, make_dataset, make_user, signed_in

WINDOWS_RULES = os.environ.get("SHEAF_WINDOWS_RULES") == "1"
mode_only = pytest.mark.skipif(not WINDOWS_RULES, reason="needs SHEAF_WINDOWS_RULES=1")


# --- the mode itself -------------------------------------------------------------------------


@mode_only
def test_the_mode_refuses_what_windows_refuses(tmp_path):
    held = tmp_path / "held.txt"
    held.write_text("x")
    with open(held):
        with pytest.raises(PermissionError) as refused:
            held.unlink()
        assert refused.value.winerror == 32
        with pytest.raises(PermissionError):
            os.replace(held, tmp_path / "elsewhere.txt")
        with pytest.raises(PermissionError):
            import shutil

            shutil.rmtree(tmp_path)
    (tmp_path / "other.txt").write_text("y")
    with pytest.raises(FileExistsError):
        held.rename(tmp_path / "other.txt")  # os.rename never replaces on Windows
    os.replace(held, tmp_path / "other.txt")  # os.replace does, once nothing holds either

    folder = tmp_path / "work"
    folder.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], cwd=folder)
    try:
        time.sleep(0.2)
        with pytest.raises(PermissionError):
            folder.rmdir()  # another process works in it
    finally:
        other.kill()
        other.wait()
    folder.rmdir()


@mode_only
def test_a_helper_keeps_its_dead_parents_id_and_is_not_killed_with_it(tmp_path):
    report, script = tmp_path / "report.txt", tmp_path / "orphan.py"
    script.write_text(_ORPHAN)  # a file: spawn imports the child's function from it
    parent = subprocess.Popen([sys.executable, str(script), str(report)])
    deadline = time.monotonic() + 30
    while not report.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    parent.kill()
    parent.wait()
    time.sleep(1)
    ppid, alive, orphan = report.read_text().splitlines()[-1].split()
    os.kill(int(orphan), 9)
    assert ppid == str(parent.pid), "getppid() keeps the dead parent's id"
    assert alive == "False", "parent_process().is_alive() notices; the orphan still runs"


_ORPHAN = """
import multiprocessing, os, sys, time
def watch(path):
    for _ in range(200):
        alive = multiprocessing.parent_process().is_alive()
        with open(path, "a") as out:
            out.write(f"{os.getppid()} {alive} {os.getpid()}\\n")
        time.sleep(0.1)
if __name__ == "__main__":
    multiprocessing.get_context("spawn").Process(target=watch, args=(sys.argv[1],)).start()
    time.sleep(60)
"""


# --- dataset files a reader holds ----------------------------------------------------------


def _rows(client, dataset_id: int) -> list[dict]:
    answer = client.get(f"/api/v1/datasets/{dataset_id}/rows?limit=1000")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [{k: v for k, v in row.items() if k != "_rowid"} for row in answer.get_json()["rows"]]


def test_a_deleted_dataset_a_reader_holds_goes_when_the_reader_ends(app, editor_client, people):
    dataset = make_dataset(app, people["editor"], "id,name\n1,Ada\n2,Grace\n", "People")
    path = dataset_file(app.config["DATA_DIR"], dataset.storage_key)
    reader = connect(path)  # an export or a backup reading it
    assert reader.execute("SELECT count(*) FROM rows").fetchone() == (2,)
    answer = editor_client.post_form(f"/datasets/{dataset.id}/delete")
    assert answer.status_code == 302, "never an error page for a file still read"
    assert reader.execute("SELECT count(*) FROM rows").fetchone() == (2,)  # reads on
    assert path.exists() == WINDOWS_RULES
    reader.close()
    editor_client.get("/datasets").close()  # after any request the freed file goes
    assert not path.exists()
    assert file_removal.waiting() == set()


def test_pruning_passes_over_a_version_file_being_read(app, editor_client, people, monkeypatch):
    # No pruning thread an earlier test started is woken by these changes (it would hold the
    # lock of dataset 1, its own, and this prune would pass over this dataset 1).
    monkeypatch.setattr(versions, "_prune_soon", [])
    data_dir = app.config["DATA_DIR"]
    dataset = make_dataset(app, people["editor"], "id,name\n1,ada\n2,grace\n", "People")
    for mode in ("upper", "lower", "upper"):
        dataset = Dataset.get_by_id(dataset.id)
        apply_step(
            dataset,
            "case",
            {"column": "c2", "mode": mode},
            people["editor"],
            data_dir,
            dataset.version,
        )
    dataset = Dataset.get_by_id(dataset.id)
    doomed = kept_files(dataset) - versions.needed_keys(dataset, 0, 0)
    assert doomed, "the undo history keeps older files"
    readers = [connect(dataset_file(data_dir, key)) for key in doomed]  # an export of each
    versions.prune(data_dir, 0, 0)  # no PermissionError (Windows): passed over
    assert all(dataset_file(data_dir, k).exists() == WINDOWS_RULES for k in doomed)
    assert _rows(editor_client, dataset.id) == [
        {"c1": 1, "c2": "ADA"},
        {"c1": 2, "c2": "GRACE"},
    ]
    for reader in readers:
        if WINDOWS_RULES:  # (Linux: a WAL file's reader may fail once the file is deleted)
            assert reader.execute("SELECT count(*) FROM rows").fetchone() == (2,)
        reader.close()
    versions.prune(data_dir, 0, 0)  # the next run
    file_removal.retry()
    assert not any(dataset_file(data_dir, k).exists() for k in doomed)
    assert _rows(editor_client, dataset.id)[1] == {"c1": 2, "c2": "GRACE"}


# --- backups ---------------------------------------------------------------------------------


def test_pruning_automatic_backups_waits_for_a_download(app, admin_client):
    data_dir = Path(app.config["DATA_DIR"])
    database.close()
    made = []
    for age in (3, 2, 1):
        path = backup.backups_dir(data_dir) / f"{backup.AUTO_PREFIX}2026010{age}-000000.zip"
        backup.make_backup(data_dir, path)
        os.utime(path, (time.time() - age * 86400,) * 2)
        made.append(path)
    oldest = made[0]
    download = admin_client.get(f"/backups/{oldest.name}", buffered=False)
    assert download.status_code == 200
    first = next(iter(download.response))  # the download has begun and holds the file
    gone = backup.prune_automatic(data_dir, keep=1)  # never an error
    assert made[1] in gone and not made[1].exists()
    assert (oldest in gone) != WINDOWS_RULES and oldest.exists() == WINDOWS_RULES
    body = first + b"".join(download.response)
    assert body == oldest.read_bytes() if oldest.exists() else body[:2] == b"PK"
    download.close()  # the download's end deletes what waited for it
    assert not oldest.exists()


def test_the_restore_swap_waits_for_a_held_file_then_says_so(tmp_path):
    data_dir = tmp_path / "data"
    app = make_app(data_dir)
    eddie = make_user("eddie", "editor")
    make_dataset(app, eddie, "id,name\n1,Ada\n2,Grace\n", "People")
    database.close()
    saved = backup.make_backup(data_dir, tmp_path / "b.zip")
    app = make_app(data_dir)
    make_dataset(app, User.get(User.login == "eddie"), "id,name\n3,Alan\n", "Later")
    database.close()
    backup.stage_restore(saved.path, data_dir)

    holder = open(data_dir / "sheaf.db", "rb")  # noqa: SIM115 (an antivirus scan, a backup tool)
    try:
        if WINDOWS_RULES:
            with pytest.raises(backup.BackupError, match="in use by another program"):
                backup.finish_restore(data_dir, patience=0.5)
            assert (data_dir / "sheaf.db").exists() and backup.restore_pending(data_dir)
            assert (data_dir / "datasets").is_dir(), "what was moved aside is back"
            assert not (data_dir / backup.PREVIOUS_DIR / "datasets").exists()
        # A holder that lets go within the patience: the swap waits for it.
        threading.Timer(1.0, holder.close).start()
        assert backup.finish_restore(data_dir, patience=10) is not None
    finally:
        holder.close()
    app = make_app(data_dir)
    client = signed_in(app, "eddie")
    names = [d.name for d in Dataset.select()]
    assert names == ["People"]
    people = Dataset.get(Dataset.name == "People")
    assert _rows(client, people.id) == [{"c1": 1, "c2": "Ada"}, {"c1": 2, "c2": "Grace"}]


# --- logs ------------------------------------------------------------------------------------


def _log_twice(send, go_on) -> None:
    """In a helper: a record, a wait while the parent rotates the log, another record."""
    logging.getLogger("sheaf.test").warning("helper record one")
    go_on.wait(20)
    logging.getLogger("sheaf.test").warning("helper record two")
    send.send("done")


def test_a_helpers_records_are_written_by_the_parent_across_a_rotation(tmp_path):
    path = configure_logging(tmp_path)
    root = logging.getLogger()
    handler = next(h for h in root.handlers if getattr(h, "baseFilename", None) == str(path))
    try:
        go_on = shared_flag()
        helper = Helper(_log_twice, (go_on,), name="sheaf-test-logs")
        deadline = time.monotonic() + 30
        while "helper record one" not in path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        handler.doRollover()  # while the helper runs: only this process has the file
        go_on.set()
        assert helper.wait() == "done"
        helper.end(grace=10)
    finally:
        root.removeHandler(handler)
        handler.close()
    assert "helper record one" in (path.parent / "sheaf.log.1").read_text()
    assert "helper record two" in path.read_text()
