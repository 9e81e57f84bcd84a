"""The system's open and save dialogs, for pages in the desktop window.

A page asks the server (``POST /desktop/dialog/open`` or ``…/save``); the shell's
:class:`desktop.bridge.Bridge` shows the dialog and the chosen place comes back as a single-use
token (server.picked_files). pywebview's own JS API is not used: it builds its functions with
``new Function``, which the Content-Security-Policy forbids (no ``unsafe-eval``), so it never
worked in the window. These routes exist only in the desktop window (the launch secret), and go
through the same guards as every page: the launch cookie, the sign-in, the CSRF token.
"""

from __future__ import annotations

from typing import Protocol

from flask import Flask, Response, abort, current_app, jsonify, request
from flask_login import current_user

from .permissions import has_permission

EXTENSION = "sheaf.dialogs"


class DialogOpen(Exception):
    """A dialog is already open: the shell shows one at a time."""


class Dialogs(Protocol):
    def choose_import_file(self) -> dict[str, str] | None: ...

    def choose_save_path(self, suggested_name: str) -> dict[str, str] | None: ...


def init_app(app: Flask) -> None:
    """Add the routes in desktop mode; the shell registers its dialogs under ``EXTENSION``."""
    if not app.config.get("LAUNCH_SECRET"):
        return

    @app.route("/desktop/dialog/<kind>", methods=["POST"])
    def native_dialog(kind: str) -> Response:
        dialogs: Dialogs | None = current_app.extensions.get(EXTENSION)
        if dialogs is None or kind not in ("open", "save"):
            abort(404)
        if kind == "open" and not has_permission(current_user, "datasets.import"):
            abort(403)
        try:
            if kind == "open":
                picked = dialogs.choose_import_file()
            else:
                picked = dialogs.choose_save_path(request.form.get("name", "")[:255])
        except DialogOpen as exc:
            return jsonify(error=str(exc)), 409
        return jsonify(picked or {})

    @app.context_processor
    def _dialogs() -> dict[str, bool]:
        return {"native_dialogs": EXTENSION in current_app.extensions}
