"""Desktop-test fixtures: a virtual screen for the window tests, and an app locked to the
desktop window. Plain helpers live in tests/desktop/helpers.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.desktop.helpers import HOST, SECRET
from tests.helpers import make_app, make_user


@pytest.fixture
def display():
    """An Xvfb screen of its own for this test (skipped, naming the package, without Xvfb)."""
    if not shutil.which("Xvfb"):
        pytest.skip("needs Xvfb: apt-get install xvfb")
    number = 90 + os.getpid() % 9
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    yield f":{number}"
    server.terminate()
    server.wait(10)


@pytest.fixture
def desktop(tmp_path):
    """An app that answers only the desktop window (launch secret and host)."""
    app = make_app(tmp_path / "d", LAUNCH_SECRET=SECRET, LAUNCH_HOST=HOST)
    make_user("vera")
    return app
