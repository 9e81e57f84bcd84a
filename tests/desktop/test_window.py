"""The desktop window opens under a virtual screen (Xvfb) and shows the set-up page."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import ARTIFACTS

pytestmark = pytest.mark.desktop


@pytest.fixture
def display():
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


def test_window_opens_on_the_setup_page(tmp_path: Path, display: str):
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Sheaf window loaded" in line or "cannot open its window" in line:
                break
        text = "".join(output)
        if "cannot open its window" in text:
            pytest.skip(
                f"no Qt window here ({text.strip().splitlines()[-1]}); "
                "install Qt's X11 libraries, e.g. apt-get install libxcb-cursor0 libnss3"
            )
        assert "Sheaf window loaded http://127.0.0.1:" in text, text
        time.sleep(1.5)  # let the page paint
        if shutil.which("import"):
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "desktop-first-run.png"
            subprocess.run(
                ["import", "-display", display, "-window", "root", str(shot)], check=True
            )
            assert shot.stat().st_size > 10_000
    finally:
        process.terminate()
        process.wait(20)
