"""Downloads: their names and their one Content-Disposition header (:func:`attachment`), and
the desktop's save dialog, which may redirect them: with a ``save`` token (from the native
dialog, see desktop/bridge.py) the file is written where the person chose, and the page is
told where it went; without one it is an ordinary download."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from flask import Response, abort, current_app, jsonify, request
from werkzeug.http import dump_options_header

_ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 5987 attr-chars kept as they are; the rest %-encoded


#: Names Windows keeps for devices, whatever the extension ("CON.csv" opens the console).
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{port}{n}" for port in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]
}


def download_name(title: str, extension: str) -> str:
    """A file name for a download, made from a name a person typed (a dataset's, a file's):
    letters, digits, ``-_. `` and spaces kept, anything else ``_``, at most 80 characters,
    and a name every system can save (:func:`safe_file_name`)."""
    base = "".join(ch if ch.isalnum() or ch in "-_ ." else "_" for ch in title).strip()
    return safe_file_name(f"{base[:80]}.{extension}")


def safe_file_name(name: str, fallback: str = "download") -> str:
    """``name`` as a file name Windows, macOS and Linux all accept (a save dialog's suggestion,
    a download): no folder parts, no ``<>:"/\\|?*`` or control characters, no trailing dots
    or spaces, no device name such as ``CON`` or ``NUL``, at most 150 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if ch in '<>:"|?*' or not ch.isprintable() else ch for ch in name)
    name = name.strip().rstrip(". ")
    stem, dot, extension = name.partition(".")
    if stem.rstrip(" ").upper() in _RESERVED:
        name = f"_{name}"
    if len(name) > 150:
        keep = min(len(extension), 20)
        name = name[: 150 - keep - 1].rstrip(". ") + "." + extension[-keep:] if dot else name[:150]
    return name if name.strip("._ ") else fallback


def attachment(name: str) -> dict[str, str]:
    """The headers that make a response download as ``name``: the one place a
    Content-Disposition is made. Waitress sends headers as Latin-1 and browsers read them as
    anything, so the header is ASCII (RFC 6266): the name itself when it is ASCII, else an
    ASCII ``filename=`` for old clients and the real name as ``filename*=UTF-8''…`` (RFC
    5987), as Werkzeug's ``send_file`` does, through its public ``dump_options_header`` (which
    quotes and escapes). Control characters, line breaks among them, become ``_``."""
    name = "".join(ch if ch.isprintable() else "_" for ch in name) or "download"
    if name.isascii():
        options = {"filename": name}
    else:
        stem, dot, extension = name.rpartition(".") if "." in name else (name, "", "")
        fallback = (_ascii(stem).strip() or "download") + dot + _ascii(extension)
        options = {"filename": fallback, "filename*": "UTF-8''" + quote(name, safe=_ATTR_CHARS)}
    return {"Content-Disposition": dump_options_header("attachment", options)}


def _ascii(text: str) -> str:
    """``text`` without what NFKD cannot spell in ASCII ("Łódź" → "odz"), as send_file does."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


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
