"""Crash safety of every kind of change: a process making cell edits, undos and redos of a step
and of an edit, go-backs, or an append is killed with SIGKILL at a random moment. After the next
start the databases pass SQLite's integrity check, no partial file is left, the dataset is
exactly what its latest version says (rows, columns, file, and the latest row-level change's
values), and the next change goes through (no lock is left behind)."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from server.datasets import versions
from server.datasets.catalog import dataset_file
from server.datasets.cleaning import rows, steps
from server.db import database
from server.models import Dataset, DatasetVersion, ImportJob, User
from tests.datasets.helpers import big_csv
from tests.helpers import deferred_deletions_done, make_app, make_dataset, make_import, make_user

ROOT = Path(__file__).parents[1]
KINDS = ["edit", "undo_redo", "go_back", "append"]
RUNS = 3
WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from server.datasets import versions
    from server.datasets.cleaning import rows
    from server.datasets.loading import jobs
    from server.importers import Limits, Meter, guess_types
    from server.models import Dataset, ImportJob, User
    from tests.helpers import make_app

    data, what, ident, job_id = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    app = make_app(data)
    user = User.get(User.login == "eddie")
    print("STARTED", flush=True)
    def current():
        return Dataset.get_by_id(ident).version
    if what == "edit":
        for i in range(100000):
            rows.edit_row(ident, current(), 1 + i % 5, {"c4": f"edit {i}"}, user, data)
    elif what == "undo_redo":
        for _ in range(100000):
            versions.undo(ident, current(), user, data)
            versions.undo(ident, current(), user, data)
            versions.redo(ident, current(), user, data)
            versions.redo(ident, current(), user, data)
    elif what == "go_back":
        for _ in range(100000):
            versions.go_back(ident, current(), 1, user, data)
    else:
        job = ImportJob.get_by_id(job_id)
        sample = jobs.preview(job, data, jobs.ReadOptions(), Limits())
        dataset = Dataset.get_by_id(ident)
        plan = jobs.Plan(options={"format": "delimited", "encoding": sample.options.encoding,
                                  "delimiter": ",", "header_row": 1},
                         labels=sample.labels, types=guess_types(sample), name="x",
                         mode="append", target_id=ident)
        jobs.check_plan(plan, user, [dataset])
        jobs.queue(job, plan)
        jobs.run(job.id, data, Limits(), Meter(), lambda: False)
    print("FINISHED", flush=True)
    """
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    data = tmp_path_factory.mktemp("crash-versions") / "data"
    app = make_app(data)
    editor = make_user("eddie", "editor")
    dataset = make_dataset(app, editor, big_csv(60_000).decode(), "Orders")
    # A step and an edit to undo and redo.
    steps.apply_step(dataset, "case", {"column": "c4", "mode": "upper"}, editor, data, 1)
    rows.edit_row(dataset.id, 2, 3, {"c4": "edited"}, editor, data)
    database.close()
    return data


def _check(folder: Path, dataset_id: int) -> None:
    con = sqlite3.connect(folder / "sheaf.db")
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    deferred_deletions_done()  # what a helper still held (Windows) goes once it has ended

    def leftovers() -> list[str]:
        return [p.name for p in (folder / "datasets").iterdir() if not p.name.endswith(".sqlite")]

    deadline = time.monotonic() + 20  # an orphaned helper removes its own partial file as it
    while leftovers() and time.monotonic() < deadline:  # notices its parent is gone (Windows)
        time.sleep(0.1)
    assert leftovers() == [], "partial files survived the restart"
    dataset = Dataset.get_by_id(dataset_id)
    numbers = [
        v.number
        for v in DatasetVersion.select()
        .where(DatasetVersion.dataset == dataset)
        .order_by(DatasetVersion.number)
    ]
    assert numbers == list(range(1, dataset.version + 1)), "a gap or a rewrite in the history"
    latest = versions.latest(dataset)
    assert (dataset.storage_key, dataset.row_count, dataset.columns) == (
        latest.file_key,
        latest.row_count,
        latest.columns,
    )
    path = dataset_file(folder, dataset.storage_key)
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT count(*) FROM rows").fetchone()[0] == dataset.row_count
        if not latest.whole_file:  # the latest row-level change is in the file, value by value
            for change in latest.changes:
                after = json.loads(change.after) if change.after else None
                names = list(after) if after else ["c1"]
                row = con.execute(
                    f"SELECT {', '.join(names)} FROM rows WHERE rowid = ?",
                    (change.row_id,),
                ).fetchone()
                assert (dict(zip(names, row, strict=True)) if row else None) == after
    finally:
        con.close()


@pytest.mark.parametrize("run", range(RUNS))
@pytest.mark.parametrize("what", KINDS)
def test_a_kill_during_any_change_leaves_a_whole_version(folder, what, run):
    rng = random.Random(f"{what}-{run}")
    app = make_app(folder)  # also finishes what an earlier run's kill left
    dataset = Dataset.get(Dataset.name == "Orders")
    job_id = 0
    if what == "append":
        job_id = make_import(app, dataset.owner, content=big_csv(rng.choice([20_000, 60_000]))).id
    before = dataset.version
    database.close()
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(folder), what, str(dataset.id), str(job_id)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout.readline().strip() == "STARTED"
        time.sleep(rng.uniform(0.05, 1.0))
        process.kill()  # SIGKILL; TerminateProcess on Windows
    finally:
        process.wait(30)

    make_app(folder)  # the next start
    _check(folder, dataset.id)
    after = Dataset.get_by_id(dataset.id)
    assert after.version >= before
    if what == "append":
        job = ImportJob.get_by_id(job_id)
        assert job.status in ("failed", "done")
        assert (after.version == before + 1) == (job.status == "done")
    user = User.get(User.login == "eddie")
    version = rows.edit_row(dataset.id, after.version, 2, {"c4": f"after {what}"}, user, folder)
    assert version.number == after.version + 1  # nothing is left locked
    database.close()
