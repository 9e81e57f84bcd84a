"""The packaged app (dist/Sheaf, from `make package` or `make test-package`) starts as a person
would start it: headless it serves and answers its set-up page; under Xvfb its window opens."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from .conftest import screenshot

BINARY = Path(__file__).parents[2] / "dist" / "Sheaf" / "Sheaf"
pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(not BINARY.exists(), reason="no dist/Sheaf: run `make test-package`"),
]


def _start(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BINARY), "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _wait_for(process: subprocess.Popen, pattern: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if re.search(pattern, line):
            return line
    raise AssertionError("".join(seen))


def test_headless_it_serves_its_setup_page_to_the_launch_link(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = _start(tmp_path, env)
    try:
        line = _wait_for(process, r"http://127\.0\.0\.1:\d+/launch\?token=\S+")
        link = re.search(r"http://127\.0\.0\.1:\d+/launch\?token=\S+", line).group(0)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(link, timeout=10) as page:
            assert page.status == 200 and page.url.endswith("/setup")
            assert "Welcome to Sheaf" in page.read().decode()
        bare = link.split("/launch")[0] + "/setup"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bare, timeout=10)
        assert refused.value.code == 403
    finally:
        process.terminate()
        process.wait(20)


def test_under_xvfb_its_window_opens(tmp_path, display):
    process = _start(tmp_path, {**os.environ, "DISPLAY": display})
    try:
        _wait_for(process, r"Sheaf window loaded http://127\.0\.0\.1:\d+/")
        screenshot(display, "packaged-window")
    finally:
        process.terminate()
        process.wait(20)
