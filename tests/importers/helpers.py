"""Workbooks made for the tests: a hand-written smallest .xlsx (error cells, broken sheets) and
one written by xlsxwriter with typical rows of every type, for the importer, load and browser
tests."""

import zipfile
from datetime import date, datetime

import xlsxwriter

ROWS = 4500  # more than two of the reader's batches


def workbook(path, rows, header=("n", "ratio", "day", "at", "ok", "name", "code")):
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, stamp)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return path


def typical(i):
    return [
        i,
        i / 8 if i % 3 else None,
        date(2020, 1 + i % 12, 1 + i % 28),
        datetime(2021, 1 + i % 12, 1 + i % 28, i % 24, i % 60, i % 60),  # midnight: a date
        i % 2 == 0,
        f'name {i}, "quoted" é 北京' if i % 5 else "",
        f"{i:05d}",
    ]


def minimal_workbook(path, rows):
    """A smallest valid .xlsx: inline strings, numbers, and ("#ERR", code) error cells."""

    def cell(ref, value):
        if isinstance(value, tuple):
            return f'<c r="{ref}" t="e"><v>{value[1]}</v></c>'
        if isinstance(value, str):
            return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
        return f'<c r="{ref}"><v>{value}</v></c>'

    body = "".join(
        f'<row r="{r}">'
        + "".join(cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',  # noqa: E501
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',  # noqa: E501
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',  # noqa: E501
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',  # noqa: E501
        "xl/worksheets/sheet1.xml": '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + body
        + "</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def api_rows(client, dataset_id: int) -> list[dict]:
    answer = client.get(f"/api/v1/datasets/{dataset_id}/rows?limit=1000")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [{k: v for k, v in row.items() if k != "_rowid"} for row in answer.get_json()["rows"]]


def columns(client, dataset_id: int) -> list[dict]:
    return client.get(f"/api/v1/datasets/{dataset_id}").get_json()["columns"]


def with_sheet_xml(path, xml: str):
    """A smallest workbook at ``path`` whose first sheet's XML is ``xml`` exactly (rows out of
    order, cells without references, a namespace prefix…: what no writer library makes)."""
    minimal_workbook(path, [["x"]])
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path
