"""The desktop window opens under a virtual screen (Xvfb) and shows the set-up page; in the
window itself, a person signs in (a form post from Qt's browser, which the lockdown must let
through) and opens a dataset."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.desktop.helpers import PageSocket, screenshot
from tests.helpers import PASSWORD, make_app, make_dataset, make_user

pytestmark = pytest.mark.desktop


def _open_window(data_dir: Path, display: str, **env: str) -> subprocess.Popen:
    """Start Sheaf's window; return once it has loaded its first page (skip without Qt)."""
    environment = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", **env}
    environment.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    output = []
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
        process.terminate()
        process.wait(20)
        pytest.skip(
            f"no Qt window here ({text.strip().splitlines()[-1]}); "
            "install Qt's X11 libraries, e.g. apt-get install libxcb-cursor0 libnss3"
        )
    assert "Sheaf window loaded http://127.0.0.1:" in text, text
    return process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_window_opens_on_the_setup_page(tmp_path: Path, display: str):
    process = _open_window(tmp_path / "data", display)
    try:
        screenshot(display, "desktop-first-run")
    finally:
        process.terminate()
        process.wait(20)


def test_in_the_window_a_person_signs_in_and_opens_a_dataset(tmp_path: Path, display: str):
    from server.db import database

    data_dir = tmp_path / "data"
    app = make_app(data_dir)
    owner = make_user("ada", "editor", display_name="Ada Lovelace")
    dataset = make_dataset(
        app, owner, "id,name,city\n1,Ada,London\n2,Grace,New York\n3,Hedy,Vienna\n", "Pioneers"
    )
    database.close()

    port = _free_port()
    process = _open_window(data_dir, display, QTWEBENGINE_REMOTE_DEBUGGING=f"127.0.0.1:{port}")
    page = PageSocket(port)
    try:
        page.wait_for("location.pathname === '/sign-in' && document.readyState === 'complete'")
        page.run(
            "document.querySelector('[name=login]').value = 'ada';"
            f"document.querySelector('[name=password]').value = {PASSWORD!r};"
            "document.querySelector('form[method=post]').requestSubmit(); true"
        )
        greeting = page.wait_for(
            "location.pathname === '/' && document.querySelector('h1')?.textContent"
        )
        assert "Ada Lovelace" in greeting

        page.run(f"location.href = '/datasets/{dataset.id}'; true")
        page.wait_for(
            f"location.pathname === '/datasets/{dataset.id}' && document.readyState === 'complete'"
        )
        cells = page.run("[...document.querySelectorAll('td')].map(c => c.textContent.trim())")
        assert {"Ada", "Grace", "Hedy", "Vienna"} <= set(cells)
        screenshot(display, "desktop-dataset-page")

        # The import page offers the system's open dialog, asked through the server.
        page.run("location.href = '/import'; true")
        page.wait_for("location.pathname === '/import' && document.readyState === 'complete'")
        assert page.wait_for("document.querySelector('[data-native-open-form]').hidden === false")
    finally:
        page.close()
        process.terminate()
        process.wait(20)
