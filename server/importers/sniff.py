"""Deciding what a file is from its bytes, never its name: format, then text encoding."""

from __future__ import annotations

import codecs
import zipfile
import zlib
from pathlib import Path

from . import kinds, legacy
from .errors import NotATable, UnreadableFile

SAMPLE_BYTES = 1 << 20  # enough to judge the encoding, the delimiter and the types

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # the UTF-32 ones begin the same


def detect_format(path: Path) -> str:
    """One of ``xlsx``, ``xls``, ``ods``, ``json`` or ``delimited``."""
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head:
        raise UnreadableFile("The file is empty.")
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"  # the old binary Excel format (an OLE compound file)
    kind = kinds.what_file_is(head)
    if kind is None and kinds.looks_binary(head) and not head.startswith(_WIDE_BOMS):
        kind = "binary data, not text"
    if kind is not None:
        raise NotATable(_not_a_table(kind))
    text = _decode_sample(head)
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("[", "{"):
        return "json"
    if len(head) < 256 and _is_json_scalar(stripped):
        return "json"  # a lone number or string: JSON, though not a table
    if "\x00" in text[:4096] and text.count("\x00") > len(text) // 10:
        raise NotATable(_not_a_table("binary data, not text"))
    return "delimited"


def _not_a_table(kind: str) -> str:
    return f"This file is {kind}, not a table. {kinds.IMPORTS}"


def _is_json_scalar(text: str) -> bool:
    import json

    try:
        return not isinstance(json.loads(text), dict | list)
    except ValueError:
        return False


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                return "xlsx"
            if "mimetype" in names and _head_of(archive, "mimetype").startswith(
                b"application/vnd.oasis.opendocument.spreadsheet"
            ):
                return "ods"
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
        kind = kinds.zip_kind(names, mimetype)
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        KeyError,
        EOFError,
        NotImplementedError,
    ) as exc:
        raise UnreadableFile(f"This file looks like a damaged spreadsheet ({exc}).") from None
    if kind == "a zip archive":  # the words people (and the corpus tests) already know
        raise NotATable(f"This is a zip archive, not a spreadsheet Sheaf can read. {kinds.IMPORTS}")
    raise NotATable(_not_a_table(kind))


def _head_of(archive: zipfile.ZipFile, name: str, size: int = 256) -> bytes:
    """The first bytes of a part: a mimetype is a line, and a 1 MB zip's "mimetype" may
    unpack to gigabytes, so it is never read whole."""
    with archive.open(name) as stream:
        return stream.read(size)


def _decode_sample(head: bytes) -> str:
    encoding = detect_encoding_of(head)
    return head.decode(encoding, errors="replace")


def detect_encoding_of(head: bytes) -> str:
    """The encoding of a file that begins with ``head``.

    A byte-order mark decides; else UTF-8 if the bytes are valid UTF-8 (a character cut at the
    end of the sample does not count); else the legacy single-byte encoding whose reading
    makes most sense (:mod:`.legacy`), cp1252 when several read the same.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if _looks_like_utf16(head):  # before UTF-8, which ASCII text with NULs between is too
        return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    return _legacy_encoding(head)


def _legacy_encoding(head: bytes) -> str:
    # The single-byte encoding whose reading makes most sense (see legacy.py). Multi-byte
    # legacy encodings (Shift JIS, GB 18030…) are guessed wrongly on short samples; they can be
    # chosen on the preview page.
    return legacy.best_encoding(head)


def _looks_like_utf16(head: bytes) -> bool:
    sample = head[:4096]
    return len(sample) >= 4 and max(sample[0::2].count(0), sample[1::2].count(0)) > len(sample) // 4


def file_encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        return detect_encoding_of(handle.read(SAMPLE_BYTES))


def check_encoding(name: str) -> str:
    """The canonical name of an encoding a person typed or chose; UnreadableFile if unknown."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise UnreadableFile(f"Sheaf does not know the text encoding {name!r}.") from None


def encoding_readings(path: Path) -> list[legacy.TextReading]:
    """The two best readings of a file in a legacy encoding when they are too close to call;
    else none (UTF and byte-order-marked files are not in doubt)."""
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if detect_encoding_of(head) not in legacy.CANDIDATES:
        return []
    readings = legacy.rank(head)
    return readings[:2] if legacy.unsure(readings) else []
