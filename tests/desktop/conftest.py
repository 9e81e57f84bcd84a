"""A virtual screen for the window tests, and screenshots of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from ..conftest import ARTIFACTS


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


def screenshot(display: str, name: str) -> None:
    """Save the whole screen to tests/artifacts/<name>.png after the page has painted
    (ImageMagick's `import`; nothing when it is missing)."""
    time.sleep(1.5)
    if not shutil.which("import"):
        return
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    subprocess.run(["import", "-display", display, "-window", "root", str(shot)], check=True)
    assert shot.stat().st_size > 10_000
