"""Closing the window: ask before abandoning a running import, then stop cleanly."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .gui_thread import on_gui_thread

logger = logging.getLogger(__name__)


def close_question(count: int) -> tuple[str, str]:
    """The title and text of the question asked when the window closes during imports."""
    return (
        "An import is still running" if count == 1 else f"{count} imports are still running",
        "Close Sheaf anyway? The import will be cancelled and nothing of it kept. "
        "Choose Cancel to let it finish.",
    )


def _in_background(ask: Callable[[], None]) -> None:
    threading.Thread(target=ask, name="sheaf-close-question", daemon=True).start()


class CloseGuard:
    """The window's ``closing`` handler. While imports run the person decides whether to
    close (closing cancels them: an import is all or nothing, so nothing half-done is kept).

    pywebview runs ``closing`` on the GUI thread and waits for its answer. On macOS a dialog
    asked from there is queued to that same thread and waited for: the window hangs (Cmd+Q
    too, which asks the same handler). So the handler never asks: it refuses the close,
    starts the question on another thread, and when the person says yes, remembers the
    window and destroys it. (On Cocoa ``destroy`` closes without asking ``closing`` again,
    on Qt and WinForms it asks and is let through.)
    """

    def __init__(
        self,
        window: Any,
        runner: Any,
        before_close: Callable[[], None],
        start: Callable[[Callable[[], None]], None] = _in_background,
    ) -> None:
        self._window = window
        self._runner = runner
        self._before_close = before_close
        self._start = start
        self._lock = threading.Lock()
        self._asking = False
        self._confirmed = False
        self._remembered = False

    def on_closing(self) -> bool:
        """False keeps the window open; never blocks on a dialog."""
        with self._lock:
            if not (self._confirmed or self._runner.busy()):
                self._confirmed = True
            elif not self._confirmed:
                if not self._asking:  # a second click on the close box asks no second time
                    self._asking = True
                    self._start(self._ask)
                return False
        self._remember()
        return True

    def _remember(self) -> None:
        with self._lock:
            if self._remembered:
                return
            self._remembered = True
        try:
            self._before_close()
        except Exception:  # remembering must never stop the window from closing
            logger.exception("Could not remember the window before closing")

    def _ask(self) -> None:
        """On a thread of its own: ask, and close the window on yes."""
        try:
            running = self._runner.busy()
            close = not running or bool(
                on_gui_thread(
                    self._window,
                    lambda: self._window.create_confirmation_dialog(*close_question(len(running))),
                )
            )
        except Exception:
            logger.exception("Could not ask whether to close the window")
            close = False
        with self._lock:
            self._asking = False
            self._confirmed = self._confirmed or close
        if close:
            self._remember()
            try:
                self._window.destroy()
            except Exception:  # already closing by another road (the system shutting down)
                logger.exception("Could not close the window")


def shut_down(app: Any, server: Any) -> None:
    """Stop imports, fold the write-ahead log into the database file, close the server."""
    from server.db import database

    app.extensions["sheaf.imports"].shutdown(cancel=True)
    with database.connection_context():
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    server.close()
