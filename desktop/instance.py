"""The running Sheaf of a data folder, for a second start: where it listens and its secret,
in a file only the folder's owner can read, so the second start can bring its window forward."""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.private_files import make_private

INSTANCE_FILE = "instance.json"
#: AllowSetForegroundWindow's "any process", for an instance file without a process id.
ASFW_ANY = -1


def announce(data_dir: Path, port: int, secret: str) -> Path:
    path = Path(data_dir) / INSTANCE_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"port": port, "secret": secret, "pid": os.getpid()}, handle)
    make_private(path)  # Windows: an ACL, as modes mean nothing there
    return path


def withdraw(data_dir: Path) -> None:
    (Path(data_dir) / INSTANCE_FILE).unlink(missing_ok=True)


def allow_foreground(pid: Any, user32: Any = None) -> bool:
    """Let the running Sheaf (process ``pid``) take the foreground; True when Windows agreed.

    Windows lets a process bring its window to the front only when the foreground process
    allows it, and otherwise flashes its taskbar button. A second start is the foreground
    process (the person has just started it), so it hands that permission over before knocking.
    Nothing to do on other systems. ``user32`` replaces ``ctypes.windll.user32`` in tests."""
    if user32 is None:
        if sys.platform != "win32":
            return False
        import ctypes

        user32 = ctypes.windll.user32  # Windows only
    valid = isinstance(pid, int) and not isinstance(pid, bool) and pid > 0
    try:
        return bool(user32.AllowSetForegroundWindow(pid if valid else ASFW_ANY))
    except Exception:  # the window may still come forward; the taskbar flashes at worst
        return False


def bring_forward(data_dir: Path, allow: Callable[[Any], object] = allow_foreground) -> bool:
    """Ask the running Sheaf to show its window; True when it answered."""
    try:
        info = json.loads((Path(data_dir) / INSTANCE_FILE).read_text(encoding="utf-8"))
        host = f"127.0.0.1:{int(info['port'])}"
        allow(info.get("pid"))
        request = urllib.request.Request(
            f"http://{host}/desktop/raise",
            method="POST",
            data=b"",
            headers={"Cookie": f"sheaf_launch={info['secret']}", "Host": host},
        )
        # No proxy: Windows' system proxy settings would otherwise be asked about 127.0.0.1.
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(request, timeout=3) as answer:
            return answer.status == 204
    except (OSError, ValueError, KeyError, TypeError):
        return False


class WindowRaiser:
    """What the running Sheaf does when a second start knocks: show its window in front.

    A minimised window is restored first; a maximised or normal one only shown, since
    ``restore`` would also un-maximise it. The state comes from the window's own
    minimized/restored/maximized events (pywebview fires them on Qt, Cocoa and WinForms)."""

    def __init__(self, window: Any) -> None:
        self._window = window
        self._minimized = threading.Event()
        window.events.minimized += self._minimized.set
        window.events.restored += self._minimized.clear
        window.events.maximized += self._minimized.clear

    def __call__(self) -> None:
        if self._minimized.is_set():
            self._window.restore()
        self._window.show()  # WinForms: Show and Activate; Cocoa: activates the app
