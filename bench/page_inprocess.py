"""In-process table pages: where a page's time goes, without HTTP or a second process.

Times N requests of each kind of table page (the browse benchmark's queries) through Flask's
test client on a 1,000,000-row dataset, then runs them again under cProfile and splits the
time by whose code it was spent in: the Jinja templates, Peewee, SQLite, Flask and Werkzeug,
Sheaf. HTTP and the server are left out, so the figures move less on a busy machine than
browse_bench's, and two versions of the code can be compared on the same machine state::

    .venv/bin/python bench/page_inprocess.py --data /tmp/sheaf-inprocess   # builds it once
    .venv/bin/python bench/page_inprocess.py --data /tmp/sheaf-inprocess --top 25

The last line printed is machine-readable:
``RESULT worst_page_p50_ms=<n> mean_page_p50_ms=<n> mean_page_cpu_ms=<n>``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

from browse_bench import (
    FAST_HASHING,
    FILTER_COLUMN,
    FILTER_VALUE,
    LOGIN,
    PASSWORD,
    RANGE_COLUMN,
    RANGE_MIN,
    ROOT,
    SEARCH_WORD,
    SORT_COLUMN,
    BenchError,
    build_data_folder,
    cursor_for,
    sheaf_rows,
)
from import_bench import DATA_VERSION, DEFAULT_ROWS, DEFAULT_SEED, ensure_csv, say

_TOKEN = re.compile(rb'<meta name="csrf-token" content="([^"]+)"')

# Where a function's own time is counted, by the file it lives in (first match wins).
PARTS = (
    ("templates (Jinja)", ("/jinja2/", "/markupsafe/", "/templates/", "<template>")),
    ("Peewee", ("/peewee.py", "/playhouse/")),
    (
        "Flask, Werkzeug, Flask-Login/WTF",
        ("/flask/", "/werkzeug/", "/flask_login/", "/flask_wtf/", "/wtforms/", "/itsdangerous/"),
    ),
    ("Sheaf", ("/server/",)),
)


def part_of(filename: str, name: str) -> str:
    if filename == "~":  # a built-in: SQLite's calls are the sqlite3 module's methods
        return "SQLite (sqlite3 calls)" if "sqlite3" in name else "Python built-ins"
    for part, marks in PARTS:
        if any(mark in filename for mark in marks):
            return part
    return "other (standard library)"


def data_folder(folder: Path, rows: int, seed: int, csv_dir: Path) -> int:
    """The dataset id in ``folder``: built on first use (the import benchmark's CSV, imported
    as browse_bench does), reused afterwards."""
    sys.path.insert(0, str(ROOT))
    if (folder / "datasets").is_dir() and any((folder / "datasets").glob("*.sqlite")):
        from server import create_app
        from server.db import database
        from server.models import Dataset

        create_app({"DATA_DIR": folder, **FAST_HASHING})
        with database.connection_context():
            return Dataset.select().get().id
    csv_dir.mkdir(parents=True, exist_ok=True)
    csv_path = csv_dir / f"sheaf-bench-v{DATA_VERSION}-seed{seed}-{rows}.csv"
    ensure_csv(csv_path, seed, rows)
    say(f"Importing {csv_path} into {folder} …")
    dataset_id, _, seconds = build_data_folder(folder, csv_path)
    say(f"  {seconds:.1f} s")
    return dataset_id


def queries(base: str, rows: int) -> dict[str, str]:
    def q(**query: str) -> str:
        return f"{base}?{urllib.parse.urlencode(query)}" if query else base

    return {
        "first page": q(),
        "last page": q(last="1"),
        "middle page": q(after=cursor_for(rows // 2)),
        "sorted": q(sort=SORT_COLUMN),
        "sorted desc": q(sort=SORT_COLUMN, dir="desc"),
        "sorted, last page": q(sort=SORT_COLUMN, last="1"),
        "filter =": q(**{f"{FILTER_COLUMN}.eq": FILTER_VALUE}),
        "filter >=": q(**{f"{RANGE_COLUMN}.min": RANGE_MIN}),
        "search": q(q=SEARCH_WORD),
        "search, sorted": q(q=SEARCH_WORD, sort=SORT_COLUMN),
        "page 7": q(page="7"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="data folder (kept, reused)")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--csv-dir", type=Path, default=Path(tempfile.gettempdir()) / "sheaf-bench-data"
    )
    parser.add_argument("--repeat", type=int, default=100, help="timed requests per page")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    args = parser.parse_args(argv)

    dataset_id = data_folder(args.data, args.rows, args.seed, args.csv_dir)
    from server import create_app

    app = create_app({"DATA_DIR": args.data, **FAST_HASHING})
    client = app.test_client()
    token = _TOKEN.search(client.get("/sign-in").data)
    if token is None:
        raise BenchError("No sign-in form")
    answer = client.post(
        "/sign-in",
        data={"csrf_token": token.group(1).decode(), "login": LOGIN, "password": PASSWORD},
    )
    if answer.status_code != 302:
        raise BenchError(f"Sign-in answered {answer.status_code}")
    pages = queries(f"/datasets/{dataset_id}", args.rows)

    def get(path: str) -> bytes:
        answer = client.get(path)
        if answer.status_code != 200:
            raise BenchError(f"GET {path} answered {answer.status_code}")
        return answer.data

    for path in pages.values():  # first requests: indexes, counts, template compiling
        for _ in range(3):
            get(path)
    say(f"{args.repeat} in-process requests per page (Flask test client), after 3 warm-ups:")
    say("  (cpu: this thread's CPU time, which other work on a busy machine disturbs less)")
    p50s, cpus = {}, {}
    for label, path in pages.items():
        samples, cpu = [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.thread_time()
            data = get(path)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            samples.append((time.perf_counter() - started) * 1000)
        p50s[label], cpus[label] = statistics.median(samples), statistics.median(cpu)
        say(
            f"  {label:<22}{p50s[label]:>7.2f} ms p50  cpu {cpus[label]:>6.2f} ms  "
            f"{sheaf_rows(data):>3} rows"
        )

    profiler = cProfile.Profile()
    profiler.enable()
    for path in pages.values():
        for _ in range(args.repeat):
            get(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    parts: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        parts[part_of(filename, name)] += tottime
    total = sum(parts.values())
    say(f"Where the time goes (cProfile, own time by package, {total:.2f} s in all):")
    for part, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        say(f"  {part:<36}{100 * seconds / total:>6.1f} %")
    if args.top:
        stats.sort_stats("cumulative").print_stats(args.top)
    worst = max(p50s.values())
    say(
        f"RESULT worst_page_p50_ms={worst:.2f} "
        f"mean_page_p50_ms={statistics.mean(p50s.values()):.2f} "
        f"mean_page_cpu_ms={statistics.mean(cpus.values()):.2f}"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"page_inprocess: {exc}", file=sys.stderr)
        sys.exit(2)
