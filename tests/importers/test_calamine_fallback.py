"""Without python-calamine-plus (or with SHEAF_EXCEL_READER=calamine) Sheaf reads spreadsheets
with upstream python-calamine: every sheet read whole, within the whole-sheet budget, and the
values imported exactly as the fork's. Each workbook here is imported through both readers and
the stored values compared value by value, with their types (1, 1.0 and True are equal in
Python, not in a dataset): error cells, whole numbers, decimals, dates, date-times, times,
durations, yes/no, text, empty cells, an out-of-order sheet, cells without references. The last
test goes through the web routes, whose previews and imports run in helper processes."""

from __future__ import annotations

import re
import sys
import zipfile
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
import xlsxwriter

from server.datasets.loading import pipeline
from server.importers import Limits, UnreadableFile, calamine_reader, excel, inspect_file
from tests.datasets.helpers import run_import, upload
from tests.helpers import read_rows
from tests.importers.helpers import (
    api_rows,
    columns,
    minimal_workbook,
    typical,
    with_sheet_xml,
    workbook,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "xlsx"
ERRORS = ["#N/A", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"]


def typed(rows) -> list[list[tuple[str, object]]]:
    return [[(type(v).__name__, v) for v in row] for row in rows]


def _forget() -> None:
    """What a process remembers of sheets it read (a read of the other reader must not use it)."""
    excel._parsed.clear()
    excel._unstreamable.clear()


def imported(path: Path, dest: Path, monkeypatch, fallback: bool) -> dict:
    """Everything an import of ``path`` shows and stores, read by the fork or by upstream
    (the fork made unimportable, as on a machine without it)."""
    _forget()
    with monkeypatch.context() as patch:
        patch.delenv(calamine_reader.ENV, raising=False)
        if fallback:
            patch.setitem(sys.modules, "python_calamine_plus", None)  # its import fails
        assert calamine_reader.streams() is not fallback
        try:
            sample = inspect_file(path)
            outcome = pipeline.load_file(path, dest, sample)
        except UnreadableFile as exc:
            return {"refused": str(exc)}
        finally:
            _forget()
    return {
        "labels": sample.labels,
        "sample": typed(sample.rows),
        "warnings": sample.warnings,
        "types": [c.type for c in outcome.columns],
        "stored": typed(row[1:] for row in read_rows(dest, outcome.columns, 100_000)),
        "problems": [(p.row, p.column, p.value, p.message) for p in outcome.problems],
        "errors": outcome.result.excel_errors,
        "misfits": outcome.result.misfits,
        "missing": outcome.result.missing,
    }


def both(path: Path, tmp_path: Path, monkeypatch) -> dict:
    fork = imported(path, tmp_path / f"{path.stem}.fork.db", monkeypatch, fallback=False)
    upstream = imported(path, tmp_path / f"{path.stem}.upstream.db", monkeypatch, fallback=True)
    assert upstream.keys() == fork.keys()
    for key in fork:
        assert upstream[key] == fork[key], key
    return fork


def raw_workbook(path: Path, body: str, prefix: str = "") -> Path:
    """A one-sheet workbook whose sheetData is ``body`` as given (cells without references,
    rows out of order, a namespace prefix ``x:``…)."""
    xmlns = f"xmlns{':' + prefix.rstrip(':') if prefix else ''}"
    xml = (
        f'<?xml version="1.0"?><{prefix}worksheet {xmlns}="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><{prefix}sheetData>{body}</{prefix}sheetData>'
        f"</{prefix}worksheet>"
    )
    return with_sheet_xml(path, xml)


def test_the_fork_is_chosen_when_it_can_be_imported_and_upstream_otherwise(monkeypatch):
    monkeypatch.delenv(calamine_reader.ENV, raising=False)
    assert calamine_reader.binding().__name__ == "python_calamine_plus"
    monkeypatch.setenv(calamine_reader.ENV, "calamine")
    assert calamine_reader.binding().__name__ == "python_calamine"
    assert not calamine_reader.streams()
    monkeypatch.setenv(calamine_reader.ENV, "calamine-plus")
    assert calamine_reader.binding().__name__ == "python_calamine_plus"
    monkeypatch.setitem(sys.modules, "python_calamine_plus", None)
    with pytest.raises(UnreadableFile, match="asks for python-calamine-plus"):
        calamine_reader.binding()  # asked for by name: no fallback
    monkeypatch.delenv(calamine_reader.ENV)
    assert calamine_reader.binding().__name__ == "python_calamine"
    monkeypatch.setenv(calamine_reader.ENV, "openpyxl")
    with pytest.raises(UnreadableFile, match="SHEAF_EXCEL_READER is 'openpyxl'"):
        calamine_reader.binding()
    monkeypatch.delenv(calamine_reader.ENV)
    monkeypatch.setitem(sys.modules, "python_calamine", None)
    with pytest.raises(UnreadableFile, match="neither python-calamine-plus nor python-calamine"):
        calamine_reader.binding()


def test_typed_values_of_every_kind_are_imported_alike(tmp_path, monkeypatch):
    path = tmp_path / "kinds.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    formats = {
        "day": book.add_format({"num_format": "yyyy-mm-dd"}),
        "stamp": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "clock": book.add_format({"num_format": "hh:mm"}),
        "span": book.add_format({"num_format": "[h]:mm:ss"}),
    }
    header = ["whole", "negative", "decimal", "day", "stamp", "midnight", "clock", "span"]
    header += ["yes", "text", "blank", "error", "long"]
    sheet.write_row(0, 0, header)
    for i in range(14):
        r = i + 1
        sheet.write_number(r, 0, float(i * 3))  # a whole number, whichever type it is given as
        sheet.write_number(r, 1, -i - 1)
        sheet.write_number(r, 2, i / 8 + 0.1)
        sheet.write_datetime(r, 3, datetime(2020, 1 + i % 12, 1 + i), formats["day"])
        sheet.write_datetime(r, 4, datetime(2021, 2, 3, i, 4, 5), formats["stamp"])
        sheet.write_datetime(r, 5, datetime(2022, 1, 1 + i), formats["stamp"])
        sheet.write_datetime(r, 6, time(i, 30), formats["clock"])
        sheet.write_datetime(r, 7, timedelta(days=1, hours=i, seconds=7), formats["span"])
        sheet.write_boolean(r, 8, i % 3 == 0)
        if i % 4:
            sheet.write_string(r, 9, f"text {i}, é 北京")
        if i == 5:
            sheet.write_number(r, 10, 1)
        sheet.write_formula(r, 11, "=1/0", None, ERRORS[i % len(ERRORS)])
        sheet.write_number(r, 12, 9007199254740993 + 2 * i if i % 2 else 2**53 + i)
    book.close()
    fork = both(path, tmp_path, monkeypatch)
    assert fork["types"][:6] == ["integer", "integer", "real", "date", "datetime", "date"]
    first, second = fork["stored"][0], fork["stored"][1]
    assert first[:6] == [
        ("int", 0),
        ("int", -1),
        ("float", 0.1),
        ("str", "2020-01-01"),
        ("str", "2021-02-03 00:04:05"),
        ("str", "2022-01-01"),  # midnight: a date
    ]
    assert second[0] == ("int", 3) and second[8] == ("int", 0)  # yes/no stored as 1 and 0
    assert [row[11] for row in fork["stored"][:3]] == [
        ("str", "#N/A"),  # a text column: kept as written
        ("str", "#DIV/0!"),
        ("str", "#NAME?"),
    ]
    # Past 2**53 (xlsxwriter wrote it as the float's digits): an int, as the fork gives it.
    assert second[12] == ("int", 9007199254740996)
    assert fork["errors"] == {"error": 14}


def test_error_cells_long_numbers_and_cells_without_references_are_imported_alike(
    tmp_path, monkeypatch
):
    rows = [["id", "ratio", "code", "n"]]
    for i in range(1, 22):
        long = int("123456789012345678"[: 16 + i % 3]) + i  # 16, 17 and 18 digits
        rows.append([i, ("#ERR", ERRORS[i % 7]) if i % 3 else i / 4, -long, 3.0 if i % 2 else 1e20])
    rows[5][1] = 7
    path = minimal_workbook(tmp_path / "errors.xlsx", rows)
    fork = both(path, tmp_path, monkeypatch)
    assert fork["types"] == ["integer", "text", "integer", "real"]
    assert fork["stored"][0] == [
        ("int", 1),
        ("str", "#DIV/0!"),
        ("int", -12345678901234568),  # 17 digits: a float would have made it ...570
        ("float", 3.0),
    ]
    assert fork["stored"][1][2:] == [("int", -123456789012345680), ("float", 1e20)]
    assert [fork["stored"][i][1] for i in (4, 5, 11)] == [
        ("str", "7"),
        ("str", "1.5"),
        ("str", "3"),  # written "3.0": a whole number, as a text column keeps it
    ]
    assert fork["errors"] == {"ratio": 13}

    # The same cells with no r attributes: positions counted, as calamine counts them.
    with zipfile.ZipFile(path) as archive:
        body = archive.read("xl/worksheets/sheet1.xml").decode()
    body = re.sub(r' r="[A-Z]+[0-9]+"', "", body.split("<sheetData>")[1].split("</sheetData>")[0])
    bare = raw_workbook(tmp_path / "bare.xlsx", body)
    assert both(bare, tmp_path, monkeypatch)["stored"] == fork["stored"]

    # ... and under a namespace prefix, from row 3, the first cell of each row in column C.
    body = "".join(
        f'<x:row r="{n + 3}"><x:c r="C{n + 3}"><x:v>{n}</x:v></x:c><x:c t="e"><x:v>{err}</x:v>'
        f"</x:c><x:c><x:v>{9007199254740993 + n}</x:v></x:c></x:row>"
        for n, err in enumerate(ERRORS)
    )
    prefixed = both(raw_workbook(tmp_path / "x.xlsx", body, "x:"), tmp_path, monkeypatch)
    assert [row[-3:] for row in prefixed["stored"][:2]] == [
        [("int", 0), ("str", "#N/A"), ("int", 9007199254740993)],
        [("int", 1), ("str", "#DIV/0!"), ("int", 9007199254740994)],
    ]


def test_an_out_of_order_sheet_is_imported_alike(tmp_path, monkeypatch):
    rows = [["id", "name", "amount", "paid"]] + [
        [i, f"r{i}", ("#ERR", "#REF!") if i == 3 else i * 2.5, i % 2 == 0] for i in range(1, 9)
    ]
    rows = [[int(v) if isinstance(v, bool) else v for v in row] for row in rows]
    path = minimal_workbook(tmp_path / "ordered.xlsx", rows)
    with zipfile.ZipFile(path) as archive:
        body = archive.read("xl/worksheets/sheet1.xml").decode()
    stored = re.findall(r"<row .*?</row>", body)
    shuffled = raw_workbook(tmp_path / "shuffled.xlsx", "".join(stored[3:] + stored[:3]))
    fork = both(shuffled, tmp_path, monkeypatch)
    assert [row[0] for row in fork["stored"]] == [("int", i) for i in range(1, 9)]
    assert fork["stored"][2][2] == ("str", "#REF!")
    assert fork == both(path, tmp_path, monkeypatch)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.xlsx")))
def test_the_corpus_workbooks_are_imported_alike(name, tmp_path, monkeypatch):
    both(CORPUS / name, tmp_path, monkeypatch)


def test_an_ods_is_imported_alike(tmp_path, monkeypatch):
    cells = (
        '<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p>'
        '</table:table-cell><table:table-cell office:value-type="date" office:date-value='
        '"2024-03-{d:02d}"/><table:table-cell office:value-type="string"><text:p>#DIV/0!'
        '</text:p></table:table-cell><table:table-cell office:value-type="boolean" '
        'office:boolean-value="{b}"/><table:table-cell/>'
    )
    rows = "".join(
        f"<table:table-row>{cells.format(n=n * 1.5, d=n + 1, b=str(n % 2 == 0).lower())}"
        "</table:table-row>"
        for n in range(6)
    )
    path = _ods(tmp_path / "s.ods", f'<table:table table:name="S">{rows}</table:table>')
    fork = both(path, tmp_path, monkeypatch)
    assert fork["stored"][1][:3] == [("float", 1.5), ("str", "2024-03-02"), ("str", "#DIV/0!")]


def _ods(path: Path, tables: str) -> Path:
    content = (
        '<?xml version="1.0"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    mimetype = "application/vnd.oasis.opendocument.spreadsheet"
    manifest = (
        '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
        f'manifest:media-type="{mimetype}"/><manifest:file-entry manifest:full-path='
        '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return path


def test_upstream_reads_every_sheet_whole_within_the_budget(tmp_path, monkeypatch):
    path = workbook(tmp_path / "big.xlsx", [typical(i) for i in range(200)])
    small = Limits(whole_sheet_max_bytes=1000 * 32)  # 1,000 cells: the sheet has 201 by 7
    assert inspect_file(path, limits=small).labels[0] == "n"  # the fork streams it
    monkeypatch.setitem(sys.modules, "python_calamine_plus", None)
    _forget()
    with pytest.raises(UnreadableFile, match="holds 1,407 cells"):
        inspect_file(path, limits=small)


def test_the_cells_read_back_for_upstream_count_against_the_budget(tmp_path, monkeypatch):
    path = minimal_workbook(tmp_path / "e.xlsx", [["e"]] + [[("#ERR", "#NUM!")]] * 20)
    budget = Limits(whole_sheet_max_bytes=10 * calamine_reader.FIX_BYTES)  # 10 read back
    monkeypatch.setitem(sys.modules, "python_calamine_plus", None)
    _forget()
    with pytest.raises(UnreadableFile, match="more than 10 error cells and long whole numbers"):
        inspect_file(path, limits=budget)


def test_a_doctype_in_a_sheet_read_back_is_refused(tmp_path, monkeypatch):
    path = minimal_workbook(tmp_path / "d.xlsx", [["e"], [("#ERR", "#NUM!")]])
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        b"?>", b'?><!DOCTYPE worksheet [<!ENTITY a "b">]>', 1
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with zipfile.ZipFile(path) as archive, pytest.raises(UnreadableFile, match="DOCTYPE"):
        calamine_reader.xlsx_fixes(archive, "xl/worksheets/sheet1.xml", Limits())


def test_an_import_through_the_pages_reads_alike_in_the_helpers(
    app, editor_client, people, tmp_path, monkeypatch
):
    """SHEAF_EXCEL_READER reaches the preview's and the import's helper processes: the import
    stores what the fork's does, and a sheet past the whole-sheet budget, which the fork
    streams, is refused there."""
    rows = [["id", "ratio", "label", "code"]]
    for i in range(1, 41):
        rows.append([i, i / 4, ("#ERR", ERRORS[i % 7]) if i % 3 else 2.0, -123456789012345678 - i])
    rows[7][1] = ("#ERR", "#DIV/0!")  # flagged in a column of numbers
    content = minimal_workbook(tmp_path / "mixed.xlsx", rows).read_bytes()
    monkeypatch.delenv(calamine_reader.ENV, raising=False)
    fork = run_import(app, editor_client, content, "mixed.xlsx", confirmed="1")
    monkeypatch.setenv(calamine_reader.ENV, "calamine")
    upstream = run_import(app, editor_client, content, "mixed.xlsx", confirmed="1")
    assert fork.status == upstream.status == "done", (fork.message, upstream.message)
    assert fork.problem_count == upstream.problem_count > 0
    got = api_rows(editor_client, upstream.dataset.id)
    expected = api_rows(editor_client, fork.dataset.id)
    assert typed(r.values() for r in got) == typed(r.values() for r in expected)
    assert [(c["label"], c["type"]) for c in columns(editor_client, upstream.dataset.id)] == [
        (c["label"], c["type"]) for c in columns(editor_client, fork.dataset.id)
    ]
    assert got[6]["c2"] == "#DIV/0!" and got[6]["c4"] == -123456789012345685
    assert got[0]["c3"] == "#DIV/0!" and got[2]["c3"] == "2"

    # A sheet past a whole-sheet budget of 1 MiB (32,768 cells; it has 5,001 by 7), which the
    # fork streams: the helpers refuse it with the fallback forced, so they read with upstream.
    big = workbook(tmp_path / "big.xlsx", [typical(i) for i in range(5000)]).read_bytes()
    monkeypatch.setattr(
        app.extensions["sheaf.imports"], "limits", Limits(whole_sheet_max_bytes=2**20)
    )
    job = run_import(app, editor_client, big, "big.xlsx", confirmed="1")  # the import's helper
    assert job.status == "failed" and "cells of a sheet it must read whole" in job.message
    monkeypatch.setitem(app.config, "IMPORT_XLSX_MAX_WHOLE_SHEET_MIB", 1)
    job_id = int(upload(editor_client, big, "big.xlsx").headers["Location"].split("/")[2])
    page = editor_client.get(f"/import/{job_id}/preview").get_data(as_text=True)  # its helper
    assert "cells of a sheet it must read whole" in page
    monkeypatch.delenv(calamine_reader.ENV)
    job = run_import(app, editor_client, big, "big.xlsx", confirmed="1")
    assert job.status == "done", job.message
    assert job.dataset.row_count == 5000
