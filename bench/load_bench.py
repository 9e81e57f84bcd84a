"""Load benchmark: many signed-in people browsing, searching and exporting during imports.

Seeds a fresh data folder (default: a 200,000-row, 10-column dataset shared with the
Editor role, one editor account per client and one per importer), starts the real server
(``python -m desktop.cli serve``, waitress, 127.0.0.1 only) in a process of its own, and then,
for a fixed time (default 60 s), drives it over loopback HTTP with:

* **clients** (default 20): threads, each with its own keep-alive connection and cookies,
  signed in as its own editor, pausing about a second between requests as a brisk person
  reading each page would (``--think``; ``--think 0`` sends them back to back, which measures
  the server's capacity rather than what 20 people feel). Each picks, at random (seeded), a
  table page (first, next by the keyset cursor, last, sorted both ways, the list of
  datasets), a full-text search, a column filter, the column profile, or a small export (CSV,
  JSON or Excel) of a narrowed view;
* **importers** (default 2): threads signed in as other editors, each uploading a generated
  100,000-row CSV, confirming the preview form as a browser would and polling the import's
  progress until it ends, then starting the next, until the time is up (an import still
  running then is waited for, at most IMPORT_GRACE_S).

Every client request is timed from sending to the last byte of the answer. An answer other
than 2xx/3xx (a client expects 200, so a redirect, say to the sign-in page, counts too), an
exception (a timeout, a reset) and an import that does not end "done" are errors. The server's
own log (``logs/sheaf.log``) and console are searched for errors and "database is locked"
afterwards. The report gives requests/s, p50/p95/p99/max over all client requests and by
kind, the imports' durations, the server's CPU use and memory, and the targets. Its last line
is machine-readable::

    RESULT errors=<n> p95_ms=<n> rps=<n>

    .venv/bin/python bench/load_bench.py                              # 60 s, 20 clients
    .venv/bin/python bench/load_bench.py --seconds 10 --rows 20000    # a quick one

The exit status is 0 whenever the benchmark ran, targets met or not; 1 if it could not run.
"""

# Workload choices and the data are pseudo-random on purpose (S311).
# ruff: noqa: S311

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import browse_bench
from browse_bench import free_port, stop, tail
from import_bench import CATEGORIES, DATA_VERSION, DEFAULT_SEED, default_python, ensure_csv, say

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
FAST_HASHING = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1"}

ERRORS_TARGET = 0
P95_TARGET_MS = 200.0
REQUEST_TIMEOUT_S = 60.0
IMPORT_GRACE_S = 180.0  # how long an import still running at the end is waited for
POLL_S = 0.5  # the import page polls its progress about this often
PROGRESS_EVERY_S = 10.0
SAMPLES_KEPT = 8  # distinct error messages shown

OWNER, CLIENT_PREFIX, IMPORTER_PREFIX = "owner", "client", "importer"

# ---------------------------------------------------------------------------------------------
# The data folder, seeded in a process of its own (helper mode --seed-folder)


def seed_folder(data_dir: Path, csv_path: Path, clients: int, importers: int) -> dict:
    """Accounts and the dataset, made with the tests' helpers; prints nothing, returns facts."""
    sys.path.insert(0, str(ROOT))
    import secrets

    from server.datasets.catalog import dataset_file
    from server.datasets.loading.pipeline import load_file
    from server.datasets.versions import new_dataset
    from server.db import database
    from server.models import DatasetShare, Role
    from tests.helpers import PASSWORD, make_app, make_user

    app = make_app(data_dir)
    with database.connection_context():
        make_user("admin", "admin", display_name="Bench Admin")
        owner = make_user(OWNER, "editor", display_name="Bench Owner")
        for number in range(clients):
            make_user(f"{CLIENT_PREFIX}{number:02d}", "editor")
        for number in range(importers):
            make_user(f"{IMPORTER_PREFIX}{number:02d}", "editor")
        key = secrets.token_hex(16)
        started = time.perf_counter()
        outcome = load_file(csv_path, dataset_file(app.config["DATA_DIR"], key))
        seconds = time.perf_counter() - started
        dataset = new_dataset(
            "Load bench",
            owner,
            key,
            outcome.columns,
            outcome.result.rows,
            "Imported",
        )
        # Read-only for everyone with the Editor role: every client sees it through a share.
        DatasetShare.create(dataset=dataset, role=Role.get(Role.builtin == "editor"))
    database.close()
    return {
        "dataset_id": dataset.id,
        "rows": outcome.result.rows,
        "seconds": seconds,
        "types": [f"{c.name}={c.type}" for c in outcome.columns],
        "sqlite": sqlite3.sqlite_version,
        "password": PASSWORD,
        "python": sys.version.split()[0],
    }


def run_seeding(
    python: str, data_dir: Path, csv_path: Path, clients: int, importers: int, root: Path = ROOT
) -> dict:
    """Seed in a process of its own, with the code of the checkout ``root`` (its own
    bench/load_bench.py, run there: another release's folder is made by that release)."""
    command = [python, str(root / "bench" / SCRIPT.name), "--seed-folder", str(data_dir)]
    command += [str(csv_path), str(clients), str(importers)]
    env = sheaf_env()
    if root.resolve() != ROOT:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave the other checkout as it was
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise BenchError(f"Seeding failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# HTTP


class BenchError(Exception):
    pass


_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_NEXT = re.compile(r'href="([^"]+)" rel="next"')


class Client(browse_bench.Client):
    """browse_bench's client (one keep-alive connection with its cookies, a browser tab) that
    also posts forms and signs in."""

    def __init__(self, port: int, timeout: float = REQUEST_TIMEOUT_S) -> None:
        super().__init__(port, timeout)

    def get(self, path: str) -> tuple[int, http.client.HTTPMessage, bytes]:
        return self.request("GET", path)

    def post_form(self, path: str, fields: list[tuple[str, str]]) -> tuple[int, str, bytes]:
        body = urllib.parse.urlencode(fields).encode()
        status, headers, data = self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        return status, headers.get("Location", ""), data

    def csrf_token(self, path: str) -> str:
        status, _, page = self.get(path)
        found = _TOKEN.search(page.decode(errors="replace"))
        if status != 200 or not found:
            raise BenchError(f"GET {path}: no CSRF token (status {status})")
        return found.group(1)

    def sign_in(self, login: str, password: str) -> None:
        token = self.csrf_token("/sign-in")
        status, location, data = self.post_form(
            "/sign-in", [("login", login), ("password", password), ("csrf_token", token)]
        )
        if status != 302 or "/sign-in" in location:
            raise BenchError(f"Sign-in of {login} answered {status}: {page_text(data)}")


def _signed_in(
    client: Client, login: str, password: str, tally: Tally, ready: threading.Barrier
) -> bool:
    """Sign in, then wait for every other worker; a failed sign-in is an error that ends the
    run for everyone (the barrier breaks)."""
    try:
        client.sign_in(login, password)
    except Exception as exc:
        tally.error("sign-in", login, f"{type(exc).__name__}: {exc}"[:200])
        ready.abort()
        return False
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    return True


def page_text(data: bytes, chars: int = 200) -> str:
    """The readable text of an answer (its <main> when it has one), for error samples."""
    text = data.decode(errors="replace")
    start = text.find("<main")
    text = text[start:] if start >= 0 else text
    text = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(text.split())[:chars]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"The server stopped ({proc.returncode}):\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise BenchError(f"The server did not listen within {seconds:.0f} s:\n{tail(log)}")


def sheaf_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({f"SHEAF_{k}": v for k, v in FAST_HASHING.items()})
    env.pop("SHEAF_DATA_DIR", None)
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, with that of the helper processes it has
    waited for (an import's second half), from /proc (nan where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of a process, in MiB."""
    found = {"VmRSS": 0, "VmHWM": 0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in found:
                found[key] = int(value.split()[0])
    return found["VmRSS"] / 1024, found["VmHWM"] / 1024


# ---------------------------------------------------------------------------------------------
# Measurements


@dataclass
class Window:
    """The timed window: set by the last thread to get past the start line."""

    seconds: float
    think: float = 0.0  # mean pause between a client's requests, in seconds
    start: float = float("inf")
    end: float = float("inf")

    def open(self) -> None:
        self.start = time.monotonic()
        self.end = self.start + self.seconds


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool


@dataclass
class Tally:
    """What one thread saw: timed requests and errors (merged at the end, read live)."""

    samples: list[Sample] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    imports_done: list[float] = field(default_factory=list)  # seconds, upload to "done"
    imports_failed: int = 0
    import_rows: int = 0

    def error(self, kind: str, path: str, problem: str) -> None:
        path = path if len(path) <= 90 else path[:87] + "…"
        self.errors[f"{kind} {path}: {problem}"] += 1


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[min(len(ordered), int(rank)) - 1]


@dataclass
class Summary:
    count: int
    errors: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: list[Sample], seconds: float) -> Summary:
        ordered = sorted(s.ms for s in samples)
        return cls(
            count=len(samples),
            errors=sum(not s.ok for s in samples),
            rps=len(samples) / seconds if seconds > 0 else float("nan"),
            p50=percentile(ordered, 0.50),
            p95=percentile(ordered, 0.95),
            p99=percentile(ordered, 0.99),
            max=ordered[-1] if ordered else float("nan"),
        )


# ---------------------------------------------------------------------------------------------
# The clients' workload


@dataclass(frozen=True)
class Views:
    """The URLs the clients pick from, on the generated columns: c2 amount (real), c3 day
    (date), c5 active (boolean), c6 category (text, 20 values), c7 note (free text),
    c8 quantity (nullable integer)."""

    dataset_id: int

    @property
    def base(self) -> str:
        return f"/datasets/{self.dataset_id}"

    def url(self, suffix: str = "", **query: str) -> str:
        return f"{self.base}{suffix}" + (f"?{urllib.parse.urlencode(query)}" if query else "")

    def page(self, rng: random.Random) -> str:
        return rng.choice(
            [
                self.url(),
                self.url(last="1"),
                self.url(sort="c2"),
                self.url(sort="c2", dir="desc"),
                self.url(sort="c3", dir="desc"),
                self.url(sort="c2", last="1"),
                "/datasets",
            ]
        )

    def search(self, rng: random.Random) -> str:
        word = rng.choice(["refund", "invoice", "warehouse", "ledger", "Zürich", "café", "東京"])
        if rng.random() < 0.3:
            return self.url(q=word, sort="c2")
        return self.url(q=word)

    def filter(self, rng: random.Random) -> str:
        category = rng.choice(CATEGORIES)
        return rng.choice(
            [
                self.url(**{"c6.eq": category}),
                self.url(**{"c2.min": "99000"}),
                self.url(**{"c8.max": "500"}),
                self.url(**{"c7.contains": "stock count"}),
                self.url(**{"c5.eq": "true", "c6.eq": category}),
                self.url(**{"c3.min": "2029-06-01"}, sort="c3"),
                self.url(**{"c6.in": f"{category}|Media"}, sort="c2", dir="desc"),
            ]
        )

    def export(self, rng: random.Random) -> str:
        """A narrowed view (a few hundred to about 1,500 rows), mostly as CSV."""
        fmt = rng.choices(["csv", "json", "xlsx"], weights=[70, 15, 15])[0]
        category = rng.choice(CATEGORIES)
        narrowed = rng.choice(
            [
                {"c6.eq": category, "c2.min": "95000"},
                {"q": "refund", "c6.eq": category},
                {"c3.min": "2029-10-01", "c5.eq": "true"},
            ]
        )
        return self.url("/export", format=fmt, **narrowed)


KINDS = ["page", "next", "search", "filter", "profile", "export"]
WEIGHTS = [30, 20, 20, 15, 5, 10]


def client_loop(
    number: int,
    port: int,
    views: Views,
    password: str,
    window: Window,
    seed: int,
    tally: Tally,
    ready: threading.Barrier,
) -> None:
    """Sign in, wait for the others, then request pages until the window ends."""
    rng = random.Random(seed * 1000 + number)
    client = Client(port)
    if not _signed_in(client, f"{CLIENT_PREFIX}{number:02d}", password, tally, ready):
        return
    next_link: str | None = None
    try:
        while time.monotonic() < window.end:
            kind = rng.choices(KINDS, weights=WEIGHTS)[0]
            if kind == "next" and next_link is None:
                kind = "page"
            if kind == "next" and next_link is not None:
                path = next_link
            elif kind == "profile":
                path = views.url("/profile")
            else:
                path = getattr(views, kind)(rng)
            shown = "page" if kind == "next" else kind
            started = time.perf_counter()
            try:
                status, headers, data = client.get(path)
            except Exception as exc:
                tally.samples.append(Sample(shown, (time.perf_counter() - started) * 1000, False))
                tally.error(shown, path, f"{type(exc).__name__}: {exc}"[:200])
                client.close()
                continue
            ms = (time.perf_counter() - started) * 1000
            ok = status == 200
            tally.samples.append(Sample(shown, ms, ok))
            if not ok:
                where = headers.get("Location", "")
                problem = f"redirected to {where}" if where else page_text(data)
                tally.error(shown, path, f"{status} {problem}")
                next_link = None
            elif kind != "export" and path.startswith(views.base):
                # The page's Next link: a later "next" follows it, as a person paging does.
                found = _NEXT.search(data.decode(errors="replace"))
                next_link = html.unescape(found.group(1)) if found else None
            if window.think:  # a person reads the page before the next click
                pause = rng.uniform(0.5, 1.5) * window.think
                time.sleep(max(0.0, min(pause, window.end - time.monotonic())))
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# The importers


class FormFields(HTMLParser):
    """The fields of the import preview's form, as a browser would send them: hidden and text
    inputs, checked radio buttons and boxes, and each select's selected (or first) option."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "preview-form" in a.get("class", ""):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected]
            if chosen or self._options:
                self.fields.append((self._select, (chosen or [self._options[0][0]])[0]))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def multipart(fields: list[tuple[str, str]], file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = f"----sheaf-load-bench-{random.getrandbits(64):016x}"
    parts = []
    for name, value in fields:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
    )
    parts += [content, f"\r\n--{boundary}--\r\n".encode()]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def one_import(client: Client, content: bytes, file_name: str) -> tuple[str, int]:
    """Upload, confirm the preview, poll until the end: ("done" or why not, rows imported)."""
    body, content_type = multipart(
        [("csrf_token", client.csrf_token("/import"))], file_name, content
    )
    status, headers, data = client.request("POST", "/import", body, {"Content-Type": content_type})
    found = re.search(r"/import/(\d+)/preview", headers.get("Location", ""))
    if status != 302 or not found:
        return f"upload answered {status}: {page_text(data)}", 0
    job = int(found.group(1))
    status, _, page = client.get(f"/import/{job}/preview")
    if status != 200:
        return f"preview answered {status}: {page_text(page)}", 0
    form = FormFields()
    form.feed(page.decode(errors="replace"))
    fields = [(k, v) for k, v in form.fields if k != "action"] + [("action", "import")]
    status, location, data = client.post_form(f"/import/{job}/preview", fields)
    if status != 302 or "/preview" in location:
        return f"confirming the preview answered {status}: {page_text(data)}", 0
    while True:
        time.sleep(POLL_S)
        status, _, data = client.get(f"/import/{job}/progress")
        if status != 200:
            return f"progress answered {status}: {page_text(data)}", 0
        state = json.loads(data)["status"]
        if state in ("done", "failed", "cancelled"):
            break
    if state != "done":
        status, _, data = client.get(f"/import/{job}")
        return f"import {job} ended {state}: {page_text(data)}", 0
    status, _, data = client.get(f"/import/{job}")
    rows = re.search(r"([\d,]+)\s+rows", page_text(data, 2000))
    return "done", int(rows.group(1).replace(",", "")) if rows else 0


def importer_loop(
    number: int,
    port: int,
    csv_path: Path,
    password: str,
    window: Window,
    tally: Tally,
    ready: threading.Barrier,
) -> None:
    """Sign in, then import the CSV again and again until the window ends."""
    client = Client(port, timeout=IMPORT_GRACE_S)
    login = f"{IMPORTER_PREFIX}{number:02d}"
    content = csv_path.read_bytes()
    if not _signed_in(client, login, password, tally, ready):
        return
    try:
        runs = 0
        while time.monotonic() < window.end:
            runs += 1
            started = time.perf_counter()
            try:
                outcome, rows = one_import(client, content, f"load-{number}-{runs}.csv")
            except Exception as exc:
                outcome, rows = f"{type(exc).__name__}: {exc}", 0
                client.close()
            if outcome == "done":
                tally.imports_done.append(time.perf_counter() - started)
                tally.import_rows += rows
            else:
                tally.imports_failed += 1
                tally.error("import", login, outcome[:200])
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# Report


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def summary_table(samples: list[Sample], seconds: float) -> list[str]:
    lines = [
        f"  {'kind':<9}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'errors':>8}"
    ]
    by_kind = {kind: [s for s in samples if s.kind == kind] for kind in dict.fromkeys(KINDS)}
    by_kind.pop("next", None)
    by_kind["all"] = samples
    for kind, chosen in by_kind.items():
        s = Summary.of(chosen, seconds)
        lines.append(
            f"  {kind:<9}{s.count:>9,}{fmt(s.rps):>8}{fmt(s.p50):>9}{fmt(s.p95):>9}"
            f"{fmt(s.p99):>9}{fmt(s.max):>9}{s.errors:>8,}"
        )
    return lines


def log_findings(paths: list[Path]) -> tuple[Counter[str], list[str]]:
    """Counts of telling lines in the server's logs, and a few of the error lines."""
    patterns = {
        "ERROR lines": re.compile(r"\bERROR\b"),
        "Tracebacks": re.compile(r"^Traceback"),
        '"database is locked"': re.compile(r"database is locked", re.IGNORECASE),
        "waitress queue-depth warnings": re.compile(r"Task queue depth"),
    }
    counts: Counter[str] = Counter({key: 0 for key in patterns})
    shown: list[str] = []
    for path in paths:
        with contextlib.suppress(OSError):
            for line in path.read_text(errors="replace").splitlines():
                for key, pattern in patterns.items():
                    if pattern.search(line):
                        counts[key] += 1
                        if key != "waitress queue-depth warnings" and len(shown) < 6:
                            shown.append(f"{path.name}: {line[:200]}")
    return counts, shown


def machine_facts(seeded: dict) -> str:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "-"
    return (
        f"Machine: {os.cpu_count()} cores ({usable} usable), {platform.system()} "
        f"{platform.release()}, load average {load}; server Python {seeded['python']}, "
        f"SQLite {seeded['sqlite']}; client Python {sys.version.split()[0]}"
    )


# ---------------------------------------------------------------------------------------------
# Main


@dataclass
class Driven:
    clients: list[Tally]
    importers: list[Tally]
    seconds: float  # the window, from the start line to the last client's last answer
    imports_seconds: float  # from the start line to the end of the last import
    server_cpu: float  # the server's CPU seconds during the window
    bench_cpu: float  # this process's CPU seconds during the window (the load generator)


def warm_up(port: int, views: Views, password: str) -> list[tuple[str, float, int]]:
    """Each fixed view once, by one person, before the window: what is built on first use
    (sort indexes, search tables, counts, the profile) is then timed on its own."""
    client = Client(port, timeout=600)
    client.sign_in(f"{CLIENT_PREFIX}00", password)
    paths = [views.url(), views.url(last="1"), "/datasets", views.url("/profile")]
    for sort in ("c2", "c3"):
        paths += [views.url(sort=sort), views.url(sort=sort, dir="desc")]
        paths += [views.url(sort=sort, last="1")]
    for word in ("refund", "invoice", "warehouse", "ledger", "Zürich", "café", "東京"):
        paths += [views.url(q=word), views.url(q=word, sort="c2")]
    timings = []
    try:
        for path in paths:
            started = time.perf_counter()
            status, _, _ = client.get(path)
            timings.append((path, (time.perf_counter() - started) * 1000, status))
    finally:
        client.close()
    return timings


def drive(
    args: argparse.Namespace,
    port: int,
    proc: subprocess.Popen,
    views: Views,
    password: str,
    import_csv: Path,
) -> Driven:
    """Start the clients and importers, open the window once all have signed in, report
    progress, and wait for the clients (and then the imports still running)."""
    clients = [Tally() for _ in range(args.clients)]
    importers = [Tally() for _ in range(args.imports)]
    window = Window(args.seconds, args.think)
    ready = threading.Barrier(args.clients + args.imports + 1, action=window.open)
    client_threads = [
        threading.Thread(
            target=client_loop,
            args=(number, port, views, password, window, args.seed, tally, ready),
            name=f"client-{number:02d}",
            daemon=True,
        )
        for number, tally in enumerate(clients)
    ]
    import_threads = [
        threading.Thread(
            target=importer_loop,
            args=(number, port, import_csv, password, window, tally, ready),
            name=f"importer-{number:02d}",
            daemon=True,
        )
        for number, tally in enumerate(importers)
    ]
    for thread in client_threads + import_threads:
        thread.start()
    try:
        ready.wait(timeout=120)
    except threading.BrokenBarrierError:
        problems = [e for t in clients + importers for e in t.errors]
        raise BenchError(f"Not everyone could sign in: {problems[:3]}") from None
    cpu_before, bench_before = cpu_seconds(proc.pid), time.process_time()
    next_report = window.start + PROGRESS_EVERY_S
    while any(t.is_alive() for t in client_threads):
        time.sleep(0.2)
        now = time.monotonic()
        if proc.poll() is not None:
            raise BenchError(f"The server stopped ({proc.returncode}) during the run")
        if now >= next_report:
            next_report += PROGRESS_EVERY_S
            done = sum(len(t.samples) for t in clients)
            errors = sum(sum(t.errors.values()) for t in clients + importers)
            imported = sum(len(t.imports_done) for t in importers)
            elapsed = now - window.start
            say(
                f"  {elapsed:4.0f} s: {done:,} requests ({done / elapsed:,.1f}/s), "
                f"{errors} errors, {imported} imports done"
            )
    seconds = time.monotonic() - window.start
    server_cpu = cpu_seconds(proc.pid) - cpu_before
    bench_cpu = time.process_time() - bench_before
    if any(t.is_alive() for t in import_threads):
        say(f"  clients stopped after {seconds:.1f} s; waiting for the imports still running …")
    for thread, tally in zip(import_threads, importers, strict=True):
        thread.join(IMPORT_GRACE_S)
        if thread.is_alive():
            tally.error("import", thread.name, f"still running {IMPORT_GRACE_S:.0f} s late")
    imports_seconds = time.monotonic() - window.start
    return Driven(clients, importers, seconds, imports_seconds, server_cpu, bench_cpu)


def report(driven: Driven, args: argparse.Namespace, logs: list[Path]) -> tuple[int, float, float]:
    """Print the results; returns (errors, p95 ms, requests/s) for the RESULT line."""
    samples = [s for t in driven.clients for s in t.samples]
    overall = Summary.of(samples, driven.seconds)
    errors: Counter[str] = Counter()
    for tally in driven.clients + driven.importers:
        errors.update(tally.errors)
    error_count = sum(errors.values())
    cores = os.cpu_count() or 1

    say()
    say(
        f"Client requests ({args.clients} clients, "
        + (f"{args.think:g} s mean think time" if args.think else "no think time")
        + f", {driven.seconds:.1f} s "
        "window; ms from sending to the last byte):"
    )
    for line in summary_table(samples, driven.seconds):
        say(line)
    say("  page: table pages (first, last, sorted, next by cursor) and the list of datasets;")
    say("  search: full-text, some sorted; filter: column filters; export: narrowed views.")

    done = sorted(d for t in driven.importers for d in t.imports_done)
    failed = sum(t.imports_failed for t in driven.importers)
    rows = sum(t.import_rows for t in driven.importers)
    say()
    say(
        f"Imports ({args.imports} importer(s), {args.import_rows:,}-row CSV each time): "
        f"{len(done)} done, {failed} failed; the last ended {driven.imports_seconds:.1f} s "
        "after the start"
    )
    if done:
        median = done[(len(done) - 1) // 2]
        say(
            f"  upload to done: min {done[0]:.1f} s, median {median:.1f} s, max {done[-1]:.1f} s"
            f"; {rows:,} rows imported ({args.import_rows / median:,.0f} rows/s per import at "
            "the median)"
        )

    say()
    say(
        f"Server process: {driven.server_cpu:.1f} CPU s in the window = "
        f"{driven.server_cpu / driven.seconds:.2f} of {cores} cores; load generator (this "
        f"process): {driven.bench_cpu / driven.seconds:.2f} cores"
    )
    counts, lines = log_findings(logs)
    say("Server logs: " + ", ".join(f"{key} {value}" for key, value in counts.items()))
    for line in lines:
        say(f"    {line}")

    if errors:
        say()
        say(f"Errors ({error_count}; the {min(SAMPLES_KEPT, len(errors))} most frequent):")
        for message, count in errors.most_common(SAMPLES_KEPT):
            say(f"  {count:>5} x {message}")

    say()
    say("Targets:")
    met_errors = error_count <= ERRORS_TARGET
    met_p95 = overall.p95 < P95_TARGET_MS
    verdict = "met" if met_errors else "MISSED"
    say(f"  errors == {ERRORS_TARGET:<10}{error_count:>10}      {verdict}")
    say(
        f"  p95 < {P95_TARGET_MS:.0f} ms{'':<6}{fmt(overall.p95):>10} ms   "
        f"{'met' if met_p95 else 'MISSED'}"
    )
    return error_count, overall.p95, overall.rps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the timed window")
    parser.add_argument("--clients", type=int, default=20, help="signed-in browsing clients")
    parser.add_argument("--imports", type=int, default=2, help="importers running meanwhile")
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the seeded dataset")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds a client pauses between requests, as a person reading the page "
        "(each pause 0.5x to 1.5x of it; 0: back to back, the server's capacity)",
    )
    parser.add_argument(
        "--import-rows", type=int, default=100_000, help="rows of each imported CSV"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--keep", type=Path, help="keep the data folder and logs here (generated CSVs reused)"
    )
    parser.add_argument("--python", default=default_python(), help="python that runs Sheaf")
    args = parser.parse_args(argv)
    if not (0 < args.seconds <= 3600) or not (1 <= args.clients <= 200):
        parser.error("--seconds must be in (0, 3600] and --clients in 1…200")
    if not (0 <= args.imports <= 2 * (os.cpu_count() or 1) + 8) or args.rows < 1000:
        parser.error("--imports must be small and --rows at least 1000")
    if args.import_rows < 100:
        parser.error("--import-rows must be at least 100")

    # SIGTERM (a timeout, a kill) unwinds like Ctrl+C, so the server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="sheaf-load-bench-"))
    cache = args.keep or scratch
    cache.mkdir(parents=True, exist_ok=True)
    run_dir = cache / time.strftime("run-%Y%m%d-%H%M%S") if args.keep else scratch
    run_dir.mkdir(parents=True, exist_ok=True)
    data_dir = run_dir / "data"
    console = run_dir / "server-console.log"
    # The import benchmark's data and file names: kept files (--keep) serve both benchmarks.
    data_csv = cache / f"sheaf-bench-v{DATA_VERSION}-seed{args.seed}-{args.rows}.csv"
    import_csv = cache / f"sheaf-bench-v{DATA_VERSION}-seed{args.seed + 1}-{args.import_rows}.csv"

    say(
        f"Sheaf load benchmark: {args.clients} clients and {args.imports} importers for "
        f"{args.seconds:g} s on a {args.rows:,}-row dataset (loopback only)"
    )
    proc = None
    try:
        say("Generating the data …")
        ensure_csv(data_csv, args.seed, args.rows)
        ensure_csv(import_csv, args.seed + 1, args.import_rows)
        say(f"Seeding {data_dir} (accounts, then the dataset with load_file) …")
        seeded = run_seeding(args.python, data_dir, data_csv, args.clients, args.imports)
        say(f"  {seeded['rows']:,} rows loaded in {seeded['seconds']:.1f} s")
        say(f"  column types: {' '.join(seeded['types'])}")
        say(machine_facts(seeded))
        if seeded["rows"] != args.rows:
            raise BenchError(f"The dataset holds {seeded['rows']:,} rows, not {args.rows:,}")

        port = free_port()
        command = [args.python, "-m", "desktop.cli", "--data-dir", str(data_dir), "serve"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        say(f"Starting the server: {' '.join(command)}")
        with open(console, "wb") as out:
            proc = subprocess.Popen(
                command, cwd=ROOT, env=sheaf_env(), stdout=out, stderr=subprocess.STDOUT
            )
        wait_for_port(port, proc, console, 60)
        views = Views(seeded["dataset_id"])

        say("Warming up (each fixed view once, one client) …")
        timings = warm_up(port, views, seeded["password"])
        bad = [t for t in timings if t[2] != 200]
        if bad:
            raise BenchError(f"Warm-up answers other than 200: {bad[:3]}")
        slowest = sorted(timings, key=lambda t: -t[1])[:3]
        total = sum(t[1] for t in timings) / 1000
        say(
            f"  {len(timings)} requests in {total:.1f} s; slowest: "
            + ", ".join(f"{path} {ms:.0f} ms" for path, ms, _ in slowest)
        )

        say(f"Driving it for {args.seconds:g} s …")
        rss_before = rss_mib(proc.pid)[0]
        driven = drive(args, port, proc, views, seeded["password"], import_csv)
        rss_now, rss_peak = rss_mib(proc.pid)
        stop(proc)
        logs = [console, *sorted((data_dir / "logs").glob("sheaf.log*"))]
        error_count, p95, rps = report(driven, args, logs)
        say(
            f"Server memory: RSS {rss_before:.0f} MiB before the window, {rss_now:.0f} MiB "
            f"after, peak {rss_peak:.0f} MiB"
        )
        if args.keep:
            say(f"Kept the data folder and logs in {run_dir}")
        say(f"Whole run: {time.perf_counter() - began:.1f} s")
    except BenchError as exc:
        say(f"The benchmark could not run: {exc}")
        say("RESULT errors=nan p95_ms=nan rps=nan")
        return 1
    finally:
        stop(proc)
        shutil.rmtree(scratch, ignore_errors=True)
    say(f"RESULT errors={error_count} p95_ms={p95:.1f} rps={rps:.1f}")
    return 0


def internal(argv: list[str]) -> int | None:
    """The helper mode (a process of its own); None when ``argv`` asks for the benchmark."""
    if argv[:1] != ["--seed-folder"]:
        return None
    data_dir, csv_path, clients, importers = argv[1:5]
    facts = seed_folder(Path(data_dir), Path(csv_path), int(clients), int(importers))
    print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    code = internal(sys.argv[1:])
    sys.exit(main() if code is None else code)
