"""The desktop window opens under a virtual screen (Xvfb) and shows the set-up page; in the
window itself, a person signs in (a form post from Qt's browser, which the lockdown must let
through) and opens a dataset, and no page logs an error to the console (a CSP refusal of
pywebview's injected style among them), read over the window's DevTools socket."""

from __future__ import annotations

import json
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


def _open_window(
    data_dir: Path, display: str, launcher: list[str] | None = None, **env: str
) -> subprocess.Popen:
    """Start Sheaf's window (through ``launcher``, by default ``python -m desktop.cli``);
    return once it has loaded its first page (skip without Qt)."""
    environment = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", **env}
    environment.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen(
        [*(launcher or [sys.executable, "-m", "desktop.cli"]), "--data-dir", str(data_dir)],
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
        page.watch_console()  # every page below, from its first load, must log no error
        page.run("location.reload(); true")
        time.sleep(0.5)
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
        time.sleep(1)  # pywebview's own scripts run after each load
        page.run("true")
        assert page.events, "the DevTools socket reported nothing: the check would be blind"
        assert page.console_errors() == []
    finally:
        page.close()
        process.terminate()
        process.wait(20)


# Sheaf's window, with the system's save dialog answered by a stand-in (Qt's dialog cannot be
# driven from here): everything else, the page's script, the server and Qt's web view, is real.
ANSWERED_SAVE_DIALOG = """
import sys
from pathlib import Path

import webview

target = Path(sys.argv.pop(1))


def answer(self, dialog_type=10, directory="", allow_multiple=False, save_filename="", **kw):
    target.with_name("asked.txt").write_text(f"{int(dialog_type)} {save_filename}")
    return (str(target),)


webview.Window.create_file_dialog = answer
from desktop.cli import main

sys.exit(main(sys.argv[1:]))
"""


def _sign_in(page: PageSocket, login: str) -> None:
    page.wait_for("location.pathname === '/sign-in' && document.readyState === 'complete'")
    page.run(
        f"document.querySelector('[name=login]').value = {login!r};"
        f"document.querySelector('[name=password]').value = {PASSWORD!r};"
        "document.querySelector('form[method=post]').requestSubmit(); true"
    )
    page.wait_for("location.pathname === '/' && document.readyState === 'complete'")


def test_in_the_window_the_import_problems_are_saved_through_the_save_dialog(
    tmp_path: Path, display: str
):
    """pywebview blocks plain downloads, so "Download all as CSV" on the import result must
    ask the save dialog and have the server write the file."""
    from server.db import database
    from tests.datasets.helpers import run_import
    from tests.helpers import signed_in

    data_dir = tmp_path / "data"
    app = make_app(data_dir)
    make_user("ada", "editor")
    job = run_import(
        app, signed_in(app, "ada"), b"n\n1\n=HYPERLINK(1)\nx\n", "visits.csv", type_0="integer"
    )
    app.extensions["sheaf.imports"].shutdown(cancel=False)
    database.close()

    target = tmp_path / "saved" / "problems.csv"
    target.parent.mkdir()
    port = _free_port()
    process = _open_window(
        data_dir,
        display,
        [sys.executable, "-c", ANSWERED_SAVE_DIALOG, str(target)],
        QTWEBENGINE_REMOTE_DEBUGGING=f"127.0.0.1:{port}",
    )
    page = PageSocket(port)
    try:
        _sign_in(page, "ada")
        page.run(f"location.href = '/import/{job.id}'; true")
        page.wait_for(
            f"location.pathname === '/import/{job.id}' && document.readyState === 'complete'"
        )
        page.run(
            "[...document.querySelectorAll('a')]"
            ".find(a => a.textContent === 'Download all as CSV').click(); true"
        )
        notice = page.wait_for(
            "document.querySelector('.notice-success[role=status]')?.textContent"
        )
        assert notice == f"Saved problems.csv in {target.parent}."
        assert (target.parent / "asked.txt").read_text() == "30 visits-problems.csv"  # SAVE
        rows = target.read_text(encoding="utf-8-sig").splitlines()
        assert rows[0] == "row,column,value,problem" and "'=HYPERLINK(1)" in rows[1]
        assert page.run("location.pathname") == f"/import/{job.id}"  # no navigation
    finally:
        page.close()
        process.terminate()
        process.wait(20)


# Sheaf's window closed while "an import runs" (the runner says one does): the close button's
# path (pywebview's closing event on Qt's closeEvent), with the question answered by a
# stand-in that notes where it was asked.
CLOSED_DURING_AN_IMPORT = """
import sys
import threading
from pathlib import Path

import webview
from server.datasets.loading.runner import ImportRunner

notes = Path(sys.argv.pop(1))
ImportRunner.busy = lambda self: [1]


def answer(self, title, message):
    on_main = threading.current_thread() is threading.main_thread()
    with notes.open("a") as out:
        out.write(f"asked {title!r} on_gui_thread={on_main}\\n")
    return True


webview.Window.create_confirmation_dialog = answer


def close_once_loaded():
    while not webview.windows:
        threading.Event().wait(0.05)
    window = webview.windows[0]
    window.events.loaded.wait(60)
    window.destroy()  # as the close button does: Qt's closeEvent, pywebview's closing event


threading.Thread(target=close_once_loaded, daemon=True).start()
from desktop.cli import main

code = main(sys.argv[1:])
with notes.open("a") as out:
    out.write(f"exited {code}\\n")
sys.exit(code)
"""


def test_closing_the_window_during_an_import_asks_off_the_gui_thread_then_closes(
    tmp_path: Path, display: str
):
    """The closing handler runs on the GUI thread; asking there hangs on macOS. The question
    is asked from another thread, and the yes closes the window and ends Sheaf."""
    notes = tmp_path / "notes.txt"
    data_dir = tmp_path / "data"
    process = _open_window(
        data_dir, display, [sys.executable, "-c", CLOSED_DURING_AN_IMPORT, str(notes)]
    )
    try:
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(20)
    assert notes.read_text().splitlines() == [
        "asked 'An import is still running' on_gui_thread=False",
        "exited 0",
    ]
    saved = json.loads((data_dir / "window.json").read_text())
    assert set(saved) >= {"width", "height"} and all(isinstance(v, int) for v in saved.values())
