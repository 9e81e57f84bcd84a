"""Two people importing and appending files from other countries at the same moment, through
the real server (waitress, real HTTP and multipart, a thread each): every value arrives as
written in its own locale, read back through the API value by value, and neither import takes
the other's readings."""

from __future__ import annotations

import html
import json
import re
import threading

from server.db import database
from server.models import DatasetShare, ImportJob
from tests.datasets.helpers import preview_form
from tests.helpers import HttpSession, make_app, make_user, served

GERMAN = (
    "Datum;Betrag;Bezahlt;Notiz\n"
    "09.03.2024;1.234,56;ja;Müller\n"
    "31.12.2023;343,36;nein;Größe\n"
    "01.02.2024;-12,5;Ja;unbekannt\n"
).encode("cp1252")
GERMAN_MORE = ("Datum;Betrag;Bezahlt;Notiz\n15.04.2024;7,25;nein;Straße\n").encode("cp1252")
US = (
    b"Visit,Fee,Paid,Note\n"
    b'03/13/2024,"1,234.50",yes,Smith\n'
    b"12/01/2023,99.00,no,n/a\n"
    b"01/02/2024,+5,Y,Jones\n"
)

GERMAN_ROWS = [
    ["2024-03-09", 1234.56, 1, "Müller"],
    ["2023-12-31", 343.36, 0, "Größe"],
    ["2024-02-01", -12.5, 1, "unbekannt"],
]
US_ROWS = [
    ["2024-03-13", 1234.5, 1, "Smith"],
    ["2023-12-01", 99.0, 0, "n/a"],  # a missing marker empties typed columns only
    ["2024-01-02", 5.0, 1, "Jones"],
]


class Page:
    """What tests.datasets.helpers.preview_form needs of a client, for a page fetched here."""

    def __init__(self, page: str) -> None:
        self.token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    def csrf_token(self) -> str:
        return self.token


def _import(app, tab: HttpSession, content: bytes, name: str, **changes) -> ImportJob:
    _page, token = tab.csrf("/import")
    status, headers, text = tab.upload("/import", {"csrf_token": token}, ("file", name, content))
    assert status == 302, text
    job_id = int(headers["Location"].split("/")[2])
    status, _, page = tab.request("GET", f"/import/{job_id}/preview")
    assert status == 200
    form = preview_form(Page(page), job_id, page) | {"confirmed": "1", **changes}
    status, headers, text = tab.request("POST", f"/import/{job_id}/preview", form)
    assert status == 302, html.unescape(" ".join(re.findall(r'role="alert">(.*?)</', text, re.S)))
    assert app.extensions["sheaf.imports"].wait(job_id, 60)
    with database.connection_context():
        return ImportJob.get_by_id(job_id)


def _rows(tab: HttpSession, dataset_id: int) -> list[list]:
    status, _, text = tab.request("GET", f"/api/v1/datasets/{dataset_id}/rows?limit=1000")
    assert status == 200, text
    return [[v for k, v in row.items() if k != "_rowid"] for row in json.loads(text)["rows"]]


def test_two_people_import_and_append_other_countries_files_at_once(tmp_path):
    app = make_app(tmp_path / "data")
    make_user("ada", "editor")
    make_user("bo", "editor")
    database.close()
    jobs: dict[str, ImportJob] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def person(login: str, content: bytes, name: str, **changes) -> None:
        try:
            tab = HttpSession(port)
            tab.sign_in(login)
            start.wait(30)
            jobs[login] = _import(app, tab, content, name, **changes)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    with served(app, threads=6) as port:
        people = [
            threading.Thread(target=person, args=("ada", GERMAN, "Rechnungen.csv")),
            threading.Thread(target=person, args=("bo", US, "visits.csv")),
        ]
        for thread in people:
            thread.start()
        for thread in people:
            thread.join(120)
        assert not errors, errors
        assert jobs["ada"].status == jobs["bo"].status == "done", (jobs["ada"].message,)
        german, us = jobs["ada"].dataset_id, jobs["bo"].dataset_id
        ada, bo = HttpSession(port), HttpSession(port)
        ada.sign_in("ada")
        bo.sign_in("bo")
        assert _rows(ada, german) == GERMAN_ROWS
        assert _rows(bo, us) == US_ROWS

        # Both append German rows to Ada's dataset at once (Bo through a share).
        with database.connection_context():
            from server.models import Dataset, User

            DatasetShare.create(
                dataset=Dataset.get_by_id(german), role=User.get(User.login == "bo").role,
                can_edit=True,
            )  # fmt: skip
        database.close()
        target = {"mode": "append", "target": str(german)}
        people = [
            threading.Thread(target=person, args=(login, GERMAN_MORE, "mehr.csv"), kwargs=target)
            for login in ("ada", "bo")
        ]
        start.reset()
        for thread in people:
            thread.start()
        for thread in people:
            thread.join(120)
        assert not errors, errors
        appended = [job for job in jobs.values() if job.status == "done"]
        refused = [job for job in jobs.values() if job.status != "done"]
        assert appended, [job.message for job in jobs.values()]
        assert all("changed" in (job.message or "") for job in refused), refused
        more = ["2024-04-15", 7.25, 0, "Straße"]
        assert _rows(ada, german) == GERMAN_ROWS + [more] * len(appended)
        assert _rows(bo, us) == US_ROWS  # untouched by the other person's work
