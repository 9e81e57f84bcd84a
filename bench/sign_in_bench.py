"""Sign-in work an attacker can force: Argon2 checks per second through ``sheaf serve``.

Starts the real server (``python -m desktop.cli serve``, waitress, default Argon2 parameters:
64 MiB, 3 passes, 4 lanes) on a fresh data folder with one account, then sends wrong sign-ins
for unknown names from several connections of one address for a while, as fast as the server
answers. Each 401 is one Argon2 check; a 429 (rationed) is none. Run once with the default
ration (10 a minute) and once with the ration out of the way (10,000 a minute)::

    .venv/bin/python bench/sign_in_bench.py --seconds 20 --connections 8
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import HttpSession, make_app, make_user  # noqa: E402


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server(folder: Path, port: int, per_minute: int) -> subprocess.Popen:
    env = {**os.environ, "SHEAF_SIGN_IN_PER_MINUTE": str(per_minute)}
    command = [sys.executable, "-m", "desktop.cli", "--data-dir", str(folder), "serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    for _ in range(300):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def _cpu_seconds(pid: int) -> float:
    """The server's user and system CPU time so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def attack(port: int, seconds: float, connections: int) -> Counter:
    answers: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def connection(index: int) -> None:
        tab = HttpSession(port, timeout=120)
        _page, token = tab.csrf("/sign-in")
        n = 0
        while time.monotonic() < deadline:
            fields = {
                "login": f"nobody{index}-{n}",
                "password": "a wrong guess",
                "csrf_token": token,
            }
            status = tab.request("POST", "/sign-in", fields)[0]
            n += 1
            with lock:
                answers[status] += 1

    threads = [threading.Thread(target=connection, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def run(per_minute: int, seconds: float, connections: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        from server.db import database

        app = make_app(folder)
        with app.app_context(), database.connection_context():
            make_user("vera")
        database.close()
        port = _port()
        process = _server(folder, port, per_minute)
        try:
            started = time.monotonic()
            cpu = _cpu_seconds(process.pid)
            answers = attack(port, seconds, connections)
            elapsed = time.monotonic() - started
            cpu = _cpu_seconds(process.pid) - cpu
        finally:
            process.terminate()
            process.wait(timeout=30)
    checks = answers[401]
    print(
        f"ration {per_minute:>5}/min: {checks} Argon2 checks in {elapsed:.1f} s "
        f"= {checks / elapsed:.2f}/s; server CPU {cpu / elapsed:.0%} of one core; "
        f"answers {dict(sorted(answers.items()))}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; {args.connections} connections from 127.0.0.1")
    for per_minute in (10_000, 10):
        run(per_minute, args.seconds, args.connections)


if __name__ == "__main__":
    main()
