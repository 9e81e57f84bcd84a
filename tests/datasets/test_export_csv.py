"""The CSV export's writer (export.csv_chunks) writes exactly what csv.writer writes to a
file: one chunk per batch, the header first, the byte-order mark when asked."""

from __future__ import annotations

import csv
import io

import pytest

from server.datasets.reading import export
from server.datasets.storage import Column

COLUMNS = [Column("c1", "Name, full", "text"), Column("c2", "=Sum", "real")]
BATCHES = [
    [("Ann", 1.5), ('Bo "B"', None), ("line\nbreak", 1e16), ("", 0.1 + 0.2)],
    [("王伟", -3), ("crlf\r\nin", 2.0), ("'=1+1", 7)],
    [],
    [("Ø", float("inf"))],
]


def _reference(bom: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write("\ufeff")
    writer.writerow(["Name, full", "'=Sum"])
    for batch in BATCHES:
        writer.writerows(batch)
    return buffer.getvalue().encode()


@pytest.mark.parametrize("bom", [False, True])
def test_chunks_are_what_csv_writer_writes(bom):
    chunks = list(export.csv_chunks(COLUMNS, iter(BATCHES), bom=bom))
    assert b"".join(chunks) == _reference(bom)
    assert len(chunks) == len(BATCHES) + 1  # one per batch, then what is left (nothing)
    assert chunks[0].startswith(("\ufeff" if bom else "").encode() + b'"Name, full",\'=Sum\r\n')
    assert chunks[0].endswith(b'"line\nbreak",1e+16\r\n,0.30000000000000004\r\n')
    assert chunks[1] == '王伟,-3\r\n"crlf\r\nin",2.0\r\n\'=1+1,7\r\n'.encode()
    assert chunks[2] == b"" and chunks[3] == "Ø,inf\r\n".encode() and chunks[4] == b""


def test_no_rows_is_the_header():
    assert b"".join(export.csv_chunks(COLUMNS, iter([]), bom=False)) == (b'"Name, full",\'=Sum\r\n')
