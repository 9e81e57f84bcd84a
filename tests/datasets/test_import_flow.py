"""The import flow through the pages: upload, preview, run, result — and what must never happen."""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from pathlib import Path

import pytest

from server.datasets.catalog import columns_of
from server.datasets.loading import helper_load, jobs
from server.models import AuditEvent, Dataset, ImportJob, ImportProblem
from tests.datasets.helpers import big_csv, preview_form, run_import, stored, upload
from tests.helpers import make_app, make_dataset, make_import, make_user, signed_in


def leftovers(app) -> dict[str, list[str]]:
    data = Path(app.config["DATA_DIR"])
    return {
        folder: sorted(p.name for p in (data / folder).iterdir())
        for folder in ("datasets", "originals")
        if (data / folder).exists()
    }


@pytest.fixture
def editor(app, people):
    return signed_in(app, "eddie")


CSV = (
    "id,name,joined,active,score\n1,Ada,2024-01-05,yes,9.5\n2,Grace,2024-02-29,no,\n3,Zoë,,yes,7\n"
)


def test_an_editor_imports_a_csv_end_to_end(app, editor, people):
    response = upload(editor, CSV.encode())
    job_id = int(response.headers["Location"].split("/")[2])
    page = editor.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert "Columns and the first rows" in page and "Zoë" in page
    assert '<option selected value="delimited">' in page or 'value="delimited" selected' in page
    job = run_import(app, editor, CSV.encode(), name="members.csv")
    assert job.status == "done" and job.rows == 3 and job.problem_count == 0
    dataset = job.dataset
    assert dataset.name == "members" and dataset.owner_id == people["editor"].id
    assert [c.type for c in columns_of(dataset)] == ["integer", "text", "date", "boolean", "real"]
    assert stored(app, dataset) == [
        (1, "Ada", "2024-01-05", 1, 9.5),
        (2, "Grace", "2024-02-29", 0, None),
        (3, "Zoë", None, 1, 7.0),
    ]
    page = editor.get(f"/import/{job.id}").get_data(as_text=True)
    assert "3 rows" in page and "members" in page
    event = AuditEvent.get(AuditEvent.action == "dataset.import_new")
    assert event.actor_id == people["editor"].id
    assert event.details_dict["file"] == "members.csv" and event.details_dict["rows"] == 3
    assert (
        event.details_dict["size"] == len(CSV.encode()) and len(event.details_dict["sha256"]) == 64
    )
    assert editor.get(f"/datasets/{dataset.id}").status_code == 200


def test_the_original_is_kept_under_a_generated_name(app, editor):
    job = run_import(app, editor, CSV.encode(), name="../../etc/passwd.csv")
    original = jobs.original_path(app.config["DATA_DIR"], job)
    assert original.read_bytes() == CSV.encode() and re.fullmatch(r"[0-9a-f]{32}", original.name)
    assert job.file_name == "passwd.csv"


def test_a_type_override_lists_values_that_do_not_fit_and_keeps_them_as_written(app, editor):
    content = b"code,amount\nA1,10\nB2,x\nC3,12\n"
    job = run_import(app, editor, content, type_1="integer")
    assert job.status == "done" and job.problem_count == 1
    problem = ImportProblem.get(ImportProblem.import_job == job)
    assert (problem.row, problem.column_label, problem.value) == (2, "amount", "x")
    assert stored(app, job.dataset) == [("A1", 10), ("B2", "x"), ("C3", 12)]  # nothing lost
    page = editor.get(f"/import/{job.id}").get_data(as_text=True)
    assert "is not a whole number" in page


def test_values_that_do_not_fit_are_emptied_only_when_asked(app, editor):
    content = b"code,amount\nA1,10\nB2,x\nC3,12\n"
    job = run_import(app, editor, content, type_1="integer", on_bad="empty")
    assert job.status == "done" and job.problem_count == 1
    assert stored(app, job.dataset) == [("A1", 10), ("B2", None), ("C3", 12)]


def test_refusing_bad_values_leaves_nothing(app, editor):
    before = leftovers(app)
    content = b"code,amount\nA1,10\nB2,x\n"
    job = run_import(app, editor, content, type_1="integer", on_bad="refuse")
    assert job.status == "failed" and "refuse" in job.message
    assert Dataset.select().count() == 0
    assert leftovers(app)["datasets"] == before.get("datasets", [])
    assert ImportProblem.get(ImportProblem.import_job == job).value == "x"  # still shown
    assert AuditEvent.get(AuditEvent.action == "dataset.import_failed").outcome == "failed"


def test_an_unreadable_file_is_explained_on_the_preview(app, editor):
    response = upload(editor, b'[{"a": NaN}]', "x.json")
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "NaN, which is not a JSON number" in page
    assert 'value="import"' not in page  # nothing to import


def test_an_empty_upload_is_refused(app, editor):
    response = upload(editor, b"")
    assert "The file is empty." in response.get_data(as_text=True)
    assert ImportJob.select().count() == 0 and leftovers(app)["originals"] == []


def test_an_upload_over_the_limit_gets_the_413_page(tmp_path):
    app = make_app(tmp_path / "d", MAX_CONTENT_LENGTH=4096)
    make_user("eddie", "editor")
    client = signed_in(app, "eddie")
    response = upload(client, b"a,b\n" + b"1,2\n" * 5000)
    assert response.status_code == 413
    assert "larger than this Sheaf accepts" in response.get_data(as_text=True)
    assert ImportJob.select().count() == 0


def test_another_persons_import_is_invisible(app, editor, people):
    make_user("erin", "editor")
    other = signed_in(app, "erin")
    job_id = int(upload(editor, CSV.encode()).headers["Location"].split("/")[2])
    for path in [
        f"/import/{job_id}/preview",
        f"/import/{job_id}",
        f"/import/{job_id}/progress",
        f"/import/{job_id}/problems.csv",
    ]:
        assert other.get(path).status_code == 404, path
    assert other.post_form(f"/import/{job_id}/cancel").status_code == 404
    assert ImportJob.get_by_id(job_id).status == "ready"


def test_a_viewer_cannot_upload(app, viewer_client):
    response = upload(viewer_client, CSV.encode())
    assert response.status_code == 403
    assert ImportJob.select().count() == 0


def test_an_identical_file_is_flagged(app, editor):
    first = run_import(app, editor, CSV.encode())
    response = upload(editor, CSV.encode(), "again.csv")
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "You imported an identical file" in page and first.dataset.name in page


def test_append_and_replace_need_matching_columns(app, editor, people):
    first = run_import(app, editor, b"id,name\n1,Ada\n")
    dataset = first.dataset
    job = run_import(app, editor, b"ID,Name\n2,Grace\n", mode="append", target=str(dataset.id))
    assert job.status == "done"
    assert stored(app, Dataset.get_by_id(dataset.id)) == [(1, "Ada"), (2, "Grace")]
    assert Dataset.get_by_id(dataset.id).row_count == 2
    job = run_import(app, editor, b"id,name\n7,Hedy\n", mode="replace", target=str(dataset.id))
    assert stored(app, Dataset.get_by_id(dataset.id)) == [(7, "Hedy")]
    assert len(leftovers(app)["datasets"]) == 3  # each version's file, for undo
    response = upload(editor, b"id,email\n1,a@b\n")
    job_id = int(response.headers["Location"].split("/")[2])
    form = preview_form(editor, job_id) | {"mode": "append", "target": str(dataset.id)}
    page = editor.post(f"/import/{job_id}/preview", data=form).get_data(as_text=True)
    assert "The columns do not match" in page and "missing name" in page and "new email" in page
    assert Dataset.select().count() == 1


def test_nobody_appends_to_a_dataset_they_cannot_change(app, editor, people):
    theirs = make_dataset(app, people["admin"], name="Admin's")
    response = upload(editor, b"id,name\n3,Eve\n")
    job_id = int(response.headers["Location"].split("/")[2])
    form = preview_form(editor, job_id) | {"mode": "append", "target": str(theirs.id)}
    page = editor.post(f"/import/{job_id}/preview", data=form).get_data(as_text=True)
    assert "Choose a dataset you may change" in page
    assert theirs.row_count == Dataset.get_by_id(theirs.id).row_count


def _gate_until_cancelled(monkeypatch):
    """Hold each import until it is cancelled, so a test can cancel it mid-way for sure."""
    real = helper_load.load_file

    def gated(*args, should_stop, **kwargs):
        deadline = time.monotonic() + 20
        while not should_stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        return real(*args, should_stop=should_stop, **kwargs)

    monkeypatch.setattr(helper_load, "load_file", gated)


def test_cancel_mid_import_leaves_nothing(app, editor, monkeypatch):
    existing = make_dataset(app, User_get("eddie"), name="Earlier")
    before = (leftovers(app), stored(app, existing))
    _gate_until_cancelled(monkeypatch)
    response = upload(editor, big_csv(20_000))
    job_id = int(response.headers["Location"].split("/")[2])
    editor.post(f"/import/{job_id}/preview", data=preview_form(editor, job_id))
    page = editor.get(f"/import/{job_id}").get_data(as_text=True)
    assert "Importing" in page and "Cancel" in page
    assert editor.post_form(f"/import/{job_id}/cancel").status_code == 302
    assert app.extensions["sheaf.imports"].wait(job_id, 30)
    job = ImportJob.get_by_id(job_id)
    assert job.status == "cancelled"
    assert Dataset.select().count() == 1
    after = leftovers(app)
    assert after["datasets"] == before[0]["datasets"]
    assert after["originals"] == before[0].get("originals", [])  # the upload went too
    assert stored(app, existing) == before[1]
    assert "cancelled" in editor.get(f"/import/{job_id}").get_data(as_text=True)


def User_get(login):
    from server.models import User

    return User.get(User.login == login)


def test_a_reader_error_mid_file_leaves_nothing(app, editor):
    # Valid UTF-8 for the first 1.2 MB (so detection says UTF-8), then a byte that is not.
    content = big_csv(30_000) + b"99999,1.00,2024-01-01,caf\xe9\n"
    job = run_import(app, editor, content)
    assert job.status == "failed" and "not valid utf-8" in job.message
    assert Dataset.select().count() == 0 and leftovers(app)["datasets"] == []
    assert leftovers(app)["originals"] == []


def test_two_imports_at_once_both_complete(app, editor):
    jobs = []
    for name in ("first.csv", "second.csv"):
        response = upload(editor, big_csv(5_000), name)
        job_id = int(response.headers["Location"].split("/")[2])
        editor.post(f"/import/{job_id}/preview", data=preview_form(editor, job_id))
        jobs.append(job_id)
    for job_id in jobs:
        assert app.extensions["sheaf.imports"].wait(job_id, 60)
    assert [ImportJob.get_by_id(j).rows for j in jobs] == [5_000, 5_000]
    assert Dataset.select().count() == 2


def test_sign_in_and_browsing_stay_responsive_during_an_import(app, editor, people, monkeypatch):
    dataset = make_dataset(app, people["editor"])
    response = upload(editor, big_csv(150_000))
    job_id = int(response.headers["Location"].split("/")[2])
    editor.post(f"/import/{job_id}/preview", data=preview_form(editor, job_id))
    timings = []
    runner = app.extensions["sheaf.imports"]
    while runner.progress(job_id) is not None and len(timings) < 20:
        start = time.monotonic()
        client = app.test_client()
        assert client.sign_in("vera").status_code == 302
        assert editor.get(f"/datasets/{dataset.id}").status_code == 200
        timings.append(time.monotonic() - start)
    assert runner.wait(job_id, 60)
    assert ImportJob.get_by_id(job_id).status == "done"
    assert timings, "the import ended before anything could be measured"
    assert max(timings) < 2.0, timings


def test_the_problem_list_downloads_as_csv_with_formulas_neutralised(app, editor):
    content = b'n\n1\n=HYPERLINK("http://x")\n+1\n'
    job = run_import(app, editor, content, type_0="integer")
    response = editor.get(f"/import/{job.id}/problems.csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["row", "column", "value", "problem"]
    assert rows[1][:3] == ["2", "n", '\'=HYPERLINK("http://x")']
    assert len(rows) == 2  # "+1" is a whole number


def test_leftovers_of_a_killed_import_are_cleaned_at_start_up(app, people):
    data = Path(app.config["DATA_DIR"])
    kept = make_dataset(app, people["editor"], name="Kept")
    job = make_import(app, people["editor"], status="running")
    (data / "datasets" / "deadbeef.sqlite.partial").write_bytes(b"half")
    (data / "datasets" / "cafebabe.sqlite").write_bytes(b"orphan")
    (data / "originals" / "stray").write_bytes(b"stray")
    make_app(data)  # a restart
    assert ImportJob.get_by_id(job.id).status == "failed"
    assert "stopped during this import" in ImportJob.get_by_id(job.id).message
    assert leftovers(app) == {"datasets": [f"{kept.storage_key}.sqlite"], "originals": []}


def test_progress_is_reported_while_running(app, editor, monkeypatch):
    started = threading.Event()
    real = helper_load.load_file

    def slow(*args, meter, **kwargs):
        started.set()
        time.sleep(0.3)
        return real(*args, meter=meter, **kwargs)

    monkeypatch.setattr(helper_load, "load_file", slow)
    response = upload(editor, big_csv(1000))
    job_id = int(response.headers["Location"].split("/")[2])
    editor.post(f"/import/{job_id}/preview", data=preview_form(editor, job_id))
    assert started.wait(5)
    data = editor.get(f"/import/{job_id}/progress").get_json()
    assert data["status"] == "running" and data["progress"]["total_bytes"] > 0
    app.extensions["sheaf.imports"].wait(job_id, 30)
    assert editor.get(f"/import/{job_id}/progress").get_json() == {
        "status": "done",
        "progress": None,
    }


def test_a_write_ahead_log_left_by_a_killed_reader_is_folded_in_at_the_next_start(app, people):
    import subprocess
    import sys

    from server.datasets.catalog import dataset_file
    from tests.helpers import make_app

    dataset = make_dataset(app, people["editor"], "id\n1\n2\n", "Logged")
    path = dataset_file(app.config["DATA_DIR"], dataset.storage_key)
    script = (
        "import sqlite3, sys, time; con = sqlite3.connect(sys.argv[1]); "
        "con.execute('SELECT count(*) FROM rows').fetchone(); print('OPEN', flush=True); "
        "time.sleep(60)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "OPEN"
    process.kill()  # SIGKILL; TerminateProcess on Windows
    process.wait(10)
    assert path.with_name(path.name + "-wal").exists()
    make_app(app.config["DATA_DIR"])
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == [path.name]
