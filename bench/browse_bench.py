"""Browse benchmark: Sheaf's table pages, profile and CSV export over HTTP, against Datasette.

Imports the import benchmark's CSV (default 1,000,000 rows, 10 columns) with Sheaf's own
pipeline into a fresh data folder, starts the real server (``python -m desktop.cli serve``,
waitress) in a process of its own, signs in over HTTP and times, request by request: the first
page, the last page, a middle page, sorted pages, filtered pages, a full-text search, the
column profile (first and cached), a facet and a two-column summary (first and cached) and a
full CSV export (rows/s and the server's memory).
A second person, limited by a row rule to one category (about 1 row in 20, the rule's column
indexed as adding a rule does), then asks for the same first, sorted, filtered and search pages:
``rules_vs_unrestricted`` is the worst ratio of their p50 to the unrestricted person's.
Then it serves a copy of the same SQLite file with Datasette and times the same queries there.
The last line printed is machine-readable::

    RESULT worst_page_p50_ms=<n> worst_vs_datasette=<ratio> profile_cached_ms=<n>
           export_rows_per_s=<n> facet_p50_ms=<n> facet_cached_ms=<n> summary_s=<n>
           summary_cached_ms=<n> rules_vs_unrestricted=<ratio>        (on one line)

    .venv/bin/python bench/browse_bench.py                  # the full run
    .venv/bin/python bench/browse_bench.py --rows 100000    # a quick one

See bench/README.md for what is measured and how.
"""

# Subprocesses run the servers and tools this script starts, with arguments it builds (S603).

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from import_bench import (
    DATA_VERSION,
    DEFAULT_ROWS,
    DEFAULT_SEED,
    DEFAULT_TOOLS_VENV,
    MIB,
    default_python,
    ensure_csv,
    say,
    warm,
)

ROOT = Path(__file__).resolve().parent.parent
DATASETTE_PACKAGE = "datasette>=0.65,<0.66"
LOGIN = "bench"
PASSWORD = "browse bench password"  # noqa: S105 - a throwaway account in a temporary folder
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
PAGE_SIZE = 50
LIMITED_LOGIN = "bench-limited"  # sees only the rows of RULE_VALUE in FILTER_COLUMN
RULE_VALUE = "Health"
RULES_TARGET = 1.5

# Issue #17: every table page p50 <= 10 ms on 1,000,000 rows and <= 0.5x Datasette's for the
# same page in the same run; CSV export >= 250,000 rows/s.
PAGE_TARGET_MS = 10.0
DATASETTE_TARGET_RATIO = 0.5
PROFILE_TARGET_MS = 25.0
EXPORT_TARGET_ROWS_S = 250_000
FACET_TARGET_MS = 100.0  # a 20-value column's facet computed (not cached), p50
FACET_CACHED_TARGET_MS = 10.0
SUMMARY_TARGET_S = 1.0  # a two-column summary with a sum, the first time
SUMMARY_CACHED_TARGET_MS = 25.0
# The summary timed: category, then day by year, with the sum of amount.
SUMMARY_QUERY = {"by": "c6", "then": "c3", "then_period": "year", "fn1": "sum", "of1": "c2"}
FLAT_MIB = 32  # "memory flat": the export may raise the server's RSS by at most this much

# The queries, on real columns of the generated data: c2 is ``amount`` (a real with 2
# decimals), c6 ``category`` (20 values), c7 ``note`` (free text), c9 ``score`` (a nullable
# real that nothing indexes). SEARCH_WORD is one of the generator's words (in about 14 % of
# the notes).
SORT_COLUMN = "c2"
FILTER_COLUMN, FILTER_VALUE = "c6", "Finance"
RANGE_COLUMN, RANGE_MIN = "c2", "99000"
SEARCH_WORD = "refund"
UNINDEXED_COLUMN = "c9"
DEEP_PAGES = 5

_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_NEXT = re.compile(r'href="([^"]+)" rel="next"')
_SHEAF_ROW = '<td class="rownum">'


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# HTTP


class Client:
    """One keep-alive connection to a loopback server, with its cookies (like a browser tab)."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        sink: Callable[[bytes], None] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """Send the request and read the whole answer (into ``sink`` when given)."""
        sent = {"Host": f"127.0.0.1:{self.port}", "Accept-Encoding": "identity", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
            self._conn.timeout = timeout or self.timeout
            if self._conn.sock is not None:
                self._conn.sock.settimeout(self._conn.timeout)
            try:
                self._conn.request(method, path, body=body, headers=sent)
                response = self._conn.getresponse()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed an idle keep-alive connection: once more
                if attempt == 2:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            cookie = rest.split(";", 1)[0]
            if "max-age=0" in value.lower() or "expires=thu, 01 jan 1970" in value.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = cookie
        try:
            if sink is None:
                data = response.read()
            else:
                data = b""
                while chunk := response.read(1 << 20):
                    sink(chunk)
        except BaseException:
            self.close()  # a half-read answer leaves the connection unusable
            raise
        if response.will_close:
            self.close()
        return response.status, response.headers, data

    def get(self, path: str, **kwargs) -> tuple[int, bytes]:
        status, _, data = self.request("GET", path, **kwargs)
        return status, data


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, path: str, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"The server stopped ({proc.returncode}):\n{tail(log)}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"The server did not answer within {seconds:.0f} s:\n{tail(log)}")


def tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB, from /proc."""
    found = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


# ---------------------------------------------------------------------------------------------
# Timing


@dataclass
class Timing:
    label: str
    path: str
    first_ms: float
    samples: list[float] = field(default_factory=list)
    rows: int = -1  # data rows on the page, when counted
    bytes: int = 0
    sql_ms: float = float("nan")  # the same page read in-process (browse.page), no HTTP

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def p95(self) -> float:
        if not self.samples:
            return float("nan")
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def time_get(client: Client, path: str, timeout: float | None = None) -> tuple[float, bytes]:
    started = time.perf_counter()
    status, data = client.get(path, timeout=timeout)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise BenchError(f"GET {path} answered {status}:\n{data[:2000].decode(errors='replace')}")
    return elapsed, data


def time_query(
    client: Client,
    label: str,
    path: str,
    warmups: int,
    repeats: int,
    count_rows: Callable[[bytes], int] | None = None,
) -> Timing:
    """The first request alone (it may build an index or count), then warm-ups, then timed."""
    first, data = time_get(client, path, timeout=max(client.timeout, 600))
    timing = Timing(label, path, first, bytes=len(data))
    if count_rows is not None:
        timing.rows = count_rows(data)
    for _ in range(max(0, warmups - 1)):
        time_get(client, path)
    timing.samples = [time_get(client, path)[0] for _ in range(repeats)]
    return timing


# ---------------------------------------------------------------------------------------------
# Sheaf


def sheaf_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({f"SHEAF_{k}": str(v) for k, v in FAST_HASHING.items()})
    env.pop("SHEAF_DATA_DIR", None)
    return env


def build_data_folder(data_dir: Path, csv_path: Path) -> tuple[int, int, float]:
    """A Sheaf data folder with one editor and the CSV imported as a dataset, as an import
    does it (``load_file``, then the Dataset record). Returns (dataset id, rows, seconds)."""
    sys.path.insert(0, str(ROOT))
    from server import create_app
    from server.auth.passwords import make_hasher
    from server.datasets.catalog import dataset_file
    from server.datasets.loading.pipeline import load_file
    from server.datasets.versions import new_dataset
    from server.db import database
    from server.models import Role, User, name_key

    app = create_app({"DATA_DIR": data_dir, **FAST_HASHING})
    hasher = make_hasher(1, 8, 1)
    with database.connection_context():
        owner = User.create(
            login=LOGIN,
            login_key=name_key(LOGIN),
            display_name="Bench Editor",
            password_hash=hasher.hash(PASSWORD),
            role=Role.get(Role.builtin == "editor"),
            must_change_password=False,
            active=True,
        )
        key = secrets.token_hex(16)
        started = time.perf_counter()
        outcome = load_file(csv_path, dataset_file(app.config["DATA_DIR"], key))
        seconds = time.perf_counter() - started
        dataset = new_dataset(
            "Browse bench",
            owner,
            key,
            outcome.columns,
            outcome.result.rows,
            "Imported",
        )
        types = [f"{c.name}={c.type}" for c in outcome.columns]
        from server.datasets import row_rules
        from server.models import DatasetShare

        limited = User.create(
            login=LIMITED_LOGIN,
            login_key=name_key(LIMITED_LOGIN),
            display_name="Bench Limited",
            password_hash=hasher.hash(PASSWORD),
            role=Role.get(Role.builtin == "viewer"),
            must_change_password=False,
            active=True,
        )
        DatasetShare.create(dataset=dataset, user=limited)
        row_rules.add_rule(
            dataset,
            user=limited,
            column=FILTER_COLUMN,
            kind="value",
            values=[RULE_VALUE],
            data_dir=app.config["DATA_DIR"],
        )
    say(f"  column types: {' '.join(types)}")
    database.close()
    return dataset.id, outcome.result.rows, seconds


def dataset_path(data_dir: Path) -> Path:
    files = sorted((data_dir / "datasets").glob("*.sqlite"))
    if len(files) != 1:
        raise BenchError(f"Expected one dataset file in {data_dir / 'datasets'}, found {files}")
    return files[0]


def sign_in(client: Client, login: str = LOGIN) -> None:
    status, page = client.get("/sign-in")
    match = _TOKEN.search(page.decode(errors="replace"))
    if status != 200 or not match:
        raise BenchError(f"No sign-in form (status {status})")
    form = urllib.parse.urlencode(
        {"csrf_token": match.group(1), "login": login, "password": PASSWORD}
    ).encode()
    status, _, data = client.request(
        "POST",
        "/sign-in",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 302:
        raise BenchError(f"Sign-in answered {status}:\n{data[:2000].decode(errors='replace')}")


def sheaf_rows(data: bytes) -> int:
    return data.decode(errors="replace").count(_SHEAF_ROW)


def next_link(data: bytes) -> str:
    found = _NEXT.search(data.decode(errors="replace"))
    if not found:
        raise BenchError("The page has no Next link")
    return found.group(1).replace("&amp;", "&")


def cursor_for(rowid: int) -> str:
    sys.path.insert(0, str(ROOT))
    from server.datasets.reading.browse import encode_cursor

    return encode_cursor(None, rowid)


@dataclass
class ExportRun:
    rows: int
    seconds: float
    bytes: int
    rss_before_mib: float
    rss_peak_mib: float  # sampled every 20 ms during the export
    hwm_before_mib: float
    hwm_after_mib: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


def export_csv(client: Client, path: str, pid: int) -> ExportRun:
    counted = {"lines": 0, "bytes": 0, "tail": b""}

    def sink(chunk: bytes) -> None:
        # Rows end in CRLF (csv.writer's terminator); a newline inside a note is a bare LF.
        counted["lines"] += (counted["tail"] + chunk).count(b"\r\n")
        counted["tail"] = chunk[-1:]  # one byte: a CRLF split between two chunks counts once
        counted["bytes"] += len(chunk)

    before = memory_kib(pid)
    peak = [before.get("VmRSS", 0)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak.append(memory_kib(pid).get("VmRSS", 0))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        status, _, data = client.request("GET", path, sink=sink, timeout=1800)
    finally:
        done.set()
        sampler.join()
    seconds = time.perf_counter() - started
    if status != 200:
        raise BenchError(f"Export answered {status}: {data[:500]!r}")
    after = memory_kib(pid)
    return ExportRun(
        rows=counted["lines"] - 1,  # the header line
        seconds=seconds,
        bytes=counted["bytes"],
        rss_before_mib=before.get("VmRSS", 0) / 1024,
        rss_peak_mib=max(peak) / 1024,
        hwm_before_mib=before.get("VmHWM", 0) / 1024,
        hwm_after_mib=after.get("VmHWM", 0) / 1024,
    )


@dataclass
class SheafResults:
    pages: list[Timing]
    sort_index_ms: float
    profile: Timing
    exports: list[ExportRun]
    start_rss_mib: float
    facet: Timing  # the facet of FILTER_COLUMN over HTTP: first (not cached), then cached
    summary: Timing  # SUMMARY_QUERY over HTTP: first, then cached
    limited: list[tuple[Timing, Timing]] = field(default_factory=list)  # (limited, everyone)


def bench_sheaf(
    python: str, data_dir: Path, dataset_id: int, rows: int, args: argparse.Namespace, log: Path
) -> SheafResults:
    port = free_port()
    command = [
        python,
        "-m",
        "desktop.cli",
        "--data-dir",
        str(data_dir),
        "serve",
        "--port",
        str(port),
    ]
    say(f"  {' '.join(command)}")
    proc = None
    client = Client(port, timeout=120)
    try:
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                command, cwd=ROOT, env=sheaf_env(), stdout=out, stderr=subprocess.STDOUT
            )
        wait_for(port, "/sign-in", proc, log, 60)
        start_rss = memory_kib(proc.pid).get("VmRSS", 0) / 1024
        sign_in(client)
        base = f"/datasets/{dataset_id}"
        status, _ = client.get(base)
        if status != 200:
            raise BenchError(f"GET {base} answered {status} after signing in")

        def q(**query: str) -> str:
            return f"{base}?{urllib.parse.urlencode(query)}" if query else base

        pages: list[Timing] = []

        def page(label: str, path: str) -> Timing:
            timing = time_query(client, label, path, args.warmup, args.repeat, sheaf_rows)
            pages.append(timing)
            say(f"    {label:<34}{timing.p50:>8.1f} ms p50  (first {timing.first_ms:.1f} ms)")
            return timing

        page("first page", q())
        page("last page (last=1)", q(last="1"))
        page("middle page (after rowid N/2)", q(after=cursor_for(rows // 2)))
        # The first sorted request creates the column's index: timed on its own.
        sort_index_ms, first_sorted = time_get(client, q(sort=SORT_COLUMN), timeout=1800)
        say(f"    first sort by {SORT_COLUMN} (creates its index) {sort_index_ms:.0f} ms")
        page(f"sorted by {SORT_COLUMN}", q(sort=SORT_COLUMN))
        page(f"sorted by {SORT_COLUMN} desc", q(sort=SORT_COLUMN, dir="desc"))
        deep = first_sorted
        for _ in range(DEEP_PAGES - 1):
            deep = client.get(next_link(deep))[1]
        page(f"sorted, page {DEEP_PAGES} (after cursor)", next_link(deep))
        page(f"sorted by {SORT_COLUMN}, last page", q(sort=SORT_COLUMN, last="1"))
        page(f"filter {FILTER_COLUMN} = {FILTER_VALUE}", q(**{f"{FILTER_COLUMN}.eq": FILTER_VALUE}))
        page(f"filter {RANGE_COLUMN} >= {RANGE_MIN}", q(**{f"{RANGE_COLUMN}.min": RANGE_MIN}))
        page(f"search “{SEARCH_WORD}”", q(q=SEARCH_WORD))
        page(f"search “{SEARCH_WORD}” sorted by {SORT_COLUMN}", q(q=SEARCH_WORD, sort=SORT_COLUMN))

        # A large first profile runs in the background: "first" is until its status is done.
        started = time.perf_counter()
        time_get(client, f"{base}/profile")
        while (state := json.loads(time_get(client, f"{base}/profile/status")[1]))[
            "status"
        ] != "done":
            if state["status"] == "failed":
                raise BenchError(f"The profile failed: {state['error']}")
            time.sleep(0.05)
        first_profile_ms = (time.perf_counter() - started) * 1000
        limited = bench_limited(port, client, base, pages, args)

        profile = time_query(
            client, "profile (cached)", f"{base}/profile", args.warmup, args.repeat
        )
        profile.first_ms = first_profile_ms
        say(f"    profile: first {profile.first_ms:.0f} ms, cached {profile.p50:.1f} ms p50")
        facet = time_query(
            client, "facet (cached)", f"{base}/facets/{FILTER_COLUMN}", args.warmup, args.repeat
        )
        say(
            f"    facet of {FILTER_COLUMN}: first {facet.first_ms:.0f} ms, "
            f"cached {facet.p50:.1f} ms p50"
        )
        summary = time_query(
            client,
            "summary (cached)",
            f"{base}/summary?{urllib.parse.urlencode(SUMMARY_QUERY)}",
            args.warmup,
            args.repeat,
        )
        say(f"    summary: first {summary.first_ms:.0f} ms, cached {summary.p50:.1f} ms p50")

        exports = []
        for number in range(args.export_runs):
            run = export_csv(client, f"{base}/export?format=csv", proc.pid)
            exports.append(run)
            say(
                f"    CSV export {number + 1}: {run.rows:,} rows in {run.seconds:.2f} s "
                f"({run.rate:,.0f} rows/s), RSS {run.rss_before_mib:.1f} -> peak "
                f"{run.rss_peak_mib:.1f} MiB"
            )
            if run.rows != rows:
                raise BenchError(f"The export held {run.rows:,} rows, not {rows:,}")
        if proc.poll() is not None:
            raise BenchError(f"The server stopped ({proc.returncode}):\n{tail(log)}")
        return SheafResults(
            pages, sort_index_ms, profile, exports, start_rss, facet, summary, limited
        )
    finally:
        client.close()
        stop(proc)


def bench_limited(
    port: int, everyone: Client, base: str, pages: list[Timing], args: argparse.Namespace
) -> list[tuple[Timing, Timing]]:
    """The rule-limited person's first, sorted, filtered and search pages, each beside the
    unrestricted person's same page: their requests alternate, so that both see the same
    machine (a busy moment slows both, not one)."""
    client = Client(port, timeout=120)
    try:
        sign_in(client, LIMITED_LOGIN)
        pairs = []
        for page in pages:
            if not page.label.startswith(("first page", "sorted by", "filter", "search")):
                continue
            mine = Timing(f"limited: {page.label}", page.path, time_get(client, page.path)[0])
            theirs = Timing(page.label, page.path, page.first_ms)
            for _ in range(max(0, args.warmup - 1)):
                time_get(client, page.path)
            for _ in range(args.repeat):
                mine.samples.append(time_get(client, page.path)[0])
                theirs.samples.append(time_get(everyone, page.path)[0])
            pairs.append((mine, theirs))
            say(
                f"    {mine.label:<44}{mine.p50:>8.1f} ms p50 vs {theirs.p50:.1f} ms "
                f"({mine.p50 / theirs.p50:.2f}x)"
            )
        return pairs
    finally:
        client.close()


def sql_times(data_dir: Path, dataset_id: int, pages: list[Timing], repeats: int) -> None:
    """The same pages read in-process with browse.page on a fresh connection (as a request
    does), without HTTP, sign-in checks or templates: where the time goes."""
    from server.datasets.catalog import columns_of
    from server.datasets.reading import browse
    from server.db import database
    from server.models import Dataset
    from server.sqlite_files import connect

    with database.connection_context():
        dataset = Dataset.get_by_id(dataset_id)
    columns = columns_of(dataset)
    path = dataset_path(data_dir)
    for timing in pages:
        args = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(timing.path).query))
        view = browse.View.from_args(args, columns)
        samples = []
        for _ in range(repeats + 1):
            started = time.perf_counter()
            con = connect(path)
            try:
                browse.page(
                    con,
                    columns,
                    view,
                    PAGE_SIZE,
                    after=args.get("after"),
                    before=args.get("before"),
                    last=args.get("last") == "1",
                    searchable=browse.has_search_index(con),
                )
            finally:
                con.close()
            samples.append((time.perf_counter() - started) * 1000)
        timing.sql_ms = statistics.median(samples[1:])


def facet_in_process(data_dir: Path, dataset_id: int, repeats: int) -> list[float]:
    """Milliseconds of the facet of FILTER_COLUMN computed (facets.facet, never cached) on a
    fresh connection each time, as a request that misses the cache does, without HTTP."""
    from server.datasets.catalog import columns_of
    from server.datasets.reading import browse, facets
    from server.db import database
    from server.models import Dataset
    from server.sqlite_files import connect

    with database.connection_context():
        columns = columns_of(Dataset.get_by_id(dataset_id))
    column = next(c for c in columns if c.name == FILTER_COLUMN)
    path = dataset_path(data_dir)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        con = connect(path)
        try:
            facets.facet(con, columns, column, browse.View(), browse.has_search_index(con))
        finally:
            con.close()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def export_in_process(data_dir: Path, dataset_id: int) -> tuple[float, float]:
    """Rows/s of the export's two halves without HTTP: reading the rows (export.rows_of) and
    reading plus writing them as CSV (export.csv_chunks), each once on a fresh connection."""
    from server.datasets.catalog import columns_of
    from server.datasets.reading import browse, export
    from server.db import database
    from server.models import Dataset
    from server.sqlite_files import connect

    with database.connection_context():
        columns = columns_of(Dataset.get_by_id(dataset_id))
    path = dataset_path(data_dir)
    rates = []
    for write in (False, True):
        con = connect(path)
        try:
            started = time.perf_counter()
            searchable = browse.has_search_index(con)
            rows = export.rows_of(con, columns, browse.View(), searchable)
            if write:
                count = 0
                batches = export.csv_batches(con, columns, browse.View(), searchable)
                for chunk in export.csv_chunks(columns, batches, bom=False):
                    count += chunk.count(b"\r\n")
                count -= 1
            else:
                count = sum(1 for _ in rows)
            rates.append(count / (time.perf_counter() - started))
        finally:
            con.close()
    return rates[0], rates[1]


# ---------------------------------------------------------------------------------------------
# Datasette


def ensure_datasette(venv: Path) -> Path | None:
    """The tool venv's datasette (0.65), installed on first use."""
    python = venv / "bin" / "python"
    tool = venv / "bin" / "datasette"
    probe = "import datasette.version as v; print(v.__version__)"
    if python.exists() and tool.exists():
        proc = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.startswith("0.65"):
            return tool
    say(f"Setting up Datasette in {venv} (a venv of its own, not Sheaf's):")
    say(f"  {python} -m pip install '{DATASETTE_PACKAGE}'")
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", DATASETTE_PACKAGE],
            check=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        say(f"  Could not install Datasette ({exc}); its comparison is skipped.")
        return None
    return tool if tool.exists() else None


def datasette_version(tool: Path) -> str:
    proc = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=True)
    return proc.stdout.strip().rsplit(" ", 1)[-1]


def datasette_rows(data: bytes) -> int:
    text = data.decode(errors="replace")
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in text else ""
    return body.count("<tr")


def bench_datasette(
    tool: Path, source: Path, scratch: Path, args: argparse.Namespace, log: Path
) -> dict[str, Timing]:
    db = scratch / "bench.sqlite"
    shutil.copyfile(source, db)  # a copy: Datasette never touches Sheaf's file
    meta = scratch / "meta.json"
    meta.write_text(
        json.dumps(
            {
                "databases": {
                    "bench": {"tables": {"rows": {"fts_table": "rows_fts", "fts_pk": "rowid"}}}
                }
            }
        )
    )
    port = free_port()
    command = [
        str(tool),
        "serve",
        "--immutable",
        str(db),
        "--host",
        "127.0.0.1",
        "-p",
        str(port),
        "--metadata",
        str(meta),
        "--setting",
        "default_page_size",
        str(PAGE_SIZE),
    ]
    say(f"  {' '.join(command)}")
    proc = None
    client = Client(port, timeout=120)
    results: dict[str, Timing] = {}
    try:
        with open(log, "wb") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        wait_for(port, "/-/versions.json", proc, log, 60)

        def q(**query: str) -> str:
            return "/bench/rows?" + urllib.parse.urlencode({**query, "_nosuggest": "1"})

        queries = {
            "first page": q(),
            f"sorted by {SORT_COLUMN}": q(_sort=SORT_COLUMN),
            f"sorted by {SORT_COLUMN} desc": q(_sort_desc=SORT_COLUMN),
            f"filter {FILTER_COLUMN} = {FILTER_VALUE}": q(**{FILTER_COLUMN: FILTER_VALUE}),
            f"filter {RANGE_COLUMN} >= {RANGE_MIN}": q(**{f"{RANGE_COLUMN}__gte": RANGE_MIN}),
            f"search “{SEARCH_WORD}”": q(_search=SEARCH_WORD),
            f"search “{SEARCH_WORD}” sorted by {SORT_COLUMN}": q(
                _search=SEARCH_WORD, _sort=SORT_COLUMN
            ),
            f"sorted by {UNINDEXED_COLUMN} (no index)": q(_sort=UNINDEXED_COLUMN),
        }
        for label, path in queries.items():
            timing = time_query(client, label, path, args.warmup, args.repeat, datasette_rows)
            results[label] = timing
            say(f"    {label:<34}{timing.p50:>8.1f} ms p50  (first {timing.first_ms:.1f} ms)")
        return results
    finally:
        client.close()
        stop(proc)


# ---------------------------------------------------------------------------------------------
# Report


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def report_pages(pages: list[Timing], datasette: dict[str, Timing]) -> list[str]:
    lines = [
        f"{'Sheaf page (HTML, 50 rows)':<40}{'p50 ms':>8}{'p95 ms':>8}{'first':>8}{'sql ms':>8}"
        f"{'rows':>6}{'Datasette p50':>15}{'p95':>7}{'rows':>6}{'ratio':>7}",
        "-" * 113,
    ]
    for t in pages:
        other = datasette.get(t.label)
        ratio = t.p50 / other.p50 if other else float("nan")
        lines.append(
            f"{t.label:<40}{fmt(t.p50):>8}{fmt(t.p95):>8}{fmt(t.first_ms):>8}{fmt(t.sql_ms):>8}"
            f"{t.rows:>6}{fmt(other.p50 if other else math.nan):>15}"
            f"{fmt(other.p95 if other else math.nan):>7}{other.rows if other else '-':>6}"
            f"{fmt(ratio, 2):>7}"
        )
    for label, t in datasette.items():
        if not any(p.label == label for p in pages):
            lines.append(
                f"{'(Datasette only) ' + label:<40}{'':>38}{fmt(t.p50):>15}{fmt(t.p95):>7}"
                f"{t.rows:>6}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="CSV rows")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per query")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    parser.add_argument("--export-runs", type=int, default=3, help="full CSV exports")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated CSV here")
    parser.add_argument("--tools-venv", type=Path, default=DEFAULT_TOOLS_VENV)
    parser.add_argument("--python", default=default_python(), help="python that runs Sheaf")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target is missed"
    )
    args = parser.parse_args(argv)
    if args.rows < 1000 or args.repeat < 1 or args.warmup < 1 or args.export_runs < 1:
        parser.error("--rows must be at least 1000; --repeat, --warmup, --export-runs >= 1")
    began = time.perf_counter()
    missing: list[str] = []

    # SIGTERM (a timeout, a kill) unwinds like Ctrl+C, so both servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    tool = ensure_datasette(args.tools_venv)
    if tool is None:
        missing.append("Datasette (tool venv)")

    scratch = Path(tempfile.mkdtemp(prefix="sheaf-browse-bench-"))
    cache = args.keep or scratch
    cache.mkdir(parents=True, exist_ok=True)
    csv_path = cache / f"sheaf-bench-v{DATA_VERSION}-seed{args.seed}-{args.rows}.csv"
    try:
        ensure_csv(csv_path, args.seed, args.rows)
        warm(csv_path)
        data_dir = scratch / "data"
        say("Importing it into a fresh Sheaf data folder (load_file, as an import does) …")
        dataset_id, rows, import_s = build_data_folder(data_dir, csv_path)
        say(f"  {rows:,} rows in {import_s:.1f} s")
        if rows != args.rows:
            raise BenchError(f"The import stored {rows:,} rows, not {args.rows:,}")
        db_file = dataset_path(data_dir)
        db_mib = db_file.stat().st_size / MIB

        say(f"Sheaf over HTTP ({args.warmup} warm-ups, then {args.repeat} timed requests each):")
        sheaf = bench_sheaf(args.python, data_dir, dataset_id, rows, args, scratch / "sheaf.log")
        sql_times(data_dir, dataset_id, sheaf.pages, min(args.repeat, 10))
        fetch_rate, csv_rate = export_in_process(data_dir, dataset_id)
        facet_samples = facet_in_process(data_dir, dataset_id, min(args.repeat, 10))

        datasette: dict[str, Timing] = {}
        version = "-"
        if tool is not None:
            version = datasette_version(tool)
            say(
                f"Datasette {version} on a copy of the same file (index on {SORT_COLUMN} included):"
            )
            datasette = bench_datasette(tool, db_file, scratch, args, scratch / "datasette.log")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    say()
    say(
        f"Sheaf browse benchmark: {rows:,} rows x 10 columns (seed {args.seed}), dataset file "
        f"{db_mib:.0f} MiB; SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, "
        f"Datasette {version}; {args.repeat} timed requests per query after {args.warmup} "
        "warm-ups, one keep-alive connection, loopback"
    )
    say()
    for line in report_pages(sheaf.pages, datasette):
        say(line)
    say()
    say("first: the first request of that query (it may count the matching rows, then cached).")
    say("sql ms: browse.page for the same view, in-process on a fresh connection, no HTTP.")
    say(f"First sort by {SORT_COLUMN}, which creates its index: {sheaf.sort_index_ms:.0f} ms.")
    prof = sheaf.profile
    say(
        f"Profile page (10 columns): first {prof.first_ms:.0f} ms; cached p50 {prof.p50:.1f} ms, "
        f"p95 {prof.p95:.1f} ms"
    )
    facet_p50 = statistics.median(facet_samples)
    say(
        f"Facet of {FILTER_COLUMN} (20 values): first request {sheaf.facet.first_ms:.0f} ms "
        f"(its index built by the profile before); computed in-process p50 {facet_p50:.1f} ms; "
        f"cached page p50 {sheaf.facet.p50:.1f} ms"
    )
    summary_s = sheaf.summary.first_ms / 1000
    say(
        f"Summary ({', '.join(f'{k}={v}' for k, v in SUMMARY_QUERY.items())}): first "
        f"{summary_s:.2f} s; cached page p50 {sheaf.summary.p50:.1f} ms"
    )
    export = sorted(sheaf.exports, key=lambda r: r.rate)[(len(sheaf.exports) - 1) // 2]
    growth = max(r.rss_peak_mib - r.rss_before_mib for r in sheaf.exports)
    say(
        f"CSV export ({len(sheaf.exports)} runs, median): {export.rows:,} rows, "
        f"{export.bytes / MIB:.0f} MiB in {export.seconds:.2f} s = {export.rate:,.0f} rows/s"
    )
    say(
        f"  without HTTP, in this process: rows_of alone {fetch_rate:,.0f} rows/s; rows_of + "
        f"csv_chunks {csv_rate:,.0f} rows/s"
    )
    say(
        f"Server memory: RSS {sheaf.start_rss_mib:.1f} MiB at start; during the exports "
        + ", ".join(f"{r.rss_before_mib:.1f} -> {r.rss_peak_mib:.1f}" for r in sheaf.exports)
        + f" MiB (RSS before -> peak); VmHWM {sheaf.exports[0].hwm_before_mib:.1f} -> "
        f"{sheaf.exports[-1].hwm_after_mib:.1f} MiB"
    )
    say(f"Import (load_file, before the benchmark): {import_s:.1f} s")

    worst = max(sheaf.pages, key=lambda t: t.p50)
    rules_ratios = {mine.label: mine.p50 / everyone.p50 for mine, everyone in sheaf.limited}
    rules_label = max(rules_ratios, key=rules_ratios.get) if rules_ratios else "-"
    rules_ratio = rules_ratios.get(rules_label, float("nan"))
    ratios = {t.label: t.p50 / datasette[t.label].p50 for t in sheaf.pages if t.label in datasette}
    worst_ratio_label = max(ratios, key=ratios.get) if ratios else "-"
    worst_ratio = ratios[worst_ratio_label] if ratios else float("nan")
    flat = growth <= FLAT_MIB
    say()
    say("Targets:")
    checks = [
        (
            "worst_page_p50_ms",
            f"{worst.p50:.1f} ms ({worst.label})",
            f"<= {PAGE_TARGET_MS:g} ms",
            worst.p50 <= PAGE_TARGET_MS,
        ),
        (
            "worst_vs_datasette",
            f"{worst_ratio:.3f}x ({worst_ratio_label})",
            f"<= {DATASETTE_TARGET_RATIO:g}x",
            worst_ratio <= DATASETTE_TARGET_RATIO if ratios else None,
        ),
        (
            "profile_cached_ms",
            f"{prof.p50:.1f} ms",
            f"< {PROFILE_TARGET_MS:g} ms",
            prof.p50 < PROFILE_TARGET_MS,
        ),
        (
            "export_rows_per_s",
            f"{export.rate:,.0f}",
            f">= {EXPORT_TARGET_ROWS_S:,}",
            export.rate >= EXPORT_TARGET_ROWS_S,
        ),
        ("export memory", f"+{growth:.1f} MiB RSS", f"<= +{FLAT_MIB} MiB", flat),
        (
            "facet_p50_ms",
            f"{facet_p50:.1f} ms",
            f"<= {FACET_TARGET_MS:g} ms",
            facet_p50 <= FACET_TARGET_MS,
        ),
        (
            "facet_cached_ms",
            f"{sheaf.facet.p50:.1f} ms",
            f"<= {FACET_CACHED_TARGET_MS:g} ms",
            sheaf.facet.p50 <= FACET_CACHED_TARGET_MS,
        ),
        (
            "summary_s",
            f"{summary_s:.2f} s",
            f"<= {SUMMARY_TARGET_S:g} s",
            summary_s <= SUMMARY_TARGET_S,
        ),
        (
            "summary_cached_ms",
            f"{sheaf.summary.p50:.1f} ms",
            f"<= {SUMMARY_CACHED_TARGET_MS:g} ms",
            sheaf.summary.p50 <= SUMMARY_CACHED_TARGET_MS,
        ),
        (
            "rules_vs_unrestricted",
            f"{rules_ratio:.2f}x ({rules_label})",
            f"<= {RULES_TARGET:g}x",
            rules_ratio <= RULES_TARGET if rules_ratios else None,
        ),
    ]
    missed = []
    for key, value, target, ok in checks:
        verdict = "n/a" if ok is None else ("met" if ok else "MISSED")
        if verdict == "MISSED":
            missed.append(key)
        say(f"  {key:<20}{value:<46}target {target:<12}{verdict}")
    if missing:
        say(f"Skipped: {'; '.join(missing)}")
    say(f"Whole run: {time.perf_counter() - began:.1f} s")
    say(
        f"RESULT worst_page_p50_ms={worst.p50:.1f} worst_vs_datasette={worst_ratio:.3f} "
        f"profile_cached_ms={prof.p50:.1f} export_rows_per_s={export.rate:.0f} "
        f"facet_p50_ms={facet_p50:.1f} facet_cached_ms={sheaf.facet.p50:.1f} "
        f"summary_s={summary_s:.2f} summary_cached_ms={sheaf.summary.p50:.1f} "
        f"rules_vs_unrestricted={rules_ratio:.3f}"
    )
    if missing or (args.check and missed):
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"browse_bench: {exc}", file=sys.stderr)
        sys.exit(2)
