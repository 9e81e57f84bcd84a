"""The window's web engine on Windows: without the WebView2 Runtime pywebview would fall back,
silently, to Internet Explorer's engine (no ``fetch``), so Sheaf checks first and serves to the
browser instead, with the one-time link. The registry is faked here (winreg exists on Windows
only), and the fallback is driven end to end with a stand-in pywebview that cannot start."""

from __future__ import annotations

import http.client
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from desktop import shell, window_engine
from desktop.window_engine import WEBVIEW2_RUNTIME

HKLM, HKCU = "HKEY_LOCAL_MACHINE", "HKEY_CURRENT_USER"
MACHINE_64 = rf"SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{WEBVIEW2_RUNTIME}"
MACHINE_32 = rf"SOFTWARE\Microsoft\EdgeUpdate\Clients\{WEBVIEW2_RUNTIME}"
PER_USER = rf"SOFTWARE\Microsoft\EdgeUpdate\Clients\{WEBVIEW2_RUNTIME}"


def registry(values: dict[tuple[str, str], object]):
    """A registry reader holding ``pv`` values: {(hive, key): value}."""

    def read(hive: str, key: str, name: str):
        assert name == "pv"
        return values.get((hive, key))

    return read


@pytest.mark.parametrize(
    ("values", "fit"),
    [
        ({}, False),  # never installed
        ({(HKLM, MACHINE_64): "120.0.2210.91"}, True),  # per machine, 64-bit Windows
        ({(HKLM, MACHINE_32): "120.0.2210.91"}, True),  # per machine, 32-bit Windows
        ({(HKCU, PER_USER): "109.0.1518.78"}, True),  # per user
        ({(HKLM, MACHINE_64): ""}, False),  # uninstalled: Microsoft's "not installed"
        ({(HKLM, MACHINE_64): "0.0.0.0"}, False),
        ({(HKLM, MACHINE_64): "not a version"}, False),
        ({(HKLM, MACHINE_64): 120}, False),  # a DWORD where a string belongs
        ({(HKLM, MACHINE_64): "86.0.600.0"}, False),  # older than pywebview accepts
        ({(HKLM, MACHINE_64): "86.0.622.0"}, True),
        ({(HKLM, MACHINE_64): "0.0.0.0", (HKCU, PER_USER): "131.0.2903.70"}, True),
    ],
)
def test_windows_needs_the_webview2_runtime(values, fit):
    problem = window_engine.window_engine_problem("win32", registry(values))
    assert (problem is None) is fit, problem
    if not fit:
        assert "WebView2 Runtime" in problem


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_other_systems_need_no_registry(platform):
    def read(*args):
        raise AssertionError("the registry was read")

    assert window_engine.window_engine_problem(platform, read) is None


def test_an_unreadable_key_counts_as_no_runtime():
    def read(hive, key, name):
        if hive == HKCU:
            raise PermissionError("access denied")
        return None

    assert window_engine.webview2_version(read) is None
    values = {(HKLM, MACHINE_64): "100.0.1185.36", (HKCU, PER_USER): "118.0.2088.46"}
    assert window_engine.webview2_version(registry(values)) == (118, 0, 2088, 46)  # the newest


def test_the_registry_is_read_through_winreg(monkeypatch):
    """read_windows_registry with a stand-in for winreg: a missing key is None, not an error."""
    opened = []

    class Key:
        def __init__(self, hive, key):
            self.hive, self.key = hive, key

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def open_key(hive, key):
        opened.append((hive, key))
        if key != MACHINE_64:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return Key(hive, key)

    def query_value(handle, name):
        if name != "pv":
            raise FileNotFoundError(2, "no such value")
        return "120.0.2210.91", 1  # REG_SZ

    fake = types.SimpleNamespace(
        HKEY_LOCAL_MACHINE="HKLM",
        HKEY_CURRENT_USER="HKCU",
        OpenKey=open_key,
        QueryValueEx=query_value,
    )
    monkeypatch.setitem(sys.modules, "winreg", fake)
    read = window_engine.read_windows_registry
    assert read(HKLM, MACHINE_64, "pv") == "120.0.2210.91"
    assert read(HKLM, MACHINE_64, "other") is None
    assert read(HKCU, PER_USER, "pv") is None
    assert window_engine.window_engine_problem("win32") is None  # the default reader
    assert ("HKLM", MACHINE_64) in opened and ("HKCU", PER_USER) in opened
    monkeypatch.setattr(fake, "OpenKey", lambda hive, key: open_key(hive, "elsewhere"))
    assert window_engine.window_engine_problem("win32") == window_engine.NO_WEBVIEW2


def test_the_window_is_refused_an_engine_that_cannot_run_the_pages():
    assert "Internet Explorer" in window_engine.renderer_problem("mshtml")
    for fit in ("edgechromium", "qt", "cocoa", "gtk", "cef"):
        assert window_engine.renderer_problem(fit) is None


def test_without_webview2_the_shell_does_not_try_the_window():
    reason = shell.gui_unavailable_reason("win32", registry({}))
    assert reason == window_engine.NO_WEBVIEW2
    assert shell.gui_unavailable_reason("win32", registry({(HKCU, PER_USER): "130.0.1.0"})) is None


# A stand-in for pywebview, for a process started with it first on its path: it cannot show a
# window, the way FAKE_WEBVIEW says (start raises, or pywebview picks Internet Explorer's
# engine and the window's ``initialized`` handler must cancel it).
FAKE_WEBVIEW = """
import os

windows = []


class FileDialog:
    OPEN, FOLDER, SAVE = 10, 20, 30


class Event:
    def __init__(self):
        self.handlers, self.happened = [], False

    def __iadd__(self, handler):
        self.handlers.append(handler)
        return self

    def set(self, *args):
        self.happened = True
        return any(handler(*args) is False for handler in self.handlers)

    def is_set(self):
        return self.happened


class Window:
    def __init__(self):
        self.events = type("Events", (), {})()
        for name in (
            "closing", "closed", "loaded", "initialized", "shown",
            "minimized", "restored", "maximized",
        ):
            setattr(self.events, name, Event())


def create_window(title, url, **options):
    windows.append(Window())
    return windows[-1]


def start(gui=None, private_mode=True, **options):
    how = os.environ["FAKE_WEBVIEW"]
    if how == "raise":
        raise RuntimeError("no .NET here")
    if windows[0].events.initialized.set(how):
        return  # cancelled: pywebview returns without a window
    raise AssertionError("the window was not cancelled for " + how)
"""


def _start_without_a_window(tmp_path: Path, how: str) -> tuple[subprocess.Popen, str, Path]:
    fake = tmp_path / "fake"
    (fake / "webview").mkdir(parents=True)
    (fake / "webview" / "__init__.py").write_text(textwrap.dedent(FAKE_WEBVIEW))
    opened = tmp_path / "browser-was-given.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(fake), str(Path(__file__).parents[2])]),
        "FAKE_WEBVIEW": how,
        "DISPLAY": os.environ.get("DISPLAY", ":1234"),  # a window is thought possible
        "BROWSER": str(browser),
        "SHEAF_ARGON2_TIME_COST": "1",
        "SHEAF_ARGON2_MEMORY_COST": "8",
        "SHEAF_ARGON2_PARALLELISM": "1",
    }
    env.pop("WAYLAND_DISPLAY", None)
    if how == "no-display":
        env.pop("DISPLAY")
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Open this link" in line:
            break
    output = "".join(lines)
    if "Qt WebEngine cannot load" in output:
        process.kill()
        process.wait(10)
        pytest.skip("Qt WebEngine cannot load here, so no window is tried")
    return process, output, opened


@pytest.mark.skipif(os.name != "posix", reason="the stand-in browser is a shell script")
@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("raise", "the window could not start (RuntimeError: no .NET here)"),
        ("mshtml", "Internet Explorer's engine"),
        pytest.param(  # a Linux PC without a screen (elsewhere DISPLAY means nothing)
            "no-display",
            "no display (DISPLAY is not set)",
            marks=pytest.mark.skipif(
                not sys.platform.startswith("linux"), reason="DISPLAY matters on Linux only"
            ),
        ),
    ],
)
def test_when_the_window_cannot_open_the_browser_gets_the_one_time_link(tmp_path, how, said):
    process, output, opened = _start_without_a_window(tmp_path, how)
    try:
        assert "Sheaf cannot open its window: " in output and said in output, output
        assert "Sheaf window loaded" not in output
        printed = re.search(r"(http://127\.0\.0\.1:\d+/launch\?token=\S+)", output).group(1)
        deadline = time.monotonic() + 20
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        page = Path(urlsplit(opened.read_text().strip()).path)  # the browser got a file ...
        assert page.name == "launch.html" and "token" not in str(page)  # ... not the link
        link = re.search(r'url=([^"]+)"', page.read_text()).group(1).replace("&amp;", "&")
        assert link != printed  # each one works once
        for url in (link, printed):
            parts = urlsplit(url)
            connection = http.client.HTTPConnection(parts.netloc, timeout=10)
            connection.request("GET", f"{parts.path}?{parts.query}")
            answer = connection.getresponse()
            assert answer.status == 302 and answer.getheader("Location") == "/sign-in"
            cookie = answer.getheader("Set-Cookie").split(";")[0]
            connection.close()
        path = "/sign-in"
        for _hop in range(3):  # a new data folder sends /sign-in on to the set-up page
            connection = http.client.HTTPConnection(parts.netloc, timeout=10)
            connection.request("GET", path, headers={"Cookie": cookie})
            answer = connection.getresponse()
            text = answer.read().decode()
            connection.close()
            if answer.status != 302:
                break
            path = answer.getheader("Location")
        assert answer.status == 200, path
        assert "csrf-token" in text  # a page of Sheaf's, with the launch cookie
        assert 'name="sheaf-dialogs"' not in text  # a browser has no native dialogs
        connection = http.client.HTTPConnection(parts.netloc, timeout=10)  # used: refused
        connection.request("GET", f"{parts.path}?{parts.query}")
        assert connection.getresponse().status != 302
        connection.close()
    finally:
        process.kill()
        process.wait(10)
