"""Import benchmark: Sheaf's importer against the sqlite3 shell, sqlite-utils and calamine.

Generates a deterministic CSV (default 1,000,000 rows, 10 mixed-type columns) and an Excel
workbook with a tenth as many rows, then imports each file with Sheaf (``inspect_file`` and
``load_file``: types guessed, every value converted and checked, FTS5 index built) and, on the
same file in the same run, with the reference tools. Every contender runs in a process of its
own so that its peak memory is its own. The last line printed is machine-readable::

    RESULT csv_vs_sqlite3=<ratio> csv_vs_sqlite_utils=<ratio> xlsx_vs_calamine=<ratio>
           european_vs_iso=<ratio> browsable_vs_sqlite3=<ratio> peak_mib=<n>

    .venv/bin/python bench/import_bench.py                  # the full run
    .venv/bin/python bench/import_bench.py --rows 100000    # a quick one

See bench/README.md for what is measured and how.
"""

# Subprocesses run the tools given on the command line (S603), the data are pseudo-random on
# purpose (S311) and the SQL only names tables this script creates (S608).
# ruff: noqa: S311, S608

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
DATA_VERSION = 1  # bump when the generator changes, so cached files are not reused
DEFAULT_ROWS = 1_000_000
DEFAULT_SEED = 20240601
DEFAULT_TOOLS_VENV = Path(tempfile.gettempdir()) / "sheaf-bench-tools"
# The reference tools, in a venv of their own: python-calamine is the upstream reader that Sheaf's
# python-calamine-plus is a fork of (its whole-sheet read is the floor the Excel target names).
TOOL_PACKAGES = ["sqlite-utils>=4", "xlsxwriter", "python-calamine"]
TIME = "/usr/bin/time"
MIB = 1024 * 1024

TARGETS = {  # ratio of wall times, Sheaf over the other (lower is better for Sheaf)
    "csv_vs_sqlite3": 1.75,
    "csv_vs_sqlite_utils": 0.10,
    "xlsx_vs_calamine": 1.5,
    "european_vs_iso": 1.25,  # the European variant's import over the ISO file's
    "browsable_vs_sqlite3": 1.5,  # import start to the first page of rows, over the shell
}
PEAK_TARGET_MIB = 100

# ---------------------------------------------------------------------------------------------
# Deterministic data

HEADER = [
    "id",
    "amount",
    "day",
    "created",
    "active",
    "category",
    "note",
    "quantity",
    "score",
    "name",
]
CATEGORIES = [
    "Agriculture",
    "Banking",
    "Construction",
    "Défense",
    "Education",
    "Energy",
    "Finance",
    "Food",
    "Health",
    "Housing",
    "Insurance",
    "Logistics",
    "Manufacturing",
    "Media",
    "Mining",
    "Retail",
    "Science",
    "Telecom",
    "Tourism",
    "Transport",
]
_TEXT = (
    "the quick brown fox jumps over lazy dog order shipped late invoice paid partly "
    "customer called again about refund warehouse stock count differs from ledger "
    "approved pending review café naïve déjà vu Zürich São Paulo Kraków 東京 서울 北京"
)
WORDS = _TEXT.split()
FIRST_NAMES = [
    "José",
    "Zoë",
    "Łukasz",
    "Søren",
    "François",
    "Chloé",
    "Björn",
    "Ágnes",
    "Nuño",
    "Dvořák",
    "İlkay",
    "Anaïs",
    "Miloš",
    "Joël",
    "Rénée",
    "Ana",
    "Peter",
    "Mary",
]
LAST_NAMES = [
    "García",
    "Müller",
    "Øvergård",
    "Nowak",
    "Lefèvre",
    "Šimić",
    "Ó Briain",
    "Côté",
    "Jürgens",
    "Smith",
    "Kovač",
    "Peña",
]
CJK_NAMES = [
    "王伟",
    "李娜",
    "张敏",
    "陳大文",
    "佐藤 健",
    "鈴木 花子",
    "高橋 翔",
    "김민준",
    "이서연",
    "박지훈",
]
_FIRST_DAY = date(2000, 1, 1).toordinal()
_FIRST_MOMENT = datetime(2000, 1, 1)


def generate_rows(seed: int, count: int) -> Iterator[tuple]:
    """``count`` rows of typed values (None for an empty cell), the same for the same seed."""
    import random

    rng = random.Random(seed)
    rand, randrange, choice, choices = rng.random, rng.randrange, rng.choice, rng.choices
    for number in range(1, count + 1):
        words = choices(WORDS, k=randrange(3, 14))
        if rand() < 0.3:
            spot = randrange(len(words))
            words[spot] += ","
        if rand() < 0.1:
            spot = randrange(len(words))
            words[spot] = f'"{words[spot]}"'
        note = " ".join(words)
        if rand() < 0.002:
            cut = note.find(" ")
            note = f"{note[:cut]}\n{note[cut + 1 :]}" if cut > 0 else note + "\n"
        cjk = rand() < 0.3
        name = choice(CJK_NAMES) if cjk else f"{choice(FIRST_NAMES)} {choice(LAST_NAMES)}"
        yield (
            number,
            randrange(-1_000_000, 10_000_000) / 100,
            date.fromordinal(_FIRST_DAY + randrange(11_000)),
            _FIRST_MOMENT + timedelta(seconds=randrange(950_000_000)),
            rand() < 0.5,
            choice(CATEGORIES),
            note,
            None if rand() < 0.1 else randrange(0, 100_000),
            None if rand() < 0.15 else round(rand() * 1000, 3),
            name,
        )


def ensure_csv(path: Path, seed: int, count: int) -> None:
    """The generated CSV at ``path``: reused when it is there (--keep), written otherwise."""
    if path.exists():
        say(f"Reusing {path}")
        return
    say(f"Generating {count:,} CSV rows into {path} …")
    started = time.perf_counter()
    write_csv(path, seed, count)
    say(f"  done in {time.perf_counter() - started:.1f} s")


def write_csv(path: Path, seed: int, count: int) -> None:
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in generate_rows(seed, count):
            ident, amount, day, created, active, category, note, quantity, score, name = row
            writer.writerow(
                (
                    ident,
                    f"{amount:.2f}",
                    day.isoformat(),
                    created.isoformat(sep=" "),
                    "true" if active else "false",
                    category,
                    note,
                    "" if quantity is None else quantity,
                    "" if score is None else f"{score:.3f}",
                    name,
                )
            )
    partial.replace(path)


def ensure_european_csv(path: Path, seed: int, count: int) -> None:
    """The European variant of the CSV (same rows): reused when it is there, written
    otherwise."""
    if path.exists():
        say(f"Reusing {path}")
        return
    say(f"Generating {count:,} European CSV rows into {path} …")
    started = time.perf_counter()
    write_european_csv(path, seed, count)
    say(f"  done in {time.perf_counter() - started:.1f} s")


_EUROPEAN_MARKS = str.maketrans(",.", ".,")


def european_number(value: float, decimals: int) -> str:
    """1234.5 as a German spreadsheet writes it: 1.234,50."""
    return f"{value:,.{decimals}f}".translate(_EUROPEAN_MARKS)


def write_european_csv(path: Path, seed: int, count: int) -> None:
    """The same rows as :func:`write_csv`, written as a German office exports them: semicolons,
    decimal commas with thousands dots, dd.mm.yyyy dates, ja/nein."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for row in generate_rows(seed, count):
            ident, amount, day, created, active, category, note, quantity, score, name = row
            writer.writerow(
                (
                    ident,
                    european_number(amount, 2),
                    day.strftime("%d.%m.%Y"),
                    created.strftime("%d.%m.%Y %H:%M:%S"),
                    "ja" if active else "nein",
                    category,
                    note,
                    "" if quantity is None else quantity,
                    "" if score is None else european_number(score, 3),
                    name,
                )
            )
    partial.replace(path)


def write_xlsx(path: Path, seed: int, count: int) -> None:
    """Runs in the tool venv (xlsxwriter is no dependency of Sheaf)."""
    import xlsxwriter

    partial = path.with_name(path.name + ".partial.xlsx")
    book = xlsxwriter.Workbook(str(partial), {"constant_memory": True})
    sheet = book.add_worksheet("Data")
    day_format = book.add_format({"num_format": "yyyy-mm-dd"})
    moment_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    amount_format = book.add_format({"num_format": "0.00"})
    for column, label in enumerate(HEADER):
        sheet.write_string(0, column, label)
    for number, row in enumerate(generate_rows(seed, count), start=1):
        ident, amount, day, created, active, category, note, quantity, score, name = row
        sheet.write_number(number, 0, ident)
        sheet.write_number(number, 1, amount, amount_format)
        sheet.write_datetime(number, 2, datetime.combine(day, datetime.min.time()), day_format)
        sheet.write_datetime(number, 3, created, moment_format)
        sheet.write_boolean(number, 4, active)
        sheet.write_string(number, 5, category)
        sheet.write_string(number, 6, note)
        if quantity is not None:
            sheet.write_number(number, 7, quantity)
        if score is not None:
            sheet.write_number(number, 8, score)
        sheet.write_string(number, 9, name)
    book.close()
    partial.replace(path)


# ---------------------------------------------------------------------------------------------
# Helper modes: each runs in a process of its own and prints one JSON object


def run_sheaf(source: str, dest: str) -> None:
    """Sheaf's import as the app runs it: detect, guess types, load, check; then the first
    page of rows as the rows page reads it (the dataset is browsable), then the search index
    as the background builder makes it (at once for a small file)."""
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    from server.datasets.loading.pipeline import load_file
    from server.datasets.reading import browse
    from server.datasets.storage import build_search_index_step
    from server.importers import inspect_file
    from server.sqlite_files import connect

    imported = time.perf_counter()
    sample = inspect_file(Path(source))
    inspected = time.perf_counter()
    outcome = load_file(Path(source), Path(dest), sample)
    loaded = time.perf_counter()
    con = connect(Path(dest))
    try:
        searchable = browse.has_search_index(con)
        page = browse.page(con, outcome.columns, browse.View(), 50, searchable=searchable)
        browsable = time.perf_counter()
        while not build_search_index_step(con):
            pass
    finally:
        con.close()
    done = time.perf_counter()
    result = outcome.result
    report = {
        "wall": done - imported,
        "imports": imported - started,
        "inspect": inspected - imported,
        "load": result.seconds_load,
        "check": result.seconds_check,
        "index": result.seconds_index + (done - browsable),
        "first_page": browsable - loaded,
        "browsable": browsable - imported,
        "page_rows": len(page.rows),
        "rows": result.rows,
        "problems": outcome.problem_count,
        "types": [c.type for c in outcome.columns],
        "warnings": sample.warnings + result.warnings,
        # A large CSV loads its second half in a helper process: the two peaks added up
        # (an upper bound of the pair's peak at any one moment).
        "peak_with_helper_mib": peak_with_helper_mib(),
    }
    print(json.dumps(report))


def peak_with_helper_mib() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # macOS counts bytes
    return (own + helper) / scale


def run_calamine(source: str) -> None:
    """The floor for Excel: python-calamine reading the first sheet into Python lists."""
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    rows = CalamineWorkbook.from_path(source).get_sheet_by_index(0).to_python()
    done = time.perf_counter()
    print(json.dumps({"wall": done - started, "rows": len(rows) - 1}))


def rusage_child(out: str, command: list[str]) -> None:
    """Fallback when /usr/bin/time is missing: a fresh process per measurement, so
    RUSAGE_CHILDREN holds exactly one child's peak."""
    import resource

    started = time.perf_counter()
    code = subprocess.run(command).returncode
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    kib = peak // 1024 if sys.platform == "darwin" else peak  # macOS counts bytes
    Path(out).write_text(json.dumps({"wall": wall, "maxrss_kib": kib}))
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# Measuring


class BenchError(Exception):
    pass


@dataclass
class Measured:
    process_wall: float  # the whole process, start to exit, as seen from outside
    peak_mib: float
    stdout: str


@dataclass
class Run:
    contender: str
    wall: float  # the time the ratios use
    process_wall: float
    peak_mib: float
    rows: int
    info: dict = field(default_factory=dict)
    runs: int = 1


def measure(command: list[str]) -> Measured:
    with tempfile.TemporaryDirectory(prefix="sheaf-bench-m-") as scratch:
        out = Path(scratch) / "usage"
        if os.access(TIME, os.X_OK):
            full = [TIME, "-v", "-o", str(out), *command]
        else:
            full = [sys.executable, str(SCRIPT), "--rusage-child", str(out), "--", *command]
        started = time.perf_counter()
        proc = subprocess.run(full, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise BenchError(
                f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
            )
        usage = out.read_text()
    if full[0] == TIME:
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", usage)
        if not found:
            raise BenchError(f"No peak memory in {TIME} output:\n{usage}")
        peak_kib = int(found.group(1))
    else:
        parsed = json.loads(usage)
        wall, peak_kib = parsed["wall"], parsed["maxrss_kib"]
    return Measured(wall, peak_kib / 1024, proc.stdout)


def pick_median(runs: list[Run]) -> Run:
    """The run with the median wall time; the peak memory is the highest of all runs."""
    chosen = sorted(runs, key=lambda r: r.wall)[(len(runs) - 1) // 2]
    chosen.peak_mib = max(r.peak_mib for r in runs)
    chosen.runs = len(runs)
    return chosen


def count_rows(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        con.close()


def column_types(db: Path, table: str) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [row[2] for row in con.execute(f'PRAGMA table_info("{table}")')]
    finally:
        con.close()


def bench_sheaf(python: str, source: Path, label: str) -> Run:
    with tempfile.TemporaryDirectory(prefix="sheaf-bench-") as scratch:
        dest = Path(scratch) / "dataset.sqlite"
        measured = measure([python, str(SCRIPT), "--run-sheaf", str(source), str(dest)])
        info = json.loads(measured.stdout.strip().splitlines()[-1])
    peak = max(measured.peak_mib, info["peak_with_helper_mib"])
    return Run(label, info["wall"], measured.process_wall, peak, info["rows"], info)


def bench_calamine(python: str, source: Path) -> Run:
    measured = measure([python, str(SCRIPT), "--run-calamine", str(source)])
    info = json.loads(measured.stdout.strip().splitlines()[-1])
    return Run(
        "python-calamine bare read",
        info["wall"],
        measured.process_wall,
        measured.peak_mib,
        info["rows"],
        info,
    )


def bench_sqlite3(shell: str, source: Path) -> Run:
    with tempfile.TemporaryDirectory(prefix="sheaf-bench-") as scratch:
        db = Path(scratch) / "shell.sqlite"
        quoted = '"' + str(source).replace("\\", "\\\\").replace('"', '\\"') + '"'
        measured = measure([shell, str(db), "-cmd", ".mode csv", f".import {quoted} t"])
        rows = count_rows(db, "t")
    wall = measured.process_wall
    return Run("sqlite3 shell .import", wall, wall, measured.peak_mib, rows)


def bench_sqlite_utils(tool: Path, version: tuple[int, ...], source: Path) -> Run:
    with tempfile.TemporaryDirectory(prefix="sheaf-bench-") as scratch:
        db = Path(scratch) / "utils.sqlite"
        command = [str(tool), "insert", str(db), "t", str(source), "--csv"]
        if version < (4,):
            command.append("--detect-types")
        measured = measure(command)
        rows = count_rows(db, "t")
        types = column_types(db, "t")
    wall = measured.process_wall
    name = f"sqlite-utils {'.'.join(map(str, version))} insert --csv"
    return Run(name, wall, wall, measured.peak_mib, rows, {"types": types})


# ---------------------------------------------------------------------------------------------
# Tools


def say(text: str = "") -> None:
    print(text, flush=True)


def ensure_tools(venv: Path) -> Path | None:
    """The tool venv's python, with sqlite-utils 4, xlsxwriter and python-calamine; created on
    first use."""
    python = venv / "bin" / "python"
    probe = (
        "import sqlite_utils, xlsxwriter, python_calamine, importlib.metadata as m; "
        "print(m.version('sqlite-utils'))"
    )
    if python.exists():
        proc = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
        if proc.returncode == 0 and _version(proc.stdout) >= (4,):
            return python
    say(f"Setting up the reference tools in {venv} (a venv of its own, not Sheaf's):")
    say(f"  {sys.executable} -m venv {venv}")
    say(f"  {python} -m pip install {' '.join(repr(p) for p in TOOL_PACKAGES)}")
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", *TOOL_PACKAGES],
            check=True,
        )
    except (subprocess.CalledProcessError, OSError) as exc:
        say(f"  Could not install the reference tools ({exc}); their comparisons are skipped.")
        return None
    proc = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    say(f"  installed sqlite-utils {proc.stdout.strip()}, xlsxwriter and python-calamine")
    return python


def _version(text: str) -> tuple[int, ...]:
    found = re.search(r"(\d+(?:\.\d+)*)", text)
    return tuple(int(p) for p in found.group(1).split(".")) if found else (0,)


def sqlite_utils_version(tool: Path) -> tuple[int, ...]:
    proc = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=True)
    return _version(proc.stdout)


def default_python() -> str:
    venv_python = ROOT / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


def warm(path: Path) -> None:
    """Read a file once so every contender finds it in the page cache."""
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass


# ---------------------------------------------------------------------------------------------
# Report


def ratio(sheaf: Run | None, other: Run | None, sheaf_wall: float | None = None) -> float:
    if sheaf is None or other is None or other.wall <= 0:
        return float("nan")
    return (sheaf.wall if sheaf_wall is None else sheaf_wall) / other.wall


def table(runs: list[Run]) -> list[str]:
    lines = [
        f"{'contender':<44}{'rows':>11}{'wall s':>9}{'rows/s':>12}{'peak MiB':>10}"
        f"{'process s':>11}",
        "-" * 97,
    ]
    for run in runs:
        rate = run.rows / run.wall if run.wall > 0 else float("nan")
        lines.append(
            f"{run.contender:<44}{run.rows:>11,}{run.wall:>9.2f}{rate:>12,.0f}"
            f"{run.peak_mib:>10.1f}{run.process_wall:>11.2f}"
        )
    return lines


def breakdown(run: Run, label: str) -> str:
    i = run.info
    other = run.wall - i["inspect"] - i["load"] - i["check"] - i["index"]
    return (
        f"  {label}: inspect {i['inspect']:.2f} s + load {i['load']:.2f} s + check "
        f"{i['check']:.2f} s + FTS index {i['index']:.2f} s + other {other:.2f} s = "
        f"{run.wall:.2f} s "
        f"(+ {i['imports']:.2f} s of imports outside it); {i['problems']} problems\n"
        f"    types guessed: {' '.join(i['types'])}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="CSV rows (Excel: N/10)")
    parser.add_argument("--repeat", type=int, default=1, help="median of K for fast contenders")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated files here")
    parser.add_argument("--tools-venv", type=Path, default=DEFAULT_TOOLS_VENV)
    parser.add_argument("--python", default=default_python(), help="python that runs Sheaf")
    parser.add_argument("--sqlite3", default="sqlite3", help="the sqlite3 shell")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target is missed"
    )
    args = parser.parse_args(argv)
    if args.rows < 10 or args.repeat < 1:
        parser.error("--rows must be at least 10 and --repeat at least 1")
    began = time.perf_counter()
    missing: list[str] = []

    cache = args.keep or Path(tempfile.mkdtemp(prefix="sheaf-bench-data-"))
    cache.mkdir(parents=True, exist_ok=True)
    xlsx_rows = args.rows // 10
    stem = f"sheaf-bench-v{DATA_VERSION}-seed{args.seed}"
    csv_path = cache / f"{stem}-{args.rows}.csv"
    european_path = cache / f"{stem}-{args.rows}-european.csv"
    xlsx_path = cache / f"{stem}-{xlsx_rows}.xlsx"

    tools_python = ensure_tools(args.tools_venv)
    if tools_python is None:
        missing.append("sqlite-utils, xlsxwriter and python-calamine (tool venv)")
    shell = shutil.which(args.sqlite3)
    if shell is None:
        say(
            f"The sqlite3 shell ({args.sqlite3!r}) is not installed: its comparison is skipped. "
            "Install the Debian/Ubuntu package 'sqlite3' (sudo apt-get install -y sqlite3)."
        )
        missing.append("sqlite3 shell (package sqlite3)")

    ensure_csv(csv_path, args.seed, args.rows)
    ensure_european_csv(european_path, args.seed, args.rows)
    if xlsx_path.exists():
        say(f"Reusing {xlsx_path}")
    elif tools_python is not None:
        say(f"Generating {xlsx_rows:,} Excel rows into {xlsx_path} (xlsxwriter) …")
        started = time.perf_counter()
        xlsx_args = ["--rows", str(xlsx_rows), "--seed", str(args.seed)]
        subprocess.run(
            [str(tools_python), str(SCRIPT), "--write-xlsx", str(xlsx_path), *xlsx_args],
            check=True,
        )
        say(f"  done in {time.perf_counter() - started:.1f} s")
    have_xlsx = xlsx_path.exists()
    xlsx_mib = xlsx_path.stat().st_size / MIB if have_xlsx else 0

    csv_mib = csv_path.stat().st_size / MIB
    runs: list[Run] = []
    sheaf_csv = sheaf_european = shell_run = utils_run = sheaf_xlsx = calamine_run = None
    say(f"Measuring (median of {args.repeat} for all but sqlite-utils) …")
    try:
        warm(csv_path)
        warm(european_path)
        iso_runs, european_runs = [], []
        for _ in range(args.repeat):  # side by side: ISO, European, ISO, European…
            iso_runs.append(bench_sheaf(args.python, csv_path, "Sheaf CSV: types, checks, FTS"))
            european_runs.append(
                bench_sheaf(args.python, european_path, "Sheaf European CSV: types, checks, FTS")
            )
        sheaf_csv, sheaf_european = pick_median(iso_runs), pick_median(european_runs)
        runs.append(sheaf_csv)
        no_fts = sheaf_csv.wall - sheaf_csv.info["index"]
        runs.append(
            Run(
                "Sheaf CSV without the FTS build",
                no_fts,
                sheaf_csv.process_wall - sheaf_csv.info["index"],
                sheaf_csv.peak_mib,
                sheaf_csv.rows,
            )
        )
        runs.append(
            Run(
                "Sheaf European CSV without the FTS build",
                sheaf_european.wall - sheaf_european.info["index"],
                sheaf_european.process_wall - sheaf_european.info["index"],
                sheaf_european.peak_mib,
                sheaf_european.rows,
            )
        )
        runs.append(
            Run(
                "Sheaf CSV: import start to the first page",
                sheaf_csv.info["browsable"],
                sheaf_csv.process_wall - sheaf_csv.info["index"],
                sheaf_csv.peak_mib,
                sheaf_csv.rows,
            )
        )
        if shell is not None:
            shell_run = pick_median([bench_sqlite3(shell, csv_path) for _ in range(args.repeat)])
            runs.append(shell_run)
        if tools_python is not None:
            tool = tools_python.parent / "sqlite-utils"
            utils_run = bench_sqlite_utils(tool, sqlite_utils_version(tool), csv_path)
            runs.append(utils_run)
        if have_xlsx:
            warm(xlsx_path)
            sheaf_xlsx = pick_median(
                [
                    bench_sheaf(args.python, xlsx_path, "Sheaf XLSX: types, checks, FTS")
                    for _ in range(args.repeat)
                ]
            )
            runs.append(sheaf_xlsx)
            runs.append(
                Run(
                    "Sheaf XLSX without the FTS build",
                    sheaf_xlsx.wall - sheaf_xlsx.info["index"],
                    sheaf_xlsx.process_wall - sheaf_xlsx.info["index"],
                    sheaf_xlsx.peak_mib,
                    sheaf_xlsx.rows,
                )
            )
            if tools_python is not None:
                calamine_run = pick_median(
                    [bench_calamine(str(tools_python), xlsx_path) for _ in range(args.repeat)]
                )
                runs.append(calamine_run)
        else:
            missing.append("Excel file (needs xlsxwriter)")
    finally:
        if args.keep is None:
            shutil.rmtree(cache, ignore_errors=True)

    say()
    say(
        f"Sheaf import benchmark: {args.rows:,}-row CSV, {xlsx_rows:,}-row XLSX, seed "
        f"{args.seed}; SQLite {sqlite3.sqlite_version} (Python), Python {sys.version.split()[0]}"
    )
    xlsx_size = f", XLSX file {xlsx_mib:.1f} MiB" if xlsx_mib else ""
    say(f"CSV file {csv_mib:.1f} MiB{xlsx_size}")
    say()
    for line in table(runs):
        say(line)
    say()
    say("wall s: for Sheaf, inspect_file + load_file timed inside its process; for calamine,")
    say("the read; interpreter start-up and imports are left out of both. The CLI tools are")
    say("timed as whole processes. process s: each process from start to exit, as seen from")
    say("outside. peak MiB: the process's maximum resident set size.")
    say()
    say("Where Sheaf's time goes:")
    say(breakdown(sheaf_csv, "CSV"))
    say(breakdown(sheaf_european, "European CSV"))
    say(
        f"  CSV browsable after {sheaf_csv.info['browsable']:.2f} s (first page "
        f"{sheaf_csv.info['first_page'] * 1000:.1f} ms, {sheaf_csv.info['page_rows']} rows); "
        f"search index built in the background in {sheaf_csv.info['index']:.2f} s"
    )
    spread = sorted(r.info["browsable"] for r in iso_runs)
    say(
        f"  runs: browsable {', '.join(f'{v:.2f}' for v in spread)} s; ISO/European without FTS "
        + ", ".join(
            f"{i.wall - i.info['index']:.2f}/{e.wall - e.info['index']:.2f}"
            for i, e in zip(iso_runs, european_runs, strict=True)
        )
        + " s"
    )
    if sheaf_xlsx is not None:
        say(breakdown(sheaf_xlsx, "XLSX"))
    if utils_run is not None:
        say(f"  sqlite-utils column types: {' '.join(utils_run.info['types'])}")
    bad_counts = [
        r.contender
        for r in (sheaf_csv, sheaf_european, shell_run, utils_run)
        if r is not None and r.rows != args.rows
    ]
    bad_counts += [
        r.contender for r in (sheaf_xlsx, calamine_run) if r is not None and r.rows != xlsx_rows
    ]
    if bad_counts:
        say(f"  WARNING: unexpected row counts from {', '.join(bad_counts)}")

    no_fts_csv = sheaf_csv.wall - sheaf_csv.info["index"]
    no_fts_xlsx = sheaf_xlsx.wall - sheaf_xlsx.info["index"] if sheaf_xlsx else None
    results = {
        "csv_vs_sqlite3": ratio(sheaf_csv, shell_run, no_fts_csv),
        "csv_vs_sqlite_utils": ratio(sheaf_csv, utils_run, no_fts_csv),
        "xlsx_vs_calamine": ratio(sheaf_xlsx, calamine_run, no_fts_xlsx),
        "european_vs_iso": (sheaf_european.wall - sheaf_european.info["index"]) / no_fts_csv,
        "browsable_vs_sqlite3": ratio(sheaf_csv, shell_run, sheaf_csv.info["browsable"]),
    }
    with_fts = {
        "csv_vs_sqlite3": ratio(sheaf_csv, shell_run),
        "csv_vs_sqlite_utils": ratio(sheaf_csv, utils_run),
        "xlsx_vs_calamine": ratio(sheaf_xlsx, calamine_run),
        "european_vs_iso": ratio(sheaf_european, sheaf_csv),
        "browsable_vs_sqlite3": ratio(sheaf_csv, shell_run),
    }
    peak = max(r.peak_mib for r in (sheaf_csv, sheaf_xlsx) if r is not None)
    say()
    say("Targets (Sheaf's wall time without the FTS build over the other's; with it in brackets):")
    missed = []
    for key, value in results.items():
        limit = TARGETS[key]
        verdict = "n/a" if value != value else ("met" if value <= limit else "MISSED")
        if verdict == "MISSED":
            missed.append(key)
        shown = f"{limit:g}x"
        say(f"  {key:<22}{value:>8.3f}x  ({with_fts[key]:.3f}x)   target <= {shown:<6}{verdict}")
    verdict = "met" if peak < PEAK_TARGET_MIB else "MISSED"
    if verdict == "MISSED":
        missed.append("peak_mib")
    csv_peak = sheaf_csv.peak_mib
    xlsx_peak = f", XLSX {sheaf_xlsx.peak_mib:.1f}" if sheaf_xlsx else ""
    say(
        f"  {'peak_mib':<22}{peak:>8.1f}   target < {PEAK_TARGET_MIB} MiB   {verdict}"
        f"   (Sheaf CSV {csv_peak:.1f}{xlsx_peak})"
    )
    if missing:
        say(f"Skipped: {'; '.join(missing)}")
    say(f"Whole run: {time.perf_counter() - began:.1f} s")
    say(
        "RESULT "
        + " ".join(f"{key}={value:.3f}" for key, value in results.items())
        + f" peak_mib={peak:.1f}"
    )
    if missing or (args.check and missed):
        return 1
    return 0


def internal(argv: list[str]) -> int | None:
    """The helper modes (one process each); None when ``argv`` asks for the benchmark."""
    if not argv:
        return None
    mode = argv[0]
    if mode == "--run-sheaf":
        run_sheaf(argv[1], argv[2])
        return 0
    if mode == "--run-calamine":
        run_calamine(argv[1])
        return 0
    if mode == "--rusage-child":
        rusage_child(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
        return 0
    if mode == "--write-xlsx":
        parser = argparse.ArgumentParser()
        parser.add_argument("path", type=Path)
        parser.add_argument("--rows", type=int, required=True)
        parser.add_argument("--seed", type=int, required=True)
        args = parser.parse_args(argv[1:])
        write_xlsx(args.path, args.seed, args.rows)
        return 0
    return None


if __name__ == "__main__":
    code = internal(sys.argv[1:])
    sys.exit(main() if code is None else code)
