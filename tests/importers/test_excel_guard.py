"""Spreadsheets that try to hurt the computer are refused before they are unpacked."""

import shutil
import zipfile

import pytest

from server.importers import Limits, ReadOptions, UnreadableFile, inspect_file
from tests.importers.helpers import minimal_workbook

CORPUS = __import__("pathlib").Path(__file__).parents[1] / "data" / "corpus" / "xlsx"


def _bomb(path, megabytes):
    """A real workbook with one extra part that expands from a few KiB to ``megabytes``."""
    shutil.copy(CORPUS / "frictionless__sheets.xlsx", path)
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/media/padding.bin", "w") as part,
    ):
        block = b"\0" * (1 << 20)
        for _ in range(megabytes):
            part.write(block)
    return path


def test_a_zip_bomb_is_refused_by_its_ratio(tmp_path):
    path = _bomb(tmp_path / "bomb.xlsx", 64)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(UnreadableFile, match="possible zip bomb"):
        inspect_file(path)


def test_the_unpacked_size_limit_is_a_setting(tmp_path):
    path = _bomb(tmp_path / "big.xlsx", 3)
    with pytest.raises(UnreadableFile, match="expands to more than 2 MiB"):
        inspect_file(path, limits=Limits(xlsx_max_uncompressed=2 * 1024**2))
    assert inspect_file(path, limits=Limits(xlsx_max_uncompressed=8 * 1024**2)).labels == [
        "id",
        "name",
    ]


def test_error_cells_are_kept_as_written_with_a_warning(tmp_path):
    path = minimal_workbook(
        tmp_path / "e.xlsx",
        [
            ["item", "ratio"],
            ["a", 0.5],
            ["b", ("e", "#DIV/0!")],
            ["c", ("e", "#N/A")],
            ["d", 2],
        ],
    )
    sample = inspect_file(path)
    assert sample.labels == ["item", "ratio"]
    assert sample.rows == [["a", 0.5], ["b", "#DIV/0!"], ["c", "#N/A"], ["d", 2]]
    assert "2 cells hold Excel errors" in " ".join(sample.warnings)
    assert "kept as written (#N/A is read as empty)" in " ".join(sample.warnings)


def test_sheets_can_be_chosen_and_are_listed():
    sample = inspect_file(CORPUS / "frictionless__sheets.xlsx")
    assert sample.sheets == ["Sheet1", "Sheet2", "Sheet3"] and sample.options.sheet == "Sheet1"
    with pytest.raises(UnreadableFile, match="no sheet named 'Nope'"):
        inspect_file(CORPUS / "frictionless__sheets.xlsx", ReadOptions(sheet="Nope"))


def test_chart_sheets_are_not_offered():
    sample = inspect_file(CORPUS / "openpyxl__contains_chartsheets.xlsx")
    assert sample.sheets == ["data", "moredata"]


def test_the_archive_is_measured_before_calamine_opens_it(tmp_path, monkeypatch):
    from server.importers import excel

    def never(path):
        raise AssertionError("calamine opened a workbook before the archive was measured")

    monkeypatch.setattr(excel, "_open_workbook", never)
    with pytest.raises(UnreadableFile, match="possible zip bomb"):
        inspect_file(_bomb(tmp_path / "bomb.xlsx", 64))


def test_error_cells_are_counted_across_the_measuring_chunks(tmp_path):
    from server.importers.excel import SheetFacts, _measure_part

    cell = b'<c r="B2" t="e"><v>#N/A</v></c>'
    for cut in range(1, len(cell)):  # the chunk boundary (1 MiB) falls inside the cell
        body = b"x" * ((1 << 20) - cut) + cell + b"<c/>" * 10 + cell + b"<mergeCell ref='A1:B2'/>"
        path = tmp_path / "part.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("sheet.xml", body)
        facts = SheetFacts()
        with zipfile.ZipFile(path) as archive:
            _measure_part(archive, archive.getinfo("sheet.xml"), [1 << 30], Limits(), facts)
        assert facts == SheetFacts(errors=2, merged=True), cut


@pytest.mark.parametrize("flipped", [0, 1, 7, 40, 200])
def test_a_damaged_part_is_refused_with_a_message(tmp_path, flipped):
    source = CORPUS / "frictionless__sheets.xlsx"
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + min(flipped, info.compress_size - 1)] ^= 0xFF
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableFile, match=r"damaged|cannot be read"):
        inspect_file(path)


def test_a_damaged_part_read_to_tell_the_format_is_refused_with_a_message(tmp_path):
    path = tmp_path / "bad.ods"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", b"application/vnd.oasis.opendocument.spreadsheet" * 50)
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF  # inside the compressed mimetype
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableFile, match="damaged spreadsheet"):
        inspect_file(path)
