"""Start the server on 127.0.0.1, then show it in a native window.

The GUI loop must own the main thread (Qt and Cocoa insist), so waitress runs in a daemon
thread. When no window can be opened (no display, no GUI toolkit) Sheaf says so in one line
and serves to the browser instead.
"""

from __future__ import annotations

import contextlib
import html
import os
import secrets
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Any

from waitress.server import create_server

from server import __version__, lockdown, native_dialogs

from . import instance, lifecycle, window_state
from .bridge import Bridge
from .startup import FolderTaken, start

LAUNCH_PAGE = "launch.html"


def gui_unavailable_reason() -> str | None:
    """Why no window can open here, or None when one can."""
    if sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return "no display (DISPLAY is not set)"
        os.environ.setdefault("QT_API", "pyside6")
        try:
            import qtpy.QtWebEngineWidgets  # noqa: F401
        except Exception as exc:  # ImportError, or Qt failing to load its libraries
            return f"Qt WebEngine cannot load ({exc})"
    try:
        import webview  # noqa: F401
    except ImportError as exc:
        return f"pywebview is not installed ({exc})"
    return None


def _prepare_qt_environment() -> None:
    os.environ.setdefault("QT_API", "pyside6")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium's sandbox refuses to run as root; without it the page still has the CSP.
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} --no-sandbox".strip()


def _launch_page(folder: Path, url: str) -> Path:
    """A page in the data folder, readable by its owner only, that forwards the browser to the
    one-time ``url``: the browser is started with this file's path on its command line (which
    every account on the computer can read), never with the link itself."""
    page = folder / LAUNCH_PAGE
    page.unlink(missing_ok=True)
    fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(
            '<!doctype html><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0;url={html.escape(url)}">'
            f'<title>Sheaf</title><a href="{html.escape(url)}">Open Sheaf</a>'
        )
    return page


def run(config: dict[str, Any] | None = None) -> int:
    # A secret for this launch only: the window (or the browser given the link) trades it for
    # a cookie, and the server answers nobody else (see server.lockdown).
    secret = secrets.token_urlsafe(32)
    try:
        started = start(config or {}, {"LAUNCH_SECRET": secret, "LAUNCH_HOST": ""})
    except FolderTaken as exc:
        if instance.bring_forward(exc.folder):
            print("Sheaf is already open for this data folder; its window was brought forward.")
            return 0
        raise
    folder, app = started.folder, started.app
    server = create_server(app, host="127.0.0.1", port=0, threads=8, ident="Sheaf")
    app.config["LAUNCH_HOST"] = f"127.0.0.1:{server.effective_port}"
    instance.announce(folder, server.effective_port, secret)
    url = lockdown.launch_link(app)
    reason = gui_unavailable_reason()
    if reason is not None:
        print(
            f"Sheaf cannot open its window: {reason}. Open this link in a web browser "
            f"(it works once, within a minute): {url}",
            flush=True,
        )
        page = _launch_page(folder, lockdown.launch_link(app))
        with contextlib.suppress(Exception):  # no browser to open is fine: the URL is printed
            webbrowser.open(page.as_uri())
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
            page.unlink(missing_ok=True)
            instance.withdraw(folder)
        return 0

    import webview

    _prepare_qt_environment()
    thread = threading.Thread(target=server.run, name="sheaf-server", daemon=True)
    thread.start()
    bridge = Bridge(app.extensions["sheaf.picked"])
    geometry = window_state.load(folder)
    window = webview.create_window(
        f"Sheaf {__version__}",
        url,
        min_size=(window_state.MIN_WIDTH, window_state.MIN_HEIGHT),
        **geometry,
    )
    bridge._attach(window)
    app.extensions[native_dialogs.EXTENSION] = bridge  # pages ask through the server

    def raise_window() -> None:
        window.restore()
        window.show()

    app.extensions["sheaf.raise_window"] = raise_window

    guard = lifecycle.CloseGuard(
        window, app.extensions["sheaf.imports"], lambda: window_state.save(folder, window)
    )
    window.events.closing += guard.on_closing
    announced = threading.Event()

    def on_loaded() -> None:  # fires on every navigation; say it once
        if not announced.is_set():
            announced.set()
            print(f"Sheaf window loaded http://{app.config['LAUNCH_HOST']}/", flush=True)

    window.events.loaded += on_loaded
    gui = "qt" if sys.platform.startswith("linux") else None
    webview.start(gui=gui, private_mode=True)
    lifecycle.shut_down(app, server)
    instance.withdraw(folder)
    return 0
