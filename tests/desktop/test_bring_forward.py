"""A second start brings the running window forward, knocking with the running one's secret."""

import os
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

from waitress.server import create_server

from desktop import instance
from tests.helpers import make_app


def test_a_second_start_brings_the_window_forward(tmp_path: Path, monkeypatch):
    # A system proxy (Windows' settings, or these variables) must not be asked about 127.0.0.1.
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    app = make_app(tmp_path / "d", LAUNCH_SECRET="secret-" * 6, LAUNCH_HOST="")
    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    app.config["LAUNCH_HOST"] = f"127.0.0.1:{server.effective_port}"
    raised = threading.Event()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        path = instance.announce(tmp_path, server.effective_port, "secret-" * 6)
        if os.name == "posix":  # Windows: an access list (tests/test_private_files.py)
            assert path.stat().st_mode & 0o777 == 0o600
        assert not instance.bring_forward(tmp_path)  # no window (a browser session): no
        order = []
        app.extensions["sheaf.raise_window"] = lambda: (order.append("raised"), raised.set())
        # Windows: the foreground permission goes to the running process, before the knock.
        assert instance.bring_forward(tmp_path, allow=lambda pid: order.append(pid))
        assert raised.is_set() and order == [os.getpid(), "raised"]
        path.write_text(f'{{"port": {server.effective_port}, "secret": "wrong"}}')
        raised.clear()
        assert not instance.bring_forward(tmp_path) and not raised.is_set()
    finally:
        server.close()
    instance.withdraw(tmp_path)
    assert not instance.bring_forward(tmp_path)  # nobody there any more


class User32:
    def __init__(self, answer=1):
        self.answer, self.calls = answer, []

    def AllowSetForegroundWindow(self, pid):  # the Windows function's name
        self.calls.append(pid)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_second_start_lets_the_running_one_take_the_foreground():
    user32 = User32()
    assert instance.allow_foreground(4242, user32)
    for odd in (None, "4242", True, 0, -7):  # an older instance file: any process may
        assert instance.allow_foreground(odd, user32)
    assert user32.calls == [4242] + [instance.ASFW_ANY] * 5
    assert not instance.allow_foreground(4242, User32(answer=0))  # Windows said no
    assert not instance.allow_foreground(4242, User32(answer=OSError("no user32")))
    if sys.platform != "win32":
        assert not instance.allow_foreground(4242)  # nothing to ask elsewhere


class Event:
    def __init__(self):
        self.handlers = []

    def __iadd__(self, handler):
        self.handlers.append(handler)
        return self

    def set(self):
        for handler in self.handlers:
            handler()


class Window:
    def __init__(self):
        self.calls = []
        self.events = SimpleNamespace(minimized=Event(), restored=Event(), maximized=Event())

    def restore(self):
        self.calls.append("restore")

    def show(self):
        self.calls.append("show")


def test_the_window_comes_forward_restored_only_when_minimised():
    window = Window()
    raise_window = instance.WindowRaiser(window)
    raise_window()
    assert window.calls == ["show"]  # restore would un-maximise a maximised window
    window.events.minimized.set()
    raise_window()
    assert window.calls == ["show", "restore", "show"]
    window.events.maximized.set()  # un-minimised straight to maximised
    raise_window()
    window.events.minimized.set()
    window.events.restored.set()
    raise_window()
    assert window.calls == ["show", "restore", "show", "show", "show"]
