"""Helpers for the desktop tests: screenshots of the virtual screen, the window's page driven
over Qt's DevTools socket, and clients that request what the desktop window requests."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

from tests.helpers import ARTIFACTS, Client

SECRET = "s3cret-launch-token-0123456789abcdef"
HOST = "127.0.0.1:50123"


class WindowClient(Client):
    """What the desktop window sends: every request to http://127.0.0.1:<port>/."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", f"http://{HOST}")
        return super().open(*args, **kwargs)


def client_for(app, launched=True):
    """A client that sends what the window sends, after the launch URL (unless not
    ``launched``) set its cookie."""
    app.test_client_class = WindowClient
    client = app.test_client()
    if launched:
        token = app.extensions["sheaf.launch_tokens"].issue()
        response = client.get(f"/launch?token={token}")
        assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return client


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
        self.events: list[dict] = []  # what the page reported meanwhile (see watch_console)

    def watch_console(self) -> None:
        """Collect the page's console messages, uncaught errors and browser log entries (CSP
        refusals among them) from now on, and those the page logged before."""
        for method in ("Runtime.enable", "Log.enable"):
            self._command(method, {})

    def console_errors(self) -> list[str]:
        """The errors collected since :meth:`watch_console`, as readable lines."""
        errors = []
        for event in self.events:
            params = event.get("params", {})
            if event.get("method") == "Runtime.consoleAPICalled" and params["type"] == "error":
                errors.append(" ".join(str(a.get("value", a)) for a in params.get("args", [])))
            elif event.get("method") == "Runtime.exceptionThrown":
                errors.append(str(params.get("exceptionDetails")))
            elif event.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                errors.append(f"{entry.get('source')}: {entry.get('text')} ({entry.get('url')})")
        return errors

    def run(self, script: str):
        """The value of ``script`` (an expression; a promise is awaited) in the page."""

        message = self._command(
            "Runtime.evaluate",
            {"expression": script, "returnByValue": True, "awaitPromise": True},
        )
        result = message.get("result", {})
        if "exceptionDetails" in result:
            raise AssertionError(f"{script!r} failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def _command(self, method: str, params: dict) -> dict:
        import json

        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == self._next_id:
                return message
            if "method" in message:
                self.events.append(message)

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


def fake_form_thread(monkeypatch, native: object) -> list[int]:
    """Control.Invoke faked for WinForms tests: each call to the form ``native`` runs on a
    thread of its own (standing for the form's), whose ids are listed in the list returned."""
    from desktop import gui_thread

    form_threads: list[int] = []

    def invoke(form, run):
        assert form is native
        thread = threading.Thread(
            target=lambda: (form_threads.append(threading.get_ident()), run())
        )
        thread.start()
        thread.join(10)

    monkeypatch.setattr(gui_thread, "_winforms_invoke", invoke)
    return form_threads
