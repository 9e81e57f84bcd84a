"""Many people changing one dataset at once through the real server (waitress, real HTTP, one
thread per person): afterwards the history is one unbroken line, every change reported as
applied is in the data and in the history, every refused one is in neither, and nothing
answered 500."""

from __future__ import annotations

import re
import threading

from server.datasets import versions
from server.db import database
from server.models import Dataset, DatasetShare, DatasetVersion, RowChange
from tests.datasets.helpers import stored
from tests.helpers import HttpSession, make_app, make_dataset, make_user

VERSION = re.compile(r'name="version" value="(\d+)"')
ROWS = 12


def test_people_changing_one_dataset_at_once_through_waitress(tmp_path):
    from waitress.server import create_server

    app = make_app(tmp_path / "data")
    people = [make_user(f"ed{i}", "editor") for i in range(4)]
    body = "id,name,note\n" + "".join(f"{i},Name {i},start\n" for i in range(1, ROWS + 1))
    dataset = make_dataset(app, people[0], body, "Shared")
    DatasetShare.create(dataset=dataset, role=people[0].role, can_edit=True)
    database.close()
    server = create_server(app, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    results: list[tuple[str, str, int, str]] = []  # (who, what, status, value)
    lock = threading.Lock()

    def person(index: int) -> None:
        tab = HttpSession(server.effective_port)
        tab.sign_in(f"ed{index}")
        for n in range(8):
            if index < 2:  # bulk steps on the name column, made on the version they saw
                page, token = tab.csrf(f"/datasets/{dataset.id}/clean")
                mode = ("upper", "lower", "title")[(index + n) % 3]
                status, _, answer = tab.request(
                    "POST",
                    f"/datasets/{dataset.id}/clean",
                    {
                        "kind": "case",
                        "column": "c2",
                        "mode": mode,
                        "csrf_token": token,
                        "version": VERSION.search(page).group(1),
                    },
                )
                what, value = "step", mode
            else:  # cells of the note column, some rows shared by both people
                page, token = tab.csrf(f"/datasets/{dataset.id}")
                version = re.search(r'data-version="(\d+)"', page).group(1)
                row = 1 + (n * 3 + index) % ROWS
                value = f"ed{index}-{n}"
                status, _, answer = tab.request(
                    "POST",
                    f"/datasets/{dataset.id}/rows/{row}/cell",
                    {"column": "c3", "value": value, "version": version, "csrf_token": token},
                )
                what = f"cell {row}"
            with lock:
                results.append((f"ed{index}", what, status, value if status < 400 else answer))

    threads = [threading.Thread(target=person, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    server.close()

    assert all(status in (200, 302, 400) for _, _, status, _ in results), results
    refused = [r for r in results if r[2] == 400]
    assert all("changed this dataset after you opened it" in r[3] for r in refused)
    applied = [r for r in results if r[2] in (200, 302)]
    assert applied and len(results) == 32
    with app.app_context(), database.connection_context():
        current = Dataset.get_by_id(dataset.id)
        history = list(DatasetVersion.select().order_by(DatasetVersion.number))
        assert [v.number for v in history] == list(range(1, current.version + 1))
        assert len(history) == 1 + len(applied)  # each applied change is one version, no more
        edits = [v for v in history if v.kind == "edit"]
        assert len(edits) == sum(1 for r in applied if r[1].startswith("cell"))
        last = {}
        for version in edits:
            change = RowChange.get(RowChange.version == version)
            last[change.row_id] = versions._load(change.after)["c3"]
        data = {row[0]: row[2] for row in stored(app, current)}
        for row_id, value in last.items():
            assert data[row_id] == value  # the last applied edit of each row is what is stored
        untouched = set(range(1, ROWS + 1)) - set(last)
        assert all(data[row_id] == "start" for row_id in untouched)
        for _who, what, _status, value in applied:
            if what.startswith("cell"):
                assert any(versions._load(c.after)["c3"] == value for c in RowChange.select())
        steps = [v for v in history if v.kind == "step"]
        assert len(steps) == sum(1 for r in applied if r[1] == "step")
