"""An .xlsx sheet whose rows are stored out of order (valid: Excel and LibreOffice open it)
cannot be streamed; the preview and the import read it whole instead, with the values the
stream gives a sheet stored in order. Driven through the web routes, read back through the API.
The workbooks are written part by part here."""

from __future__ import annotations

import re

from server.importers import Limits, UnreadableFile, excel, inspect_file
from tests.datasets.helpers import preview_form, run_import, stored, upload
from tests.importers.helpers import api_rows, columns, with_sheet_xml


def _cell(ref: str, value) -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def _row(number: int, values: list) -> str:
    # Column A stays empty: the values start in column B.
    cells = "".join(_cell(f"{chr(66 + i)}{number}", v) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def sheet_workbook(path, rows: list[list], order: list[int]):
    """A workbook whose one sheet holds ``rows`` (row 1 first), stored in ``order``."""
    body = "".join(_row(n, rows[n - 1]) for n in order)
    xml = (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>'
    )
    return with_sheet_xml(path, xml)


ROWS = [["id", "name", "amount", "paid"], [1, "one", 2.5, True], [2, "two", -7, False]]


def test_the_stream_refuses_rows_out_of_order(tmp_path):
    import python_calamine_plus as calamine

    path = sheet_workbook(tmp_path / "o.xlsx", ROWS, [3, 1, 2])
    stream = calamine.CalamineWorkbook.from_path(str(path)).stream_sheet_by_name("Data")
    try:
        list(stream)
    except calamine.CalamineError as exc:
        assert "row order" in str(exc)
    else:  # the fork learnt to stream them: the fallback is then unused, and harmless
        raise AssertionError("the stream read rows stored out of order")


def test_the_preview_of_rows_out_of_order_reads_the_sheet_whole(tmp_path):
    ordered = inspect_file(sheet_workbook(tmp_path / "in.xlsx", ROWS, [1, 2, 3]))
    shuffled = inspect_file(sheet_workbook(tmp_path / "out.xlsx", ROWS, [3, 1, 2]))
    assert shuffled.labels == ordered.labels == ["column_1", "id", "name", "amount", "paid"]
    assert shuffled.rows == ordered.rows
    assert shuffled.rows[0] == [None, 1, "one", 2.5, "true"]
    assert shuffled.rows[1] == [None, 2, "two", -7, "false"]


def test_the_whole_sheet_limit_holds_for_the_fallback(tmp_path):
    path = sheet_workbook(tmp_path / "out.xlsx", ROWS, [3, 1, 2])
    tiny = Limits(whole_sheet_max_bytes=4 * 32)  # 4 cells; the sheet spans 3 rows by 5 columns
    try:
        inspect_file(path, limits=tiny)
    except UnreadableFile as exc:
        assert "'Data' holds 15 cells" in str(exc)
    else:
        raise AssertionError("a sheet over the budget was read whole")


def test_a_sheet_read_whole_keeps_an_empty_column_a(tmp_path):
    """calamine's iter_rows starts at the first column holding a value: the import's rows
    must still start at column A, as the preview's do."""
    path = sheet_workbook(tmp_path / "out.xlsx", ROWS, [3, 1, 2])
    options = inspect_file(path).options
    problems = []
    rows = list(excel.iter_rows(path, options, 5, lambda *p: problems.append(p)))
    assert rows == [[None, 1, "one", 2.5, "true"], [None, 2, "two", -7, "false"]]
    assert problems == []


def test_preview_and_import_of_rows_out_of_order_through_the_pages(app, editor_client, people):
    content = sheet_workbook(app.config["DATA_DIR"] / "shuffled.xlsx", ROWS, [3, 1, 2]).read_bytes()
    response = upload(editor_client, content, "shuffled.xlsx")
    job_id = int(response.headers["Location"].split("/")[2])
    page = editor_client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert "cannot be read" not in page
    assert re.search(r">\s*one\s*<", page) and re.search(r">\s*two\s*<", page)
    form = preview_form(editor_client, job_id, page)
    assert form["header_row"] == "1"

    job = run_import(app, editor_client, content, "shuffled.xlsx", confirmed="1")
    assert job.status == "done", job.message
    rows, cols = api_rows(editor_client, job.dataset.id), columns(editor_client, job.dataset.id)
    names = [c["name"] for c in cols]
    assert [c["label"] for c in cols] == ["column_1", "id", "name", "amount", "paid"]
    assert len(rows) == 2
    first, second = ({n: row[n] for n in names} for row in rows)
    assert first[names[0]] is None and second[names[0]] is None
    assert first[names[1]] == 1 and second[names[1]] == 2
    assert first[names[2]] == "one" and second[names[2]] == "two"
    assert first[names[3]] == 2.5 and second[names[3]] == -7
    assert first[names[4]] == 1 and second[names[4]] == 0  # yes/no
    assert job.problem_count == 0


def test_an_import_that_meets_the_refusal_part_way_reads_again(app, editor_client, people):
    """The first 4,500 rows stream into the dataset before the stream meets two rows swapped:
    the load starts again from the whole sheet, and every row arrives once, in order."""
    count = 4600
    rows = [["n", "label"]] + [[i, f"r{i}"] for i in range(1, count + 1)]
    order = [*range(1, 4502), 4503, 4502, *range(4504, count + 2)]
    content = sheet_workbook(app.config["DATA_DIR"] / "late.xlsx", rows, order).read_bytes()
    excel._unstreamable.clear()
    job = run_import(app, editor_client, content, "late.xlsx", confirmed="1")
    assert job.status == "done", job.message
    assert job.problem_count == 0
    cols = columns(editor_client, job.dataset.id)
    assert [c["label"] for c in cols] == ["column_1", "n", "label"]
    total = editor_client.get(f"/api/v1/datasets/{job.dataset.id}/rows?limit=1").get_json()
    assert total["total"] == count
    first = api_rows(editor_client, job.dataset.id)  # the API's first 1,000
    for i, row in enumerate(first, start=1):
        assert (row["c1"], row["c2"], row["c3"]) == (None, i, f"r{i}")
    every = stored(app, job.dataset)
    assert len(every) == count
    for i, row in enumerate(every, start=1):
        assert row == (None, i, f"r{i}")
