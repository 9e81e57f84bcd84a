"""What the pages may ask of the native shell: a file to import and a place to save an export.
Nothing else. Pages ask through the server (server.native_dialogs), not pywebview's JS API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.downloads import safe_file_name
from server.native_dialogs import DialogOpen
from server.picked_files import PickedFiles

from .gui_thread import on_gui_thread

IMPORT_TYPES = (
    "Data files (*.csv;*.tsv;*.txt;*.psv;*.xlsx;*.xlsm;*.xls;*.ods;*.json;*.jsonl)",
    "All files (*.*)",
)


class Bridge:
    """The window's dialogs, registered by the shell for server.native_dialogs."""

    def __init__(self, picked: PickedFiles) -> None:
        self._picked = picked
        self._window: Any = None
        # One dialog at a time: pywebview keeps one answer per window, so two at once (a
        # double click) could each get the other's path.
        self._open = threading.Lock()

    def _attach(self, window: Any) -> None:
        self._window = window

    def _dialog(self, show: Callable[[], Any]) -> Any:
        """Show one dialog, on the window's GUI thread (desktop.gui_thread: WinForms would
        show it on this server thread, where it hangs). Called from server threads only."""
        if not self._open.acquire(blocking=False):
            raise DialogOpen("A file dialog is already open.")
        try:
            return on_gui_thread(self._window, show)
        finally:
            self._open.release()

    def choose_import_file(self) -> dict[str, str] | None:
        """Open the system's open-file dialog; the chosen file comes back as a token."""
        import webview

        chosen = self._dialog(
            lambda: self._window.create_file_dialog(
                webview.FileDialog.OPEN, allow_multiple=False, file_types=IMPORT_TYPES
            )
        )
        if not chosen:
            return None
        path = Path(chosen[0] if isinstance(chosen, list | tuple) else chosen)
        return {"token": self._picked.add(path, "open"), "name": path.name}

    def choose_save_path(self, suggested_name: str) -> dict[str, str] | None:
        """Open the system's save dialog; the chosen place comes back as a token."""
        import webview

        name = safe_file_name(str(suggested_name), "export")
        chosen = self._dialog(
            lambda: self._window.create_file_dialog(webview.FileDialog.SAVE, save_filename=name)
        )
        if not chosen:
            return None
        path = Path(chosen[0] if isinstance(chosen, list | tuple) else chosen)
        return {"token": self._picked.add(path, "save"), "name": path.name}
