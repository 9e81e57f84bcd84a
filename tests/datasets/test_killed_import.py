"""A process killed in the middle of an import leaves the data folder as it was."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from server.models import Dataset, ImportJob
from tests.datasets.helpers import big_csv
from tests.helpers import deferred_deletions_done, make_app, make_dataset, make_import, make_user

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from server.datasets.loading import jobs as imports
    from server.importers import Limits, Meter, guess_types
    from server.models import ImportJob
    from tests.helpers import make_app

    data = Path(sys.argv[1])
    app = make_app(data)
    job = ImportJob.get_by_id(int(sys.argv[2]))
    sample = imports.preview(job, data, imports.ReadOptions(), Limits())
    plan = imports.Plan(options={"format": "delimited", "encoding": sample.options.encoding,
                                 "delimiter": ",", "header_row": 1},
                        labels=sample.labels, types=guess_types(sample), name="Doomed")
    imports.queue(job, plan)
    said = []

    def should_stop():
        if not said:
            said.append(1)
            print("LOADING", flush=True)
        return False

    imports.run(job.id, data, Limits(), Meter(), should_stop)
    print("FINISHED", flush=True)
    """
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sigkill_mid_import_leaves_nothing_after_restart(tmp_path):
    data = tmp_path / "data"
    app = make_app(data)
    editor = make_user("eddie", "editor")
    kept = make_dataset(app, editor, name="Kept")
    kept_file = data / "datasets" / f"{kept.storage_key}.sqlite"
    kept_hash = _digest(kept_file)
    job = make_import(app, editor, content=big_csv(200_000))
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(data), str(job.id)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert process.stdout.readline().strip() == "LOADING"
        time.sleep(0.3)  # well inside the load, which takes about a second
        process.kill()  # SIGKILL; TerminateProcess on Windows
    finally:
        process.wait(30)
    assert process.returncode != 0  # killed, not ended
    assert ImportJob.get_by_id(job.id).status == "running"  # as the kill left it

    make_app(data)  # the next start: not stopped by a file the orphaned helper still holds
    # On Windows the helper outlives Sheaf (tests/windows_rules): it notices its parent is gone,
    # stops and lets go of the upload, which is deleted then.
    deferred_deletions_done()
    assert ImportJob.get_by_id(job.id).status == "failed"
    assert [d.name for d in Dataset.select()] == ["Kept"]
    assert sorted(p.name for p in (data / "datasets").iterdir()) == [kept_file.name]
    assert sorted(p.name for p in (data / "originals").iterdir()) == []
    assert _digest(kept_file) == kept_hash
    con = sqlite3.connect(data / "sheaf.db")
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
