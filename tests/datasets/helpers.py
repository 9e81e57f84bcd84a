"""The import flow driven through its pages (upload, preview, run) and a generated CSV, for the
import, recipe, crash and desktop-bridge tests."""

from __future__ import annotations

import csv
import html
import io
import re

from server.datasets.catalog import columns_of, dataset_file
from server.models import Dataset, ImportJob
from tests.helpers import read_rows


def upload(client, content: bytes, name: str = "data.csv"):
    return client.post_form(
        "/import", {"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


def preview_form(client, job_id: int, page: str | None = None) -> dict:
    """The preview form's fields as the page fills them in (what a person would submit)."""
    if page is None:
        page = client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    form = {
        "csrf_token": client.csrf_token(),
        "action": "import",
        "mode": "new",
        "target": "0",
        "on_bad": "keep",
    }
    fields = r'<input[^>]*name="(name|header_row|shown|missing|reading_\d+)"[^>]*value="([^"]*)"'
    for name, value in re.findall(fields, page):
        form[name] = html.unescape(value)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body
        )
        if chosen:
            form[name] = chosen.group(1) or chosen.group(2)
    return form


def run_import(app, client, content: bytes, name: str = "data.csv", **changes) -> ImportJob:
    response = upload(client, content, name)
    assert response.status_code == 302, response.get_data(as_text=True)
    job_id = int(response.headers["Location"].split("/")[2])
    form = preview_form(client, job_id)
    form.update(changes)
    response = client.post(f"/import/{job_id}/preview", data=form)
    assert response.status_code == 302, re.findall(
        r'role="alert">(.*?)</', response.get_data(as_text=True), re.S
    )
    assert response.headers["Location"] == f"/import/{job_id}"
    assert app.extensions["sheaf.imports"].wait(job_id, 30)
    return ImportJob.get_by_id(job_id)


def stored(app, dataset: Dataset) -> list[tuple]:
    path = dataset_file(app.config["DATA_DIR"], dataset.storage_key)
    return [row[1:] for row in read_rows(path, columns_of(dataset), 10_000)]


def big_csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "amount", "day", "note"])
    for i in range(rows):
        writer.writerow([i, f"{i * 0.37:.2f}", f"2024-01-{i % 28 + 1:02d}", f'row {i}, quoted "x"'])
    return out.getvalue().encode()
