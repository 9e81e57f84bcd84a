"""Crash safety: twenty times, an import or a cleaning step runs in a process of its own and is
killed with SIGKILL at a random moment. After each kill and the next start the database passes
SQLite's integrity check, no partial file is left, and every dataset that existed before is
byte for byte what it was (a cleaning step writes a new file; the old one stays for undo)."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from server.datasets.catalog import kept_files
from server.db import database
from server.models import Dataset, DatasetVersion, ImportJob
from tests.datasets.helpers import big_csv
from tests.helpers import deferred_deletions_done, make_app, make_dataset, make_import, make_user

ROOT = Path(__file__).parents[1]
RUNS = 20
WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from server.datasets.cleaning import steps as cleaning
    from server.datasets.loading import jobs as imports
    from server.importers import Limits, Meter, guess_types
    from server.models import Dataset, ImportJob, User
    from tests.helpers import make_app

    data, what, ident = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    app = make_app(data)
    print("STARTED", flush=True)
    if what == "import":
        job = ImportJob.get_by_id(ident)
        sample = imports.preview(job, data, imports.ReadOptions(), Limits())
        plan = imports.Plan(options={"format": "delimited", "encoding": sample.options.encoding,
                                     "delimiter": ",", "header_row": 1},
                            labels=sample.labels, types=guess_types(sample), name="Fresh")
        imports.queue(job, plan)
        imports.run(job.id, data, Limits(), Meter(), lambda: False)
    else:
        dataset = Dataset.get_by_id(ident)
        user = User.get(User.login == "eddie")
        cleaning.apply_step(dataset, "case", {"column": "c4", "mode": "upper"}, user, data,
                            dataset.version)
    print("FINISHED", flush=True)
    """
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    data = tmp_path_factory.mktemp("crash") / "data"
    app = make_app(data)
    editor = make_user("eddie", "editor")
    make_dataset(app, editor, big_csv(100_000).decode(), "Orders")
    make_dataset(app, editor, "id,name\n1,Ada\n2,Grace\n", "People")
    database.close()
    return data


@pytest.mark.parametrize("run", range(RUNS))
def test_a_kill_at_any_moment_loses_nothing(folder, run):
    rng = random.Random(run)
    app = make_app(folder)
    before = {p.name: _digest(p) for p in (folder / "datasets").glob("*.sqlite")}
    datasets_before = {d.id: d.storage_key for d in Dataset.select()}
    steps_before = DatasetVersion.select().count()
    fresh_before = Dataset.select().where(Dataset.name == "Fresh").count()
    what = "import" if run % 2 == 0 else "clean"
    if what == "import":
        editor = next(iter(Dataset.select())).owner
        ident = make_import(app, editor, content=big_csv(rng.choice([50_000, 150_000]))).id
    else:
        ident = Dataset.get(Dataset.name == "Orders").id
    database.close()

    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(folder), what, str(ident)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout.readline().strip() == "STARTED"
        # Anywhere in the work (an import takes about a second, a step a few tenths), or after.
        time.sleep(rng.uniform(0.0, 1.2 if what == "import" else 0.3))
        process.kill()  # SIGKILL; TerminateProcess on Windows
    finally:
        process.wait(30)

    make_app(folder)  # the next start
    deferred_deletions_done()  # what a helper still held (Windows) goes once it has ended
    con = sqlite3.connect(folder / "sheaf.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()
    leftovers = [p.name for p in (folder / "datasets").iterdir() if not p.name.endswith(".sqlite")]
    assert leftovers == [], "partial files survived the restart"
    for name, digest in before.items():
        assert _digest(folder / "datasets" / name) == digest, f"{name} changed"
    live = {d.storage_key for d in Dataset.select()}
    on_disk = {p.stem for p in (folder / "datasets").glob("*.sqlite")}
    assert on_disk == live | kept_files(), "a dataset file without a dataset, or the reverse"
    for dataset in Dataset.select():
        path = folder / "datasets" / f"{dataset.storage_key}.sqlite"
        con = sqlite3.connect(path)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert con.execute("SELECT count(*) FROM rows").fetchone()[0] == dataset.row_count
        finally:
            con.close()
    if what == "import":
        job = ImportJob.get_by_id(ident)
        fresh = Dataset.select().where(Dataset.name == "Fresh").count() - fresh_before
        # ("ready", 0): killed while the preview read the file, before the import was queued.
        assert (job.status, fresh) in {("ready", 0), ("failed", 0), ("done", 1)}, job.status
        assert set(datasets_before) <= {d.id for d in Dataset.select()}
    else:
        steps = DatasetVersion.select().count()
        orders = Dataset.get_by_id(ident)
        assert steps in (steps_before, steps_before + 1)
        assert (orders.storage_key == datasets_before[ident]) == (steps == steps_before)
    database.close()
