"""What a file that is not a table is, from its first bytes, so that Sheaf can say so.

Every byte sequence reads as some legacy text, so without this a photo is "Latin-1 text" with
a preview of garbage. The magic numbers below are the formats people pick by mistake (a
screenshot, a PDF report, a zipped folder, an installer); the name given is what the refusal
tells the person, in plain words.
"""

from __future__ import annotations

IMPORTS = "Sheaf imports CSV, TSV, Excel (.xlsx, .xls, .xlsb), OpenDocument (.ods) and JSON files."

# (offset, magic, what it is). Magics that are letters carry the binary bytes after them too,
# so a CSV whose first column is called ID3 stays a CSV.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (0, b"8BPS\x00\x01", "a Photoshop image"),
    (0, b"%PDF-", "a PDF document"),
    (0, b"{\\rtf", "a Rich Text document"),
    (0, b"\x7fELF", "a Linux program"),
    (0, b"\xfe\xed\xfa\xce", "a macOS program"),
    (0, b"\xfe\xed\xfa\xcf", "a macOS program"),
    (0, b"\xce\xfa\xed\xfe", "a macOS program"),
    (0, b"\xcf\xfa\xed\xfe", "a macOS program"),
    (0, b"\xca\xfe\xba\xbe", "a macOS program"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (0, b"\xfd7zXZ\x00", "an xz archive"),
    (0, b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (257, b"ustar", "a tar archive"),
    (0, b"SQLite format 3\x00", "an SQLite database"),
    (0, b"ID3\x03\x00", "an MP3 audio file"),
    (0, b"ID3\x04\x00", "an MP3 audio file"),
    (0, b"ID3\x02\x00", "an MP3 audio file"),
    (0, b"fLaC\x00", "a FLAC audio file"),
    (0, b"OggS\x00", "an Ogg audio or video file"),
    (0, b"MThd\x00\x00\x00\x06", "a MIDI file"),
    (0, b"\x1a\x45\xdf\xa3", "a Matroska or WebM video"),
)
_RIFF = {b"WEBP": "a WebP image", b"WAVE": "a WAV audio file", b"AVI ": "an AVI video"}
_FTYP = {  # the brand of an ISO media file (MP4 and its relatives)
    b"heic": "a HEIC image",
    b"heix": "a HEIC image",
    b"mif1": "a HEIC image",
    b"avif": "an AVIF image",
    b"qt  ": "a QuickTime video",
    b"M4A ": "an M4A audio file",
}
# Zip files that are documents of other programs, by a part only they have.
_ZIP_PARTS = (
    ("word/document.xml", "a Word document"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
    ("META-INF/container.xml", "an EPUB e-book"),
    ("META-INF/MANIFEST.MF", "a Java archive"),
)
_ODF = {
    b"application/vnd.oasis.opendocument.text": "an OpenDocument text",
    b"application/vnd.oasis.opendocument.presentation": "an OpenDocument presentation",
    b"application/vnd.oasis.opendocument.graphics": "an OpenDocument drawing",
}


def what_file_is(head: bytes) -> str | None:
    """A plain name for the kind of file that begins with ``head`` ("a PNG image"), or None
    when its first bytes are no known format's (as for text, and for workbooks: zip and OLE
    files are looked into by the caller)."""
    for offset, magic, name in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return name
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return _FTYP.get(head[8:12], "an MP4 video")
    if head[:2] == b"BM" and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "a BMP image"  # the reserved bytes make "BM…" text unlikely to match
    if head[:4] == b"\x00\x00\x01\x00" and head[4:6] != b"\x00\x00" and head[6:7] != b"\x00":
        return "a Windows icon"
    if head[:2] == b"MZ" and len(head) >= 64 and b"\x00" in head[2:64]:
        return "a Windows program"
    return None


def zip_kind(names: set[str], mimetype: bytes = b"") -> str:
    """What a zip file that is no workbook is, from the names of its parts."""
    for part, name in _ZIP_PARTS:
        if part in names:
            return name
    for prefix, name in _ODF.items():
        if mimetype.startswith(prefix):
            return name
    return "a zip archive"


def looks_binary(head: bytes) -> bool:
    """Many NUL bytes, and not in the pattern of UTF-16 or UTF-32 text (where the NULs
    are the high bytes of ASCII characters, so they fall in the same lanes)."""
    sample = head[:4096]
    if sample.count(0) <= len(sample) // 10:
        return False
    for width in (2, 4):
        lanes = [sample[i::width] for i in range(width)]
        zero = [lane.count(0) / max(len(lane), 1) for lane in lanes]
        if max(zero) > 0.3 and min(zero) < 0.05:
            return False  # NULs in some lanes, (almost) never in another: a wide encoding
    return True
