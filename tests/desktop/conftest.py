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


class PageSocket:
    """The desktop window's page, driven over Qt WebEngine's DevTools socket (opened with
    ``QTWEBENGINE_REMOTE_DEBUGGING``; Playwright cannot attach to Qt's browser, so this
    speaks the protocol's one command it needs: run a script in the page)."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        import json
        import urllib.request

        import websocket

        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as answer:
                    targets = json.load(answer)
                page = next(t for t in targets if t.get("type") == "page")
                break
            except (OSError, StopIteration):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self._socket = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True
        )
        self._next_id = 0

    def run(self, script: str):
        """The value of ``script`` (an expression; a promise is awaited) in the page."""
        import json

        self._next_id += 1
        self._socket.send(
            json.dumps(
                {
                    "id": self._next_id,
                    "method": "Runtime.evaluate",
                    "params": {"expression": script, "returnByValue": True, "awaitPromise": True},
                }
            )
        )
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == self._next_id:
                break
        result = message.get("result", {})
        if "exceptionDetails" in result:
            raise AssertionError(f"{script!r} failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, script: str, seconds: float = 20):
        """Poll ``script`` until it is truthy (pages load and navigate in between)."""
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.run(script)
            except Exception as exc:  # a navigation can interrupt a call
                last = exc
            if last and not isinstance(last, Exception):
                return last
            time.sleep(0.2)
        raise AssertionError(f"{script!r} stayed {last!r}")

    def close(self) -> None:
        self._socket.close()
