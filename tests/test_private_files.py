"""Owner-only files and folders on every system, the local data folder, and a warning for a data
folder on a network share. Windows is simulated: its commands are checked, not run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server import config, private_files
from server.db import database
from tests.helpers import make_app, make_user


@pytest.fixture
def windows(monkeypatch):
    """sys.platform says win32 and every command is recorded instead of run."""
    commands: list[list[str]] = []
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("SYSTEMROOT", r"C:\Windows")
    monkeypatch.setattr(private_files, "_user_sid", lambda: "S-1-5-21-1-2-3-1001")

    def run(command, **kwargs):
        assert kwargs["creationflags"] == private_files.CREATE_NO_WINDOW
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, b"", b"")

    monkeypatch.setattr(subprocess, "run", run)
    return commands


def test_on_windows_the_folder_and_the_secret_key_get_an_owner_and_system_acl(tmp_path, windows):
    folder = config.ensure_data_dir(tmp_path / "Sheaf")
    config.load_secret_key(folder)
    icacls = str(Path(r"C:\Windows", "System32", "icacls.exe"))
    sids = ["*S-1-5-21-1-2-3-1001", "*S-1-5-18"]
    assert windows == [
        [icacls, str(folder), "/inheritance:r", "/grant:r", *(f"{s}:(OI)(CI)F" for s in sids)],
        [
            icacls,
            str(folder / "secret_key"),
            "/inheritance:r",
            "/grant:r",
            *(f"{s}:F" for s in sids),
        ],
    ]
    windows.clear()
    config.ensure_data_dir(folder)  # an existing folder: no process at every start
    config.load_secret_key(folder)
    assert windows == []


def test_on_windows_an_acl_that_cannot_be_set_is_an_error(tmp_path, monkeypatch, windows):
    def refuse(command, **kwargs):
        raise subprocess.CalledProcessError(5, command)

    monkeypatch.setattr(subprocess, "run", refuse)
    with pytest.raises(OSError, match="cannot limit"):
        private_files.make_private(tmp_path, folder=True)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_elsewhere_modes_do_it(tmp_path):
    folder = config.ensure_data_dir(tmp_path / "Sheaf")
    config.load_secret_key(folder)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_default_folder_is_local_but_an_earlier_roaming_one_is_kept(tmp_path, monkeypatch):
    import platformdirs

    def user_data_dir(name, appauthor, roaming):
        return str(tmp_path / ("Roaming" if roaming else "Local") / name)

    monkeypatch.setattr(platformdirs, "user_data_dir", user_data_dir)
    assert config.default_data_dir() == tmp_path / "Local" / "Sheaf"
    (tmp_path / "Roaming" / "Sheaf").mkdir(parents=True)
    (tmp_path / "Roaming" / "Sheaf" / "sheaf.db").write_bytes(b"")
    assert config.default_data_dir() == tmp_path / "Roaming" / "Sheaf"  # nothing is lost
    (tmp_path / "Local" / "Sheaf").mkdir(parents=True)
    assert config.default_data_dir() == tmp_path / "Local" / "Sheaf"


def test_a_folder_on_a_network_file_system_is_recognised(tmp_path):
    mounts = [("/", "ext4"), ("/mnt/office", "cifs"), ("/mnt/office/local", "ext4"),
              ("/srv/nfs", "nfs4")]  # fmt: skip
    find = private_files._mounted_on_network
    assert find(Path("/mnt/office/Sheaf"), mounts) == "cifs"
    assert find(Path("/srv/nfs"), mounts) == "nfs4"
    assert find(Path("/mnt/office/local/Sheaf"), mounts) is None  # the deepest mount decides
    assert find(Path("/mnt/officex/Sheaf"), mounts) is None
    assert find(tmp_path, private_files._mounts()) is None  # this test's own disk


def test_admins_are_warned_of_a_data_folder_on_a_share(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(private_files, "network_share", lambda path: "cifs")
    app = make_app(tmp_path / "data")
    with app.app_context(), database.connection_context():
        make_user("root", "admin")
        make_user("ed", "editor")
    for login, warned in (("root", True), ("ed", False)):
        client = app.test_client()
        client.sign_in(login)
        page = client.get("/").get_data(as_text=True)
        assert ("is on a cifs" in page) is warned, login
    assert "SQLite cannot keep it safe there" in caplog.text
