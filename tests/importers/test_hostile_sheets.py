"""No file can take the server down (issue #16): whole-sheet readers count repeated rows and
columns before expanding them, zip parts are read with a byte cap, and a preview's reader runs
in a capped helper process whose end, however it comes, is a message."""

from __future__ import annotations

import os
import time
import zipfile

from server.datasets.loading import helper_preview
from server.datasets.loading.helper_process import Helper, cap_memory
from server.importers import UnreadableFile, inspect_file
from server.importers.sniff import detect_format
from tests.datasets.helpers import upload

CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>{}</office:spreadsheet></office:body>"
    "</office:document-content>"
)
MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIMETYPE}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def ods(path, tables: str, prolog: str = ""):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "content.xml", prolog + CONTENT.format(tables), compress_type=zipfile.ZIP_DEFLATED
        )
    return path


def value(text: str, repeat: int = 1) -> str:
    return (
        f'<table:table-cell office:value-type="string" table:number-columns-repeated="{repeat}">'
        f"<text:p>{text}</text:p></table:table-cell>"
    )


def bomb(path):
    """Under a kilobyte: one row of a thousand values, two hundred thousand times."""
    row = (
        f'<table:table-row table:number-rows-repeated="200000">{value("x", 1000)}</table:table-row>'
    )
    return ods(path, f'<table:table table:name="Big">{row}</table:table>')


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_an_ods_with_huge_repeats_is_refused_before_it_is_expanded(tmp_path):
    path = bomb(tmp_path / "bomb.ods")
    assert path.stat().st_size < 1024
    before, start = rss_mib(), time.perf_counter()
    try:
        inspect_file(path)
    except UnreadableFile as exc:
        assert "The sheet 'Big' holds 200,000,000 cells" in str(exc)
    else:
        raise AssertionError("the bomb was read")
    assert time.perf_counter() - start < 1
    assert rss_mib() - before < 50


def test_trailing_empty_repeats_of_a_real_ods_cost_nothing(tmp_path):
    """LibreOffice pads every sheet with a million empty rows of 16,384 empty cells."""
    rows = (
        f"<table:table-row>{value('name')}{value('n')}</table:table-row>"
        f'<table:table-row>{value("a")}<table:table-cell office:value-type="float" '
        'office:value="1"><text:p>1</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="16382"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048574">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    sample = inspect_file(
        ods(tmp_path / "real.ods", f'<table:table table:name="S">{rows}</table:table>')
    )
    assert sample.labels == ["name", "n"] and sample.rows == [["a", 1]]


def test_an_ods_declaring_a_doctype_is_refused(tmp_path):
    prolog = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    path = ods(tmp_path / "dtd.ods", '<table:table table:name="S"></table:table>', prolog)
    try:
        inspect_file(path)
    except UnreadableFile as exc:
        assert "DOCTYPE" in str(exc) or "damaged" in str(exc)
    else:
        raise AssertionError("a DOCTYPE was accepted")


def test_a_huge_mimetype_is_not_read_whole(tmp_path):
    path = tmp_path / "zip.ods"
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("mimetype", "w") as part,
    ):
        part.write(MIMETYPE.encode())
        block = b"\0" * (1 << 20)
        for _ in range(512):
            part.write(block)
    assert path.stat().st_size < 1024 * 1024
    before, start = rss_mib(), time.perf_counter()
    assert detect_format(path) == "ods"
    assert time.perf_counter() - start < 0.5
    assert rss_mib() - before < 50


def _crash(send, *args) -> None:
    """A reader that takes its process down (as a fault in native code would)."""
    os._exit(3)


def test_a_reader_that_crashes_ends_the_preview_with_a_message(
    app, editor_client, people, tmp_path, monkeypatch
):
    monkeypatch.setattr(helper_preview, "_inspect", _crash)
    response = upload(editor_client, bomb(tmp_path / "b.ods").read_bytes(), "crash.ods")
    job_id = int(response.headers["Location"].split("/")[2])
    page = editor_client.get(f"/import/{job_id}/preview")
    assert page.status_code == 200
    assert "the reader failed; nothing else was affected" in page.get_data(as_text=True)
    monkeypatch.undo()
    again = editor_client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert "The sheet &#39;Big&#39; holds 200,000,000 cells" in again
    assert editor_client.get("/import").status_code == 200  # the server serves on


def test_the_bomb_through_the_preview_leaves_the_server_small(app, editor_client, people, tmp_path):
    before = rss_mib()
    response = upload(editor_client, bomb(tmp_path / "b.ods").read_bytes(), "bomb.ods")
    job_id = int(response.headers["Location"].split("/")[2])
    page = editor_client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert "holds 200,000,000 cells" in page
    assert rss_mib() - before < 50


def _allocate(send, cap: int, size: int) -> None:
    capped = cap_memory(cap)
    try:
        block = bytearray(size)
        send.send(("allocated", capped, len(block)))
    except MemoryError:
        send.send(("MemoryError", capped, 0))


def test_a_capped_helper_gets_a_memory_error_not_the_memory():
    helper = Helper(_allocate, (512 * 1024**2, 2 * 1024**3), name="sheaf-test-cap")
    try:
        answer = helper.wait()
    finally:
        helper.end()
    assert answer == ("MemoryError", True, 0)
