"""The desktop window opens under a virtual screen (Xvfb) and shows the set-up page."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.desktop


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
        screenshot(display, "desktop-first-run")
    finally:
        process.terminate()
        process.wait(20)
