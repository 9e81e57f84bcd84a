"""Start the server on 127.0.0.1, then show it in a native window.

The GUI loop must own the main thread (Qt and Cocoa insist), so waitress runs in a daemon
thread. When no window can be opened (no display, no GUI toolkit) Sheaf says so in one line
and serves to the browser instead, with a one-time link. So it does when the window could not
run the pages (Windows without the WebView2 Runtime, see desktop.window_engine) or when
pywebview fails before showing it.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import secrets
import sys
import threading
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waitress.server import create_server

from server import __version__, lockdown, native_dialogs

from . import instance, lifecycle, window_engine, window_state
from .bridge import Bridge
from .startup import FolderTaken, start

if TYPE_CHECKING:
    from flask import Flask

LAUNCH_PAGE = "launch.html"
logger = logging.getLogger(__name__)


def gui_unavailable_reason(
    platform: str = sys.platform, read_registry: window_engine.RegistryReader | None = None
) -> str | None:
    """Why no window can open here, or None when one can (``read_registry`` for tests)."""
    if platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return "no display (DISPLAY is not set)"
        os.environ.setdefault("QT_API", "pyside6")
        try:
            import qtpy.QtWebEngineWidgets  # noqa: F401
        except Exception as exc:  # ImportError, or Qt failing to load its libraries
            return f"Qt WebEngine cannot load ({exc})"
    problem = window_engine.window_engine_problem(platform, read_registry)
    if problem is not None:
        return problem
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
    thread = threading.Thread(target=server.run, name="sheaf-server", daemon=True)
    thread.start()
    reason = gui_unavailable_reason()
    if reason is None:
        try:
            reason = _run_window(app, folder)
        except BaseException:
            lifecycle.shut_down(app, server)
            instance.withdraw(folder)
            raise
        if reason is None:  # the window opened and was closed
            lifecycle.shut_down(app, server)
            instance.withdraw(folder)
            return 0
    _serve_to_browser(app, folder, server, thread, reason)
    return 0


def _serve_to_browser(
    app: Flask, folder: Path, server: Any, thread: threading.Thread, reason: str
) -> None:
    """No window: say why in one line, hand the browser the one-time link (through a page in
    the data folder) and serve until interrupted."""
    url = lockdown.launch_link(app)
    print(
        f"Sheaf cannot open its window: {reason}. Open this link in a web browser "
        f"(it works once, within a minute): {url}",
        flush=True,
    )
    page = _launch_page(folder, lockdown.launch_link(app))
    with contextlib.suppress(Exception):  # no browser to open is fine: the URL is printed
        webbrowser.open(page.as_uri())
    try:
        while thread.is_alive():  # a timeout, so that Ctrl+C reaches this thread on Windows
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        page.unlink(missing_ok=True)
        instance.withdraw(folder)


def _run_window(app: Flask, folder: Path) -> str | None:
    """Show the window until it is closed; None then. When it could not open (pywebview
    raised before showing it, or chose an engine that cannot run the pages) the reason, and
    the app is left as a browser would need it (no dialogs, nothing to bring forward)."""
    import webview

    _prepare_qt_environment()
    bridge = Bridge(app.extensions["sheaf.picked"])
    geometry = window_state.load(folder)
    window = webview.create_window(
        f"Sheaf {__version__}",
        lockdown.launch_link(app),
        min_size=(window_state.MIN_WIDTH, window_state.MIN_HEIGHT),
        # Text can be selected and copied, as in any document; without this pywebview injects
        # an inline <style> turning selection off, which the pages' CSP refuses on every load.
        text_select=True,
        **geometry,
    )
    bridge._attach(window)
    app.extensions[native_dialogs.EXTENSION] = bridge  # pages ask through the server

    app.extensions["sheaf.raise_window"] = instance.WindowRaiser(window)
    refused: list[str] = []

    def on_initialized(renderer: str) -> bool:
        """pywebview's choice of engine, before the window exists: False cancels it."""
        problem = window_engine.renderer_problem(renderer)
        if problem is not None:
            refused.append(problem)
        return problem is None

    window.events.initialized += on_initialized
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
    try:
        webview.start(gui=gui, private_mode=True)
    except Exception as exc:
        if window.events.shown.is_set():
            raise  # the window was in use: a crash, not a window that cannot open
        logger.exception("The window could not start")
        refused.append(f"the window could not start ({type(exc).__name__}: {exc})")
    if refused:
        app.extensions.pop(native_dialogs.EXTENSION, None)
        app.extensions.pop("sheaf.raise_window", None)
        return refused[0]
    return None
