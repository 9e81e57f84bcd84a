"""Deciding what a file is from its bytes, never its name: format, then text encoding."""

from __future__ import annotations

import codecs
import zipfile
import zlib
from pathlib import Path

from .errors import UnreadableFile

SAMPLE_BYTES = 1 << 20  # enough to judge the encoding, the delimiter and the types

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


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
    text = _decode_sample(head)
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("[", "{"):
        return "json"
    if len(head) < 256 and _is_json_scalar(stripped):
        return "json"  # a lone number or string: JSON, though not a table
    if "\x00" in text[:4096] and text.count("\x00") > len(text) // 10:
        raise UnreadableFile("This looks like a binary file, not a table Sheaf can read.")
    return "delimited"


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
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        KeyError,
        EOFError,
        NotImplementedError,
    ) as exc:
        raise UnreadableFile(f"This file looks like a damaged spreadsheet ({exc}).") from None
    raise UnreadableFile("This is a zip archive, not a spreadsheet Sheaf can read.")


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
    end of the sample does not count); else charset-normalizer's best guess among legacy
    single-byte encodings, falling back to cp1252, the usual one for files from Windows.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    if _looks_like_utf16(head):
        return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
    return _legacy_encoding(head)


# Western European text is the common case for files that are not UTF-8; charset-normalizer
# often calls such a file cp1250, which turns every ñ into ń. So cp1252 wins whenever it reads
# the bytes and the guess is one of its Latin neighbours; the preview lets a person choose.
_LATIN_NEIGHBOURS = {
    "cp1252",
    "cp1250",
    "latin_1",
    "iso8859_15",
    "iso8859_2",
    "ascii",
    "mac_roman",
    "cp850",
}


def _legacy_encoding(head: bytes) -> str:
    from charset_normalizer import from_bytes

    # Multi-byte legacy encodings (Shift JIS, GB 18030…) are guessed wrongly on short samples;
    # they can be chosen on the preview page.
    candidates = [*sorted(_LATIN_NEIGHBOURS - {"ascii"}), "cp1251", "cp1253", "koi8_r"]
    best = from_bytes(head[:65536], cp_isolation=candidates).best()
    name = best.encoding if best is not None else "cp1252"
    if name in _LATIN_NEIGHBOURS:
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1" if name in ("cp1252", "latin_1") else name
        return "cp1252"
    return name


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
