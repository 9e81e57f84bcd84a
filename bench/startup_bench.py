"""Start-up benchmark: time to the window's `loaded` event and to the first 200 of the server
alone, from source and packaged (median of N), with the memory then and the packaged size;
side by side with a bare Flask + pywebview probe (bench/startup_probe.py) as the reference.

    .venv/bin/python bench/startup_bench.py [--runs 5] [--dist dist/Sheaf] [--archive F]

Each Sheaf figure is taken twice: on a data folder that is set up (an account exists, Sheaf has
started on it before: the everyday start, with the database opened and its migrations checked)
and on a new one (the very first start: the set-up page, migrations applied). RESULT gives the
packaged everyday start.

Needs Xvfb for the window (Debian package `xvfb`); builds nothing: run `make package` first for
the packaged figures (they are skipped, with a note, when dist/Sheaf is missing).
Last line: RESULT loaded_s=<n> first200_s=<n> packaged_mib=<n> archive_mib=<n>
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "bench" / "startup_probe.py"
FAST = {
    "SHEAF_ARGON2_TIME_COST": "1",
    "SHEAF_ARGON2_MEMORY_COST": "8",
    "SHEAF_ARGON2_PARALLELISM": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (Qt's web engine runs in
    processes of its own), from /proc; 0 where /proc is missing."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024


@dataclass
class Sample:
    seconds: float
    mib: float


def time_window(command: list[str], display: str, marker: str) -> Sample | None:
    """Seconds from start to the line ``marker`` (the window's loaded event), and the memory
    of the whole process tree then (the most seen in the next half second)."""
    env = {**os.environ, **FAST, "DISPLAY": display}
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        deadline = start + 60
        while time.perf_counter() < deadline:
            line = process.stdout.readline()
            if not line:
                return None
            if marker in line:
                seconds = time.perf_counter() - start
                peak = 0.0
                for _ in range(10):
                    peak = max(peak, tree_rss_mib(process.pid))
                    time.sleep(0.05)
                return Sample(seconds, peak)
        return None
    finally:
        process.kill()
        process.wait(10)


def time_first_200(command: list[str], url: str) -> Sample | None:
    """Seconds from start to the first 200 answer at ``url``, and the server's memory then."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **FAST}
    )
    try:
        while time.perf_counter() - start < 30:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return Sample(time.perf_counter() - start, tree_rss_mib(process.pid))
            except OSError:
                time.sleep(0.005)
        return None
    finally:
        process.kill()
        process.wait(10)


PREPARE = """
import sys
from server import create_app
from server.auth.session import password_policy
from server.db import database
from server.users.accounts import create_first_admin

app = create_app({"DATA_DIR": sys.argv[1]})
with app.app_context(), database.connection_context():
    create_first_admin("admin", "Admin", "a long pass phrase", password_policy())
"""


def prepared_folder(command: list[str]) -> Path:
    """A data folder as it is on any day after the first: set up, with an account, and started
    once by ``command`` (the issue's case: the database opened and its migrations checked)."""
    folder = Path(tempfile.mkdtemp(prefix="sheaf-startup-ready-"))
    env = {**os.environ, **FAST}
    subprocess.run([sys.executable, "-c", PREPARE, str(folder)], check=True, env=env)
    time_first_200(
        [*command, "--data-dir", str(folder), "serve", "--port", str(port := free_port())],
        f"http://127.0.0.1:{port}/sign-in",
    )
    return folder


def copied(folder: Path | None) -> str:
    """A fresh data folder, or a copy of ``folder``: every run starts from the same state."""
    data = tempfile.mkdtemp(prefix="sheaf-startup-")
    if folder is not None:
        shutil.copytree(folder, data, dirs_exist_ok=True)
    return data


def sheaf_window(command: list[str], display: str, folder: Path | None) -> Sample | None:
    data = copied(folder)
    try:
        return time_window([*command, "--data-dir", data], display, "Sheaf window loaded")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def sheaf_first_200(command: list[str], folder: Path | None) -> Sample | None:
    """The sign-in page of a set-up data folder, or the set-up page of a new one (migrations
    applied)."""
    data = copied(folder)
    port = free_port()
    page = "sign-in" if folder is not None else "setup"
    try:
        serve = [*command, "--data-dir", data, "serve", "--port", str(port)]
        return time_first_200(serve, f"http://127.0.0.1:{port}/{page}")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def probe_first_200() -> Sample | None:
    port = free_port()
    return time_first_200(
        [sys.executable, str(PROBE), "serve", str(port)], f"http://127.0.0.1:{port}/"
    )


def median(samples: list[Sample | None]) -> Sample | None:
    """The median time, with the memory of the same run."""
    values = sorted((s for s in samples if s is not None), key=lambda s: s.seconds)
    return values[(len(values) - 1) // 2] if values else None


def size_mib(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    files = (p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist" / "Sheaf")
    parser.add_argument("--archive", type=Path, default=ROOT / "dist" / "Sheaf-linux.tar.xz")
    args = parser.parse_args()
    xvfb = None
    display = os.environ.get("DISPLAY")
    if not display and shutil.which("Xvfb"):
        display = ":87"
        xvfb = subprocess.Popen(
            ["Xvfb", display, "-screen", "0", "1280x800x24"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
    source = [sys.executable, "-m", "desktop.cli"]
    packaged = [str(args.dist / "Sheaf")] if (args.dist / "Sheaf").exists() else None
    probe = [sys.executable, str(PROBE), "window"]
    rows: list[tuple[str, Sample | None, Sample | None]] = []
    ready: list[Path] = []
    try:
        for label, command in (("source", source), ("packaged", packaged)):
            if command is None:
                print(f"Sheaf, {label}: {args.dist} not found (run `make package`); skipped")
                continue
            ready.append(prepared_folder(command))
            for start, folder in (("", ready[-1]), (" 1st", None)):
                windows = [sheaf_window(command, display, folder) for _ in range(args.runs)]
                first = [sheaf_first_200(command, folder) for _ in range(args.runs)]
                rows.append(
                    (f"Sheaf, {label}{start}", median(windows if display else []), median(first))
                )
        windows = [time_window(probe, display, "probe loaded") for _ in range(args.runs)]
        loaded = median(windows) if display else None
        first = median([probe_first_200() for _ in range(args.runs)])
        rows.append(("bare probe, source", loaded, first))
    finally:
        if xvfb is not None:
            xvfb.kill()
        for folder in ready:
            shutil.rmtree(folder, ignore_errors=True)

    def shown(sample: Sample | None) -> str:
        return f"{sample.seconds:.3f} s {sample.mib:6.1f} MiB" if sample else "—"

    print(f"\n{'run':<22} {'window loaded':>22} {'first 200':>22}   (median of {args.runs})")
    for label, loaded, first in rows:
        print(f"{label:<22} {shown(loaded):>22} {shown(first):>22}")
    print("Sheaf: a set-up data folder (sign-in page); 1st: a new one (set-up page, migrations")
    print("applied). MiB: resident memory then, the window's web-engine processes included.")
    packaged_mib = size_mib(args.dist) if args.dist.exists() else 0.0
    archive_mib = size_mib(args.archive) if args.archive.exists() else 0.0
    print(f"packaged folder {packaged_mib:.1f} MiB, archive {archive_mib:.1f} MiB")
    everyday = [r for r in rows if r[0].startswith("Sheaf") and not r[0].endswith("1st")]
    best = everyday[-1] if everyday else ("", None, None)
    reference = rows[-1]
    for row in (r for r in rows if r[0].startswith("Sheaf")):
        for name, index in (("window loaded", 1), ("first 200", 2)):
            ours, theirs = row[index], reference[index]
            if ours and theirs:
                print(f"{name}: {row[0]} / bare probe = {ours.seconds / theirs.seconds:.2f}x")
    print(
        f"RESULT loaded_s={best[1].seconds if best[1] else 0:.3f} "
        f"first200_s={best[2].seconds if best[2] else 0:.3f} "
        f"packaged_mib={packaged_mib:.1f} archive_mib={archive_mib:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
