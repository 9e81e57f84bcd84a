"""Edit benchmark: a cell edited, undone, a row added, a cleaning step, two editors at once.

Seeds a data folder with load_bench's seeding (the import benchmark's CSV, default 1,000,000
rows, loaded with ``load_file``; an owner and two editors), starts the real server
(``python -m desktop.cli serve``, waitress) in a process of its own, signs in over HTTP and
times, request by request, as the table page's script and the forms send them:

* a one-cell edit (``POST /datasets/<id>/rows/<row>/cell``) and its undo
  (``POST /datasets/<id>/undo``), one after the other, on random rows;
* a row added (``POST /datasets/<id>/rows/new``);
* a cleaning step (``POST /datasets/<id>/clean``, change case of a text column), side by side
  with the previous release's code: a checkout of it (``--previous``) seeds its own folder the
  same way with its own code and serves it (``python -m server.cli serve``); the steps run in
  turn on both servers;
* two editors, each editing cells of its own rows and of a few shared rows, back to back at
  the same time. Every edit answered 200 must be in the data afterwards, or have been
  overwritten by a later applied edit of the same cell as the history records it; otherwise it
  is a lost update. Refusals (400, "… changed this dataset after you opened it …") are counted
  on their own.

The last line printed is machine-readable::

    RESULT cell_edit_p50_ms=<n> cell_edit_p95_ms=<n> undo_p50_ms=<n> undo_p95_ms=<n>
           add_row_p50_ms=<n> step_vs_previous=<ratio> lost_updates=<n> errors=<n>  (one line)

    .venv/bin/python bench/edit_bench.py --previous ../wt-before            # the full run
    .venv/bin/python bench/edit_bench.py --previous ../wt-before --rows 100000

See bench/README.md for what is measured and how.
"""

# The rows and values edited are pseudo-random on purpose (S311).
# ruff: noqa: S311

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import load_bench
from browse_bench import Timing, free_port, stop
from import_bench import DATA_VERSION, DEFAULT_ROWS, DEFAULT_SEED, default_python, ensure_csv, say
from load_bench import (
    CLIENT_PREFIX,
    OWNER,
    BenchError,
    Client,
    log_findings,
    machine_facts,
    page_text,
    run_seeding,
    sheaf_env,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parent.parent
PREVIOUS_RELEASE = "3716969"  # the release before versions: its steps replace the file too

EDIT_P50_MS, EDIT_P95_MS = 20.0, 50.0  # cell edit, undo and add row alike
STEP_RATIO = 1.1  # the step may take at most this times the previous release's (noise)
EDITORS = 2
REQUEST_TIMEOUT_S = 120.0
STEP_TIMEOUT_S = 1800.0

STEP_COLUMN = "c7"  # note: free text in every row, searched through the FTS5 index
STEP_MODES = ("upper", "lower")  # alternated, so every run changes (nearly) every row
EDIT_COLUMNS = ("c7", "c8")  # note (text) and quantity (nullable integer)
STALE = "changed this dataset after you opened it"

_VERSION_ATTR = re.compile(r'data-version="(\d+)"')
_VERSION_FIELD = re.compile(r'name="version" value="(\d+)"')
_ROWS_CHANGED = re.compile(r"\(([\d,]+) rows?\)")
_UNDONE = re.compile(r"Undone\. Now at version ([\d,]+)")
_ADDED = re.compile(r"Added a row \(version ([\d,]+)\)")
_SUCCESS = re.compile(r'<div class="notice notice-success">([^<]*)</div>')
_FLASHES = re.compile(r'<div class="notice notice-(\w+)">([^<]*)</div>')


# ---------------------------------------------------------------------------------------------
# What was seen


@dataclass
class Problems:
    """Errors (5xx, exceptions, answers not the expected one), by message; shared by threads."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, problem: str) -> None:
        with self.lock:
            self.counts[f"{what}: {problem[:200]}"] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def int_of(text: str) -> int:
    return int(text.replace(",", ""))


def flashes(data: bytes) -> list[tuple[str, str]]:
    """The page's flash messages: (category, text)."""
    return _FLASHES.findall(data.decode(errors="replace"))


def timed_post(
    client: Client,
    path: str,
    fields: dict[str, str],
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> tuple[int, str, bytes, float]:
    """POST a form as a browser does: (status, Location, body, ms to the last byte)."""
    body = urllib.parse.urlencode(fields).encode()
    sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    started = time.perf_counter()
    status, answer, data = client.request("POST", path, body, sent, timeout=timeout)
    return status, answer.get("Location", ""), data, (time.perf_counter() - started) * 1000


def timed_get(client: Client, path: str) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    status, _, data = client.request("GET", path)
    return status, data, (time.perf_counter() - started) * 1000


def post_and_follow(
    client: Client,
    path: str,
    fields: dict[str, str],
    done: re.Pattern[str],
    what: str,
    problems: Problems,
) -> tuple[float, float, int] | None:
    """POST a form that answers a redirect, then GET the page it leads to, whose message must
    say the change was made (``done`` finds its version number there): (ms of the POST, ms of
    the page, the version). None when not, the error counted."""
    status, location, data, ms = timed_post(client, path, fields)
    if status != 302:
        problems.add(what, f"{status} {page_text(data)}")
        return None
    status, data, page_ms = timed_get(client, location)
    found = done.search(data.decode(errors="replace"))
    if status != 200 or found is None:
        problems.add(what, f"not applied: {flashes(data)}")
        return None
    return ms, page_ms, int_of(found.group(1))


def page_state(client: Client, path: str, pattern: re.Pattern[str]) -> tuple[str, int | None]:
    """The CSRF token of a page and the version it was made on (None: it does not say)."""
    status, _, data = client.request("GET", path)
    text = data.decode(errors="replace")
    token = load_bench._TOKEN.search(text)
    if status != 200 or token is None:
        raise BenchError(f"GET {path} answered {status}: {page_text(data)}")
    found = pattern.search(text)
    return token.group(1), int(found.group(1)) if found else None


def new_value(column_type: str, number: int, tag: str) -> str:
    """A value typed into a cell: unique per edit, so the check afterwards can find it."""
    if column_type == "integer":
        return str(number)
    if column_type == "real":
        return f"{number}.25"
    return f"{tag} {number}"


def stored(column_type: str, value: str) -> object:
    """``value`` as Sheaf stores it in a column of that type (for the columns edited here)."""
    if column_type == "integer":
        return int(value)
    if column_type == "real":
        return float(value)
    return value


# ---------------------------------------------------------------------------------------------
# Servers


@dataclass
class Server:
    label: str
    root: Path
    module: str
    data_dir: Path
    log: Path
    proc: subprocess.Popen | None = None
    port: int = 0

    def start(self, python: str) -> None:
        self.port = free_port()
        command = [python, "-m", self.module, "--data-dir", str(self.data_dir), "serve"]
        command += ["--port", str(self.port)]
        env = sheaf_env()
        if self.root.resolve() != ROOT:
            env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave the other checkout as it was
        say(f"  {self.label}: {' '.join(command)}  (in {self.root})")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port, self.proc, self.log, 60)

    def client(self, login: str, password: str, timeout: float = REQUEST_TIMEOUT_S) -> Client:
        client = Client(self.port, timeout)
        client.sign_in(login, password)
        return client

    def stop(self) -> None:
        stop(self.proc)

    def logs(self) -> list[Path]:
        return [self.log, *sorted((self.data_dir / "logs").glob("sheaf.log*"))]


def share_for_editing(owner: Client, dataset_id: int) -> None:
    """The owner gives the Editor role edit rights through the sharing form (the seeding shared
    the dataset read-only), as a person would."""
    path = f"/datasets/{dataset_id}/sharing"
    status, _, data = owner.request("GET", path)
    text = data.decode(errors="replace")
    role = re.search(r'<option value="(role:\d+)"[^>]*>Everyone with the Editor role', text)
    token = load_bench._TOKEN.search(text)
    if status != 200 or role is None or token is None:
        raise BenchError(f"GET {path} answered {status} without the Editor role to share with")
    fields = {"csrf_token": token.group(1), "target": role.group(1), "rights": "edit"}
    status, _, data, _ = timed_post(owner, path, fields)
    if status not in (200, 302):
        raise BenchError(f"Sharing for editing answered {status}: {page_text(data)}")


# ---------------------------------------------------------------------------------------------
# The cleaning step, this code and the previous release's


@dataclass
class StepRun:
    side: str
    mode: str
    ms: float
    rows_changed: int
    page_ms: float  # the clean page the step redirects to


def run_step(server: Server, client: Client, dataset_id: int, mode: str) -> StepRun:
    """One change-case step through the clean form, timed from sending to the answer (the
    redirect); the page it leads to is fetched after, and must say the step was applied."""
    path = f"/datasets/{dataset_id}/clean"
    token, version = page_state(client, path, _VERSION_FIELD)
    fields = {"csrf_token": token, "kind": "case", "column": STEP_COLUMN, "mode": mode}
    if version is not None:  # the previous release's form has no version field
        fields["version"] = str(version)
    status, location, data, ms = timed_post(client, path, fields, timeout=STEP_TIMEOUT_S)
    if status != 302 or not location.endswith("/clean"):
        raise BenchError(f"{server.label}: the step answered {status}: {page_text(data)}")
    status, page, page_ms = timed_get(client, location)
    done = _SUCCESS.search(page.decode(errors="replace"))
    changed = _ROWS_CHANGED.search(done.group(1)) if done else None
    if status != 200 or changed is None:
        raise BenchError(f"{server.label}: the step was not applied: {flashes(page)}")
    return StepRun(server.label, mode, ms, int_of(changed.group(1)), page_ms)


def compare_steps(
    current: tuple[Server, Client, int],
    previous: tuple[Server, Client, int],
    warmup: int,
    runs: int,
) -> list[StepRun]:
    """``warmup`` untimed then ``runs`` timed steps on each server, in turn (who goes first
    alternates), the case modes alternating so that every step changes nearly every row."""
    done = []
    for number in range(warmup + runs):
        mode = STEP_MODES[number % len(STEP_MODES)]
        order = (current, previous) if number % 2 == 0 else (previous, current)
        for server, client, dataset_id in order:
            run = run_step(server, client, dataset_id, mode)
            if number >= warmup:
                done.append(run)
            say(
                f"    {run.side:<18}{mode:<7}{run.ms / 1000:8.2f} s  ({run.rows_changed:,} rows "
                f"changed; the clean page after it {run.page_ms:.0f} ms)"
                + ("  warm-up" if number < warmup else "")
            )
    return done


# ---------------------------------------------------------------------------------------------
# One editor: a cell and its undo, rows added


def edit_and_undo(
    client: Client,
    dataset_id: int,
    rows: int,
    types: dict[str, str],
    warmup: int,
    repeat: int,
    rng: random.Random,
    problems: Problems,
    label: str = "",
) -> tuple[Timing, Timing, Timing]:
    """A cell of a random row typed in the table, then undone from the history, ``repeat``
    times (after ``warmup`` untimed pairs)."""
    base = f"/datasets/{dataset_id}"
    cell = Timing(f"cell edit{label}", f"{base}/rows/<row>/cell", float("nan"))
    undo = Timing(f"undo{label}", f"{base}/undo", float("nan"))
    page = Timing(f"history page after undo{label}", f"{base}/history", float("nan"))
    token, version = page_state(client, base, _VERSION_ATTR)
    for number in range(warmup + repeat):
        timed = number >= warmup
        row = rng.randint(1, rows)
        column = EDIT_COLUMNS[number % len(EDIT_COLUMNS)]
        fields = {
            "column": column,
            "value": new_value(types[column], 90_000_000 + number, "edit bench"),
            "version": str(version),
        }
        status, _, data, ms = timed_post(
            client, f"{base}/rows/{row}/cell", fields, {"X-CSRFToken": token}
        )
        if status != 200:
            problems.add("cell edit", f"{status} {data[:200].decode(errors='replace')}")
            token, version = page_state(client, base, _VERSION_ATTR)
            continue
        version = json.loads(data)["version"]
        if timed:
            cell.samples.append(ms)
        fields = {"csrf_token": token, "version": str(version), "back": "history"}
        done = post_and_follow(client, f"{base}/undo", fields, _UNDONE, "undo", problems)
        if done is None:
            token, version = page_state(client, base, _VERSION_ATTR)
            continue
        ms, page_ms, version = done
        if timed:
            undo.samples.append(ms)
            page.samples.append(page_ms)
    return cell, undo, page


def form_value(column_type: str, number: int) -> str:
    """A value for the row form's typed field (as a browser sends it)."""
    return {
        "integer": str(number),
        "real": "1234.5",
        "date": "2031-02-03",
        "datetime": "2031-02-03T04:05:06",
        "boolean": "yes",
    }.get(column_type, f"added by the edit bench {number}")


def add_rows(
    client: Client,
    dataset_id: int,
    types: dict[str, str],
    warmup: int,
    repeat: int,
    problems: Problems,
) -> tuple[Timing, Timing, int]:
    """The new-row form filled in and saved, ``repeat`` times after ``warmup``."""
    base = f"/datasets/{dataset_id}"
    add = Timing("add row", f"{base}/rows/new", float("nan"))
    page = Timing("last page after adding", f"{base}?last=1", float("nan"))
    token, _ = page_state(client, f"{base}/rows/new", _VERSION_FIELD)
    _, version = page_state(client, base, _VERSION_ATTR)  # the table page's version
    for number in range(warmup + repeat):
        fields = {"csrf_token": token, "version": str(version)}
        fields.update({name: form_value(kind, 80_000_000 + number) for name, kind in types.items()})
        done = post_and_follow(client, f"{base}/rows/new", fields, _ADDED, "add row", problems)
        if done is None:
            _, version = page_state(client, base, _VERSION_ATTR)
            continue
        ms, page_ms, version = done  # the page it leads to is made on that version
        if number >= warmup:
            add.samples.append(ms)
            page.samples.append(page_ms)
    return add, page, version


# ---------------------------------------------------------------------------------------------
# Two editors at once


@dataclass
class Attempt:
    editor: str
    row: int
    column: str
    value: str
    shared: bool
    status: int  # 0: an exception
    version: int | None  # the version the server says the edit made
    ms: float


@dataclass
class Plan:
    """Which rows each editor edits: its own, and now and then one of the shared ones."""

    shared: list[int]
    own: list[list[int]]
    shared_share: float


def plan_rows(rows: int, editors: int, own: int, shared: int, share: float, seed: int) -> Plan:
    rng = random.Random(seed)
    chosen = rng.sample(range(1, rows + 1), shared + editors * own)
    return Plan(
        chosen[:shared],
        [chosen[shared + e * own : shared + (e + 1) * own] for e in range(editors)],
        share,
    )


@dataclass(frozen=True)
class Editing:
    """What the two editors do: ``edits`` each, on the rows of ``plan``."""

    server: Server
    password: str
    dataset_id: int
    types: dict[str, str]
    plan: Plan
    edits: int
    seed: int


def editor_loop(
    number: int,
    job: Editing,
    ready: threading.Barrier,
    attempts: list[Attempt],
    problems: Problems,
) -> None:
    """Sign in, wait for the other editor, then edit cells back to back. The version sent is
    the table page's, then the one each applied edit answers (as the page's script keeps it);
    after a refusal the editor reloads the page, as a person would."""
    login = f"{CLIENT_PREFIX}{number:02d}"
    rng = random.Random(job.seed * 100 + number)
    base = f"/datasets/{job.dataset_id}"
    plan = job.plan
    try:
        client = job.server.client(login, job.password)
        token, version = page_state(client, base, _VERSION_ATTR)
    except Exception as exc:
        problems.add(f"{login} sign-in", f"{type(exc).__name__}: {exc}")
        ready.abort()
        return
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    try:
        for count in range(job.edits):
            shared = rng.random() < plan.shared_share
            row = rng.choice(plan.shared if shared else plan.own[number])
            column = rng.choice(EDIT_COLUMNS)
            value = new_value(job.types[column], (number + 1) * 10_000_000 + count, login)
            fields = {"column": column, "value": value, "version": str(version)}
            started = time.perf_counter()
            try:
                status, _, data, ms = timed_post(
                    client, f"{base}/rows/{row}/cell", fields, {"X-CSRFToken": token}
                )
            except Exception as exc:
                ms = (time.perf_counter() - started) * 1000
                attempts.append(Attempt(login, row, column, value, shared, 0, None, ms))
                problems.add(f"{login} cell edit", f"{type(exc).__name__}: {exc}")
                client.close()
                token, version = page_state(client, base, _VERSION_ATTR)
                continue
            answer = {}
            with contextlib.suppress(ValueError):
                answer = json.loads(data)
            made = answer.get("version") if status == 200 else None
            attempts.append(Attempt(login, row, column, value, shared, status, made, ms))
            if status == 200 and made is not None:
                version = made
            elif status == 400 and STALE in str(answer.get("error", "")):
                token, version = page_state(client, base, _VERSION_ATTR)  # reload the page
            else:
                problems.add(
                    f"{login} cell edit", f"{status} {data[:200].decode(errors='replace')}"
                )
                token, version = page_state(client, base, _VERSION_ATTR)
    except Exception as exc:
        problems.add(f"{login}", f"stopped: {type(exc).__name__}: {exc}")
    finally:
        client.close()


def two_editors(job: Editing, problems: Problems) -> tuple[list[Attempt], float]:
    """Both editors' attempts (in no particular order) and the seconds the editing took."""
    attempts: list[Attempt] = []
    ready = threading.Barrier(EDITORS + 1)
    threads = [
        threading.Thread(
            target=editor_loop,
            args=(n, job, ready),
            kwargs={"attempts": attempts, "problems": problems},
            name=f"editor-{n}",
            daemon=True,
        )
        for n in range(EDITORS)
    ]
    for thread in threads:
        thread.start()
    try:
        ready.wait(timeout=120)
    except threading.BrokenBarrierError:
        raise BenchError(f"The editors could not start: {list(problems.counts)[:3]}") from None
    started = time.monotonic()
    for thread in threads:
        thread.join()
    return attempts, time.monotonic() - started


@dataclass
class Verdict:
    applied: int
    refused: int
    lost: list[str]  # one line per lost update
    overwritten: int  # applied, then overwritten by a later applied edit of the same cell
    unrecorded: int  # versions in the history that no applied edit answered
    refused_but_stored: int


def dataset_file(data_dir: Path, dataset_id: int) -> Path:
    """The dataset's current file, read from the application database."""
    app = sqlite3.connect(data_dir / "sheaf.db")
    try:
        key = app.execute("SELECT storage_key FROM dataset WHERE id = ?", (dataset_id,)).fetchone()
    finally:
        app.close()
    return data_dir / "datasets" / f"{key[0]}.sqlite"


def count_ms(path: Path, times: int = 5) -> float:
    """Median ms of ``SELECT count(*) FROM rows`` on a fresh connection to the file: what every
    row-level change runs to record the row count (versions.commit_rows)."""
    samples = []
    for _ in range(times):
        con = sqlite3.connect(path)
        try:
            started = time.perf_counter()
            con.execute("SELECT count(*) FROM rows").fetchone()
            samples.append((time.perf_counter() - started) * 1000)
        finally:
            con.close()
    return statistics.median(samples)


def verify(
    data_dir: Path,
    dataset_id: int,
    attempts: list[Attempt],
    types: dict[str, str],
    versions: tuple[int, int],
) -> Verdict:
    """Check every applied edit against the history (the application database's
    ``dataset_version`` and ``row_change`` tables) and the dataset file, read directly after
    the server stopped. ``versions``: the history before the editors began and after they
    ended."""
    app = sqlite3.connect(data_dir / "sheaf.db")
    try:
        recorded: dict[int, list[tuple[str, int, dict, dict]]] = {}
        for number, kind, row_id, before, after in app.execute(
            "SELECT v.number, v.kind, c.row_id, c.before, c.after FROM dataset_version v "
            "JOIN row_change c ON c.version_id = v.id "
            "WHERE v.dataset_id = ? AND v.number > ? AND v.number <= ?",
            (dataset_id, *versions),
        ):
            recorded.setdefault(number, []).append(
                (kind, row_id, json.loads(before or "{}"), json.loads(after or "{}"))
            )
    finally:
        app.close()
    con = sqlite3.connect(dataset_file(data_dir, dataset_id))
    try:

        def final(row: int, column: str) -> object:
            found = con.execute(f"SELECT {column} FROM rows WHERE rowid = ?", (row,)).fetchone()  # noqa: S608
            return found[0] if found else None

        applied = [a for a in attempts if a.status == 200 and a.version is not None]
        by_cell: dict[tuple[int, str], list[Attempt]] = {}
        for attempt in applied:
            by_cell.setdefault((attempt.row, attempt.column), []).append(attempt)

        def in_history(attempt: Attempt) -> bool:
            value = stored(types[attempt.column], attempt.value)
            return any(
                kind == "edit" and row == attempt.row and after.get(attempt.column) == value
                for kind, row, _, after in recorded.get(attempt.version or -1, [])
            )

        lost, overwritten = [], 0
        for attempt in applied:
            value = stored(types[attempt.column], attempt.value)
            later = [
                other
                for other in by_cell[(attempt.row, attempt.column)]
                if (other.version or 0) > (attempt.version or 0) and in_history(other)
            ]
            if not in_history(attempt):
                lost.append(f"{attempt.editor} row {attempt.row} {attempt.column}: not in history")
            elif final(attempt.row, attempt.column) == value:
                continue
            elif later:
                overwritten += 1
            else:
                now = final(attempt.row, attempt.column)
                lost.append(
                    f"{attempt.editor} row {attempt.row} {attempt.column}={attempt.value!r} "
                    f"(version {attempt.version}) is {now!r} now"
                )
        answered = {a.version for a in applied}
        unrecorded = sum(1 for number in recorded if number not in answered)
        refused = [a for a in attempts if a.status == 400]
        refused_but_stored = sum(
            1 for a in refused if final(a.row, a.column) == stored(types[a.column], a.value)
        )
    finally:
        con.close()
    return Verdict(len(applied), len(refused), lost, overwritten, unrecorded, refused_but_stored)


# ---------------------------------------------------------------------------------------------
# Report


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def spread(samples: list[float]) -> str:
    if not samples:
        return "-"
    return f"{min(samples):.1f}-{max(samples):.1f}"


def timing_table(rows: list[Timing]) -> list[str]:
    lines = [
        f"  {'request':<42}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'min-max ms':>16}"
        f"{'first 10% p50':>15}{'last 10% p50':>14}",
    ]
    for t in rows:
        tenth = max(1, len(t.samples) // 10)
        first = statistics.median(t.samples[:tenth]) if t.samples else float("nan")
        last = statistics.median(t.samples[-tenth:]) if t.samples else float("nan")
        lines.append(
            f"  {t.label:<42}{len(t.samples):>5}{fmt(t.p50):>9}{fmt(t.p95):>9}"
            f"{spread(t.samples):>16}{fmt(first):>15}{fmt(last):>14}"
        )
    return lines


def median_of(runs: list[StepRun], side: str) -> float:
    chosen = [r.ms for r in runs if r.side == side]
    return statistics.median(chosen) if chosen else float("nan")


# ---------------------------------------------------------------------------------------------
# Main


def previous_checkout(args: argparse.Namespace, scratch: Path) -> Path:
    """The previous release's code: ``--previous`` as it is, or ``git archive`` of
    ``--previous-rev`` into the scratch folder."""
    if args.previous is not None:
        root = args.previous.resolve()
        if not (root / "server" / "cli.py").exists() or not (root / "bench").is_dir():
            raise BenchError(f"{root} is not a Sheaf checkout with server/cli.py and bench/")
        return root
    root = scratch / "previous"
    root.mkdir()
    say(f"  git archive {args.previous_rev} into {root}")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", args.previous_rev],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise BenchError(f"git archive {args.previous_rev}: {archive.stderr.decode()[-500:]}")
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    return root


@dataclass
class Results:
    rows: int
    steps: list[StepRun]
    timings: list[Timing]  # cell edit, undo, add row, the pages after, late ones
    attempts: list[Attempt]
    editing_s: float
    verdict: Verdict
    count_ms: float
    log_counts: Counter[str]
    log_lines: list[str]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows of the dataset")
    parser.add_argument("--repeat", type=int, default=100, help="timed edits (and undos, adds)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed ones first")
    parser.add_argument("--step-runs", type=int, default=5, help="timed steps per server")
    parser.add_argument("--step-warmup", type=int, default=1, help="untimed steps per server")
    parser.add_argument("--edits", type=int, default=500, help="edits per editor, both at once")
    parser.add_argument("--own-rows", type=int, default=50, help="rows each editor edits alone")
    parser.add_argument("--shared-rows", type=int, default=5, help="rows both editors edit")
    parser.add_argument(
        "--shared-share", type=float, default=0.2, help="share of the edits on shared rows"
    )
    parser.add_argument(
        "--late-repeat",
        type=int,
        default=20,
        help="cell edits and undos timed again at the end, with the editors' versions in the "
        "history",
    )
    parser.add_argument(
        "--previous", type=Path, help="a checkout of the previous release (its server and seeding)"
    )
    parser.add_argument(
        "--previous-rev",
        default=PREVIOUS_RELEASE,
        help="without --previous: the commit to git-archive into the scratch folder",
    )
    parser.add_argument("--no-previous", action="store_true", help="skip the step comparison")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated CSV here")
    parser.add_argument("--python", default=default_python(), help="python that runs Sheaf")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target is missed"
    )
    args = parser.parse_args(argv)
    if args.rows < 1000 or args.repeat < 1 or args.warmup < 0 or args.step_runs < 1:
        parser.error("--rows must be at least 1000, --repeat and --step-runs at least 1")
    if args.shared_rows + EDITORS * args.own_rows > args.rows // 2 or args.edits < 1:
        parser.error("--own-rows and --shared-rows must fit in half the rows; --edits >= 1")
    if args.step_warmup < 0 or args.late_repeat < 1:
        parser.error("--step-warmup must be at least 0, --late-repeat at least 1")
    return args


def run(args: argparse.Namespace, scratch: Path, problems: Problems) -> Results:
    cache = args.keep or scratch
    cache.mkdir(parents=True, exist_ok=True)
    csv_path = cache / f"sheaf-bench-v{DATA_VERSION}-seed{args.seed}-{args.rows}.csv"
    current = Server("this code", ROOT, "desktop.cli", scratch / "data", scratch / "server.log")
    previous: Server | None = None
    try:
        ensure_csv(csv_path, args.seed, args.rows)
        say(f"Seeding {current.data_dir} with this code (load_bench's seeding) …")
        seeded = run_seeding(args.python, current.data_dir, csv_path, EDITORS, 0)
        say(f"  {seeded['rows']:,} rows loaded in {seeded['seconds']:.1f} s")
        say(f"  column types: {' '.join(seeded['types'])}")
        if seeded["rows"] != args.rows:
            raise BenchError(f"The dataset holds {seeded['rows']:,} rows, not {args.rows:,}")
        types = dict(t.split("=", 1) for t in seeded["types"])
        if types.get(STEP_COLUMN) != "text" or any(c not in types for c in EDIT_COLUMNS):
            raise BenchError(f"Unexpected columns: {types}")
        password, dataset_id = seeded["password"], seeded["dataset_id"]
        if not args.no_previous:
            root = previous_checkout(args, scratch)
            previous = Server(
                "previous release", root, "server.cli", scratch / "data-previous", scratch / "p.log"
            )
            say(f"Seeding {previous.data_dir} with the previous release's code (in {root}) …")
            before = run_seeding(args.python, previous.data_dir, csv_path, EDITORS, 0, root)
            say(f"  {before['rows']:,} rows loaded in {before['seconds']:.1f} s")
            if before["types"] != seeded["types"] or before["rows"] != seeded["rows"]:
                raise BenchError(f"The two folders differ: {before['types']} {before['rows']}")
        say(machine_facts(seeded))

        say("Starting the servers:")
        current.start(args.python)
        owner = current.client(OWNER, password)
        share_for_editing(owner, dataset_id)
        steps: list[StepRun] = []
        if previous is not None:
            previous.start(args.python)
            previous_owner = previous.client(OWNER, password)
            say(
                f"Cleaning step, change case of {STEP_COLUMN} ({args.step_warmup} + "
                f"{args.step_runs} runs on each, in turn):"
            )
            steps = compare_steps(
                (current, owner, dataset_id),
                (previous, previous_owner, before["dataset_id"]),
                args.step_warmup,
                args.step_runs,
            )
            previous_owner.close()
            previous.stop()

        rng = random.Random(args.seed)
        say(f"A cell edited then undone, {args.warmup} + {args.repeat} times …")
        cell, undo, history_page = edit_and_undo(
            owner, dataset_id, args.rows, types, args.warmup, args.repeat, rng, problems
        )
        say(f"    cell edit p50 {cell.p50:.1f} ms, undo p50 {undo.p50:.1f} ms")
        say(f"A row added, {args.warmup} + {args.repeat} times …")
        add, add_page, first = add_rows(
            owner, dataset_id, types, args.warmup, args.repeat, problems
        )
        say(f"    add row p50 {add.p50:.1f} ms")
        owner.close()

        say(
            f"Two editors, {args.edits} edits each at once ({args.own_rows} rows each of their "
            f"own, {args.shared_rows} shared, {args.shared_share:.0%} of the edits on those) …"
        )
        plan = plan_rows(
            args.rows, EDITORS, args.own_rows, args.shared_rows, args.shared_share, args.seed
        )
        job = Editing(current, password, dataset_id, types, plan, args.edits, args.seed)
        attempts, seconds = two_editors(job, problems)

        owner = current.client(OWNER, password)
        _, last = page_state(owner, f"/datasets/{dataset_id}", _VERSION_ATTR)
        say(f"A cell edited then undone again, {args.late_repeat} times, at version {last:,} …")
        late = edit_and_undo(
            owner,
            dataset_id,
            args.rows,
            types,
            0,
            args.late_repeat,
            rng,
            problems,
            f" at version {last:,}",
        )
        owner.close()
        current.stop()
        verdict = verify(current.data_dir, dataset_id, attempts, types, (first, last))
        counted = count_ms(dataset_file(current.data_dir, dataset_id))
        findings, lines = log_findings(current.logs() + (previous.logs() if previous else []))
    finally:
        current.stop()
        if previous is not None:
            previous.stop()
    return Results(
        args.rows,
        steps,
        [cell, undo, add, history_page, add_page, *late],
        attempts,
        seconds,
        verdict,
        counted,
        findings,
        lines,
    )


def report(
    args: argparse.Namespace, results: Results, problems: Problems, began: float
) -> list[str]:
    """Print the tables and the targets; returns the targets missed."""
    cell, undo, add = results.timings[:3]
    attempts, verdict, steps = results.attempts, results.verdict, results.steps
    concurrent = Timing("cell edit, two editors at once", "", float("nan"))
    concurrent.samples = [a.ms for a in attempts if a.status == 200]
    refused = Timing("  refused (stale)", "", float("nan"))
    refused.samples = [a.ms for a in attempts if a.status == 400]
    shared = [a for a in attempts if a.shared]
    failed = sum(1 for a in attempts if a.status == 0 or a.status >= 500)

    say()
    say(
        f"Sheaf edit benchmark: {results.rows:,} rows x 10 columns (seed {args.seed}); "
        f"{args.repeat} timed requests each after {args.warmup} warm-ups, one keep-alive "
        "connection, loopback; ms from sending to the last byte"
    )
    say()
    for line in timing_table([*results.timings[:5], concurrent, refused, *results.timings[5:]]):
        say(line)
    say("  Undo and adding a row answer a redirect; the page it leads to is timed on its own.")
    say(
        f"  Counting the dataset file's rows, as every row-level change does (count(*) in "
        f"versions.commit_rows): {results.count_ms:.1f} ms (median of 5, in this process)"
    )
    say()
    ratio = float("nan")
    if steps:
        mine = [r for r in steps if r.side == "this code"]
        theirs = [r for r in steps if r.side == "previous release"]
        ratio = median_of(steps, "this code") / median_of(steps, "previous release")
        say(f"Cleaning step (change case of {STEP_COLUMN}, every row), seconds per run:")
        for side, chosen in (("this code", mine), ("previous release", theirs)):
            runs = ", ".join(f"{r.ms / 1000:.2f}" for r in chosen)
            say(f"  {side:<18} median {median_of(steps, side) / 1000:6.2f} s   ({runs})")
        pairs = ", ".join(f"{a.ms / b.ms:.3f}" for a, b in zip(mine, theirs, strict=True))
        say(f"  ratio of the medians {ratio:.3f}; run by run: {pairs}")
        say()
    say(
        f"Two editors, {args.edits} edits each, at once: {len(attempts):,} sent in "
        f"{results.editing_s:.1f} s ({len(attempts) / results.editing_s:,.0f}/s); "
        f"{verdict.applied:,} applied (200), {verdict.refused:,} refused as stale (400), "
        f"{failed} errors; {len(shared):,} on shared rows, "
        f"{sum(1 for a in shared if a.status == 400):,} of them refused"
    )
    say(
        f"  checked against the history and the data: {len(verdict.lost)} lost; "
        f"{verdict.overwritten} applied then overwritten by a later applied edit of the same "
        f"cell; {verdict.unrecorded} versions that no applied edit answered; "
        f"{verdict.refused_but_stored} refused edits found in the data"
    )
    for line in verdict.lost[:8]:
        say(f"    lost: {line}")
    say("Server logs: " + ", ".join(f"{k} {v}" for k, v in results.log_counts.items()))
    for line in results.log_lines:
        say(f"    {line}")
    if problems.counts:
        say(f"Errors ({problems.total}):")
        for message, count in problems.counts.most_common(8):
            say(f"  {count:>5} x {message}")

    say()
    say("Targets:")
    lost = len(verdict.lost)
    checks = [
        ("cell_edit_p50_ms", cell.p50, f"<= {EDIT_P50_MS:g} ms", cell.p50 <= EDIT_P50_MS),
        ("cell_edit_p95_ms", cell.p95, f"<= {EDIT_P95_MS:g} ms", cell.p95 <= EDIT_P95_MS),
        ("undo_p50_ms", undo.p50, f"<= {EDIT_P50_MS:g} ms", undo.p50 <= EDIT_P50_MS),
        ("undo_p95_ms", undo.p95, f"<= {EDIT_P95_MS:g} ms", undo.p95 <= EDIT_P95_MS),
        ("add_row_p50_ms", add.p50, f"<= {EDIT_P50_MS:g} ms", add.p50 <= EDIT_P50_MS),
        ("add_row_p95_ms", add.p95, f"<= {EDIT_P95_MS:g} ms", add.p95 <= EDIT_P95_MS),
        ("step_vs_previous", ratio, f"<= {STEP_RATIO:g}x", ratio <= STEP_RATIO if steps else None),
        ("lost_updates", lost, "0", lost == 0),
        ("refused yet stored", verdict.refused_but_stored, "0", verdict.refused_but_stored == 0),
        ("errors", problems.total, "0", problems.total == 0),
    ]
    missed = []
    for key, value, target, ok in checks:
        verdict_word = "n/a" if ok is None else ("met" if ok else "MISSED")
        if ok is False:
            missed.append(key)
        digits = 3 if key.startswith("step") else 1 if key.endswith("_ms") else 0
        say(f"  {key:<20}{fmt(value, digits):>10}   target {target:<10}{verdict_word}")
    say(f"Whole run: {time.perf_counter() - began:.1f} s")
    say(
        f"RESULT cell_edit_p50_ms={cell.p50:.1f} cell_edit_p95_ms={cell.p95:.1f} "
        f"undo_p50_ms={undo.p50:.1f} undo_p95_ms={undo.p95:.1f} add_row_p50_ms={add.p50:.1f} "
        f"step_vs_previous={ratio:.3f} lost_updates={lost} errors={problems.total}"
    )
    return missed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (a timeout, a kill) unwinds like Ctrl+C, so the servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="sheaf-edit-bench-"))
    problems = Problems()
    try:
        results = run(args, scratch, problems)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    missed = report(args, results, problems, began)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"edit_bench: {exc}", file=sys.stderr)
        sys.exit(2)
