"""Start-up benchmark: time to the window's `loaded` event and to the first 200 of the server
alone, from source and packaged (median of N), plus the packaged size.

    .venv/bin/python bench/startup_bench.py [--runs 5] [--dist dist/Sheaf] [--archive F]

Needs Xvfb for the window (Debian package `xvfb`); builds nothing: run `make package` first for
the packaged figures (they are skipped, with a note, when dist/Sheaf is missing).
Last line: RESULT loaded_s=<n> first200_s=<n> packaged_mib=<n> archive_mib=<n>
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAST = {
    "SHEAF_ARGON2_TIME_COST": "1",
    "SHEAF_ARGON2_MEMORY_COST": "8",
    "SHEAF_ARGON2_PARALLELISM": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_window(command: list[str], display: str) -> float | None:
    """Seconds from start to the shell's "Sheaf window loaded" line."""
    data = tempfile.mkdtemp(prefix="sheaf-startup-")
    env = {**os.environ, **FAST, "DISPLAY": display}
    start = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--data-dir", data],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        deadline = start + 60
        while time.perf_counter() < deadline:
            line = process.stdout.readline()
            if not line:
                return None
            if "Sheaf window loaded" in line:
                return time.perf_counter() - start
        return None
    finally:
        process.kill()
        process.wait(10)
        shutil.rmtree(data, ignore_errors=True)


def time_first_200(command: list[str]) -> float | None:
    """Seconds from start to the first 200 answer of ``serve`` (the set-up page)."""
    data = tempfile.mkdtemp(prefix="sheaf-startup-")
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--data-dir", data, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **FAST},
    )
    try:
        while time.perf_counter() - start < 30:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/setup", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.005)
        return None
    finally:
        process.kill()
        process.wait(10)
        shutil.rmtree(data, ignore_errors=True)


def median(samples: list[float | None]) -> float | None:
    values = [s for s in samples if s is not None]
    return statistics.median(values) if values else None


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
    source = [sys.executable, "-m", "server.cli"]
    packaged = [str(args.dist / "Sheaf")] if (args.dist / "Sheaf").exists() else None
    rows = []
    try:
        for label, command in (("source", source), ("packaged", packaged)):
            if command is None:
                print(f"{label}: {args.dist} not found (run `make package`); skipped")
                continue
            loaded = (
                median([time_window(command, display) for _ in range(args.runs)])
                if display
                else None
            )
            first = median([time_first_200(command) for _ in range(args.runs)])
            rows.append((label, loaded, first))
    finally:
        if xvfb is not None:
            xvfb.kill()
    print(f"\n{'run':<10} {'window loaded s':>16} {'first 200 s':>12}   (median of {args.runs})")
    for label, loaded, first in rows:
        shown = [f"{v:.3f}" if v is not None else "—" for v in (loaded, first)]
        print(f"{label:<10} {shown[0]:>16} {shown[1]:>12}")
    packaged_mib = size_mib(args.dist) if args.dist.exists() else 0.0
    archive_mib = size_mib(args.archive) if args.archive.exists() else 0.0
    print(f"packaged folder {packaged_mib:.1f} MiB, archive {archive_mib:.1f} MiB")
    best = rows[-1] if rows else ("", None, None)
    print(
        f"RESULT loaded_s={best[1] or 0:.3f} first200_s={best[2] or 0:.3f} "
        f"packaged_mib={packaged_mib:.1f} archive_mib={archive_mib:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
