"""Downloads that the desktop's save dialog may redirect: with a ``save`` token (from the
native dialog, see desktop/bridge.py) the file is written where the person chose, and the
page is told where it went; without one it is an ordinary download."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from flask import Response, abort, current_app, jsonify, request


def download_name(title: str, extension: str) -> str:
    """A file name for a download, made from a name a person typed (a dataset's, a file's):
    letters, digits, ``-_. `` and spaces kept, anything else ``_``, at most 80 characters."""
    base = "".join(ch if ch.isalnum() or ch in "-_ ." else "_" for ch in title).strip()
    return f"{base[:80] or 'download'}.{extension}"


def attachment(name: str) -> dict[str, str]:
    """The headers that make a response download as ``name``."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def save_target() -> Path | None:
    """Where the desktop's save dialog said this download goes (``save`` token), or None for
    an ordinary download; an unknown or used token is 404."""
    token = request.args.get("save")
    if not token:
        return None
    target = current_app.extensions["sheaf.picked"].take(token, "save")
    if target is None:
        abort(404)
    return target


def saved(chunks: Iterator[bytes], target: Path) -> Response:
    """Write an export to the place chosen in the save dialog (embedded web views often
    cannot download), then tell the page where it went."""
    partial = target.with_name(target.name + ".part")
    try:
        with open(partial, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        return jsonify(error=f"Could not save {target.name}: {exc.strerror or exc}"), 400
    return jsonify(saved=target.name, folder=str(target.parent))
