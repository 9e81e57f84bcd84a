"""Download names in any language, through the real server: waitress sends headers as Latin-1,
so a name it cannot encode used to answer 500. Every Content-Disposition (exports, charts, the
problem list, backups) is ASCII on the wire, with the real name in ``filename*`` (RFC 6266 and
5987), and quotes, semicolons and line breaks in a name never leave the header's value."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask, send_file
from werkzeug.http import parse_options_header

from server import backup
from server.db import database
from server.downloads import attachment, download_name
from server.models import Dataset, ImportJob
from tests.helpers import HttpSession, make_app, make_dataset, make_import, make_user, served

NAMES = [
    "Sprzedaż Łódź",
    "Πωλήσεις Αθήνα",
    "销售数据 2024",
    "Café Zürich",  # Latin-1, still not ASCII on the wire
    'Report "final"; v2',
    "Line one\nline two\r\nthree",
    "back\\slash; filename=evil.exe",
]


# attachment; filename=<token or quoted string>[; filename*=UTF-8''<percent-encoded>]
HEADER = re.compile(
    r"attachment; filename=(\"(?:[^\"\\]|\\.)*\"|[-!#$%&'*+.^_`|~0-9A-Za-z]+)"
    r"(; filename\*=UTF-8''[-!#$&+.^_`|~0-9A-Za-z%]+)?"
)


def _file_name(value: str) -> str:
    """The name a browser saves as: ``filename*`` when given, else ``filename``."""
    kind, options = parse_options_header(value)
    assert kind == "attachment", value
    return options["filename"]


def _check(headers, expected: str) -> None:
    values = headers.get_all("Content-Disposition")
    assert values and len(values) == 1, values
    value = values[0]
    assert value.encode("latin-1").isascii(), value
    assert "\r" not in value and "\n" not in value
    assert _file_name(value) == expected
    assert HEADER.fullmatch(value), value


@dataclass(frozen=True)
class Office:
    port: int
    datasets: dict[str, Dataset]
    jobs: dict[str, ImportJob]
    backup_name: str


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """A dataset and an import per name, a backup, and the app served by waitress."""
    app = make_app(tmp_path_factory.mktemp("downloads") / "data")
    eddie = make_user("eddie", "editor")
    make_user("ada", "admin")
    datasets = {name: make_dataset(app, eddie, name=name) for name in NAMES}
    jobs = {}
    for name in NAMES:
        jobs[name] = make_import(app, eddie, "done")
        jobs[name].file_name = f"{name}.csv"
        jobs[name].save()
    data_dir = Path(app.config["DATA_DIR"])
    made = backup.make_backup(data_dir, backup.new_backup_path(data_dir))
    database.close()
    with served(app) as port:
        yield Office(port, datasets, jobs, made.path.name)


@pytest.mark.parametrize("name", NAMES)
def test_every_download_is_named_in_any_language_through_waitress(office, name):
    dataset = office.datasets[name]
    tab = HttpSession(office.port)
    tab.sign_in("eddie")
    for fmt in ("csv", "csv-bom", "json", "xlsx"):
        status, headers, _ = tab.request(
            "GET", f"/datasets/{dataset.id}/export?format={fmt}", binary=True
        )
        assert status == 200, (fmt, status)
        _check(headers, download_name(name, fmt.removesuffix("-bom")))
    chart = f"/datasets/{dataset.id}/chart.svg?kind=bar&column=c2"
    status, headers, _ = tab.request("GET", chart, binary=True)
    assert status == 200
    _check(headers, download_name(f"{name} bar", "svg"))
    status, headers, _ = tab.request("GET", f"/import/{office.jobs[name].id}/problems.csv")
    assert status == 200
    _check(headers, download_name(f"{Path(f'{name}.csv').stem}-problems", "csv"))


def test_a_backup_downloads_through_the_same_header(office):
    tab = HttpSession(office.port)
    tab.sign_in("ada")
    status, headers, body = tab.request("GET", f"/backups/{office.backup_name}", binary=True)
    assert status == 200 and body[:2] == b"PK"
    _check(headers, office.backup_name)
    assert headers["Content-Disposition"] == attachment(office.backup_name)["Content-Disposition"]


@pytest.mark.parametrize(
    "name", [*(download_name(n, "csv") for n in NAMES), "plain.csv", "Ωμέγα.svg", "日本.json"]
)
def test_the_header_is_what_flask_send_file_makes(name):
    """Werkzeug's own send_file is the reference for names download_name() makes."""
    with Flask(__name__).test_request_context():
        reference = send_file(io.BytesIO(b"x"), as_attachment=True, download_name=name)
    ours = attachment(name)["Content-Disposition"]
    assert _file_name(ours) == _file_name(reference.headers["Content-Disposition"]) == name
    assert ours.isascii()


@pytest.mark.parametrize(
    ("raw", "saved_as"),
    [
        ('a"b;c.csv', 'a"b;c.csv'),
        ("two\nlines.csv", "two_lines.csv"),
        ("tab\there.csv", "tab_here.csv"),
        ("销售.csv", "销售.csv"),
    ],
)
def test_any_name_given_to_the_header_stays_inside_it(raw, saved_as):
    value = attachment(raw)["Content-Disposition"]
    assert value.isascii() and "\n" not in value and "\r" not in value
    assert _file_name(value) == saved_as
    if not raw.isascii():
        assert "attachment; filename=download.csv; filename*=" in value  # for old clients


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("CON.csv", "_CON.csv"),
        ("nul.tar.gz", "_nul.tar.gz"),
        ("LPT1", "_LPT1"),
        ("COM¹.txt", "_COM¹.txt"),
        ('a<b>:c"d|e?f*.csv', "a_b__c_d_e_f_.csv"),
        ("report. ", "report"),
        ("..", "download"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\visits.csv", "visits.csv"),
        ("Sprzedaż Łódź.csv", "Sprzedaż Łódź.csv"),
        ("tab\there.csv", "tab_here.csv"),
        ("CONSOLE.csv", "CONSOLE.csv"),  # only the device names themselves
    ],
)
def test_suggested_names_are_ones_windows_can_save(typed, saved):
    from server.downloads import safe_file_name

    assert safe_file_name(typed) == saved


def test_long_names_keep_their_extension_and_dataset_names_become_savable():
    from server.downloads import download_name, safe_file_name

    long = safe_file_name("x" * 300 + ".csv")
    assert len(long) == 150 and long.endswith(".csv")
    assert download_name("CON", "csv") == "_CON.csv"
    assert download_name("aux ", "svg") == "_aux.svg"
