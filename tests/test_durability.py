"""What reaches the disk, and how, on each system: macOS's fsync stops at the drive's cache, so
Sheaf asks for F_FULLFSYNC there, in SQLite (pragmas) and where it syncs files itself."""

from __future__ import annotations

import json
import os
import sys

import pytest

from server import sqlite_files
from server.db import database


def test_sheaf_db_and_dataset_files_ask_sqlite_for_full_syncs(app, tmp_path):
    with app.app_context(), database.connection_context():
        pragmas = {p: database.execute_sql(f"PRAGMA {p}").fetchone()[0] for p in
                   ("fullfsync", "checkpoint_fullfsync", "synchronous")}  # fmt: skip
    assert pragmas == {"fullfsync": 1, "checkpoint_fullfsync": 1, "synchronous": 2}
    con = sqlite_files.connect(tmp_path / "d.sqlite")
    try:
        assert con.execute("PRAGMA fullfsync").fetchone()[0] == 1
        assert con.execute("PRAGMA checkpoint_fullfsync").fetchone()[0] == 1
    finally:
        con.close()


@pytest.mark.skipif(not hasattr(os, "O_DIRECTORY"), reason="POSIX folders")
def test_on_macos_files_are_synced_with_f_fullfsync(monkeypatch, tmp_path):
    import fcntl

    calls = []
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(fcntl, "F_FULLFSYNC", 51, raising=False)
    monkeypatch.setattr(fcntl, "fcntl", lambda fd, op: calls.append(op))
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append("fsync"))
    (tmp_path / "new").write_bytes(b"x")
    sqlite_files.durable_rename(tmp_path / "new", tmp_path / "file")
    assert calls == [51, 51]  # the file, then its folder: never the plain fsync
    assert (tmp_path / "file").read_bytes() == b"x"

    def refuse(fd, op):
        raise OSError("not supported on this file system")

    calls.clear()
    monkeypatch.setattr(fcntl, "fcntl", refuse)
    (tmp_path / "new").write_bytes(b"y")
    sqlite_files.durable_rename(tmp_path / "new", tmp_path / "file")
    assert calls == ["fsync", "fsync"]  # a share without it: fsync at least


def test_settings_json_has_plain_line_ends(app, tmp_path):
    from server.admin.settings_page import save_settings

    save_settings(tmp_path, {"TYPE_THRESHOLD": 90})
    raw = (tmp_path / "settings.json").read_bytes()
    assert b"\r" not in raw and json.loads(raw) == {"type_threshold": 90}
