"""One Sheaf per data folder, whether window or server; the lock goes with the process."""

import os
import subprocess
import sys
import time

import pytest

from desktop.cli import main
from server.folder_lock import FolderInUse, lock_data_folder


def test_a_second_lock_on_the_same_folder_is_refused(tmp_path):
    held = lock_data_folder(tmp_path)
    with pytest.raises(FolderInUse, match="already open"):
        lock_data_folder(tmp_path)
    held.close()
    lock_data_folder(tmp_path).close()  # free again


def test_a_second_sheaf_says_so_and_stops(tmp_path, capsys):
    server = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", "--data-dir", str(tmp_path), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            "SHEAF_ARGON2_TIME_COST": "1",
            "SHEAF_ARGON2_MEMORY_COST": "8",
            "SHEAF_ARGON2_PARALLELISM": "1",
            "PATH": os.defpath,
            # Windows cannot start Python without it (sockets, random numbers).
            **{k: os.environ[k] for k in ("SYSTEMROOT",) if k in os.environ},
        },
    )
    try:
        assert "is serving" in server.stdout.readline()
        assert main(["--data-dir", str(tmp_path), "serve", "--port", "0"]) == 2
        assert "Sheaf is already open for" in capsys.readouterr().err
    finally:
        server.kill()
        server.wait(10)
    time.sleep(0.1)
    lock_data_folder(tmp_path).close()  # a killed Sheaf leaves no lock behind
