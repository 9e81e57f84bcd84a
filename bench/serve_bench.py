"""HTTPS under slow and silent clients: Sheaf's TLS front (asyncio + waitress) beside the
threaded cheroot server it replaced, on the same app, data folder and certificate.

For each server, the time of a normal HTTPS request (a new connection each: TCP, TLS, one
``GET /sign-in``) is measured

- alone (``quiet``),
- while three TCP connections sit open without starting TLS (``idle``),
- while twenty clients have finished TLS and sent half of their request headers (``slow``).

A request that takes longer than ``--limit`` seconds counts as the limit. The RESULT line
gives each server's worst p95 and the front's against the reference::

    .venv/bin/python bench/serve_bench.py --requests 20

cheroot comes with the dev extras (``pip install -e '.[dev]'``) for this comparison only.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAST = {
    "SHEAF_ARGON2_TIME_COST": "1",
    "SHEAF_ARGON2_MEMORY_COST": "8",
    "SHEAF_ARGON2_PARALLELISM": "1",
}


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve_cheroot(folder: str, port: int, cert: str, key: str) -> None:
    """The reference: cheroot's threaded server with its built-in TLS adapter, as Sheaf ran
    it before (8 threads, TLS 1.2 at least)."""
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    from desktop.startup import start

    app = start(
        {"DATA_DIR": folder}, {"SERVING": True, "TLS": True, "TRUSTED_HOSTS": ["127.0.0.1"]}
    ).app
    adapter = BuiltinSSLAdapter(cert, key)
    adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
    server = wsgi.Server(("127.0.0.1", port), app, numthreads=8, server_name="Sheaf")
    server.ssl_adapter = adapter
    server.start()


def _start(kind: str, folder: Path, port: int, cert: Path, key: str) -> subprocess.Popen:
    env = {**os.environ, **FAST}
    if kind == "front":
        command = [sys.executable, "-m", "desktop.cli", "--data-dir", str(folder), "serve",
                   "--port", str(port), "--cert", str(cert), "--key", str(key)]  # fmt: skip
    else:
        command = [sys.executable, __file__, "--reference", str(folder), str(port), str(cert), key]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    context = ssl.create_default_context(cafile=str(cert))
    for _ in range(300):
        try:
            _request(port, context, 5)
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the {kind} server did not start")


def _request(port: int, context: ssl.SSLContext, limit: float) -> float:
    began = time.perf_counter()
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=limit)
    try:
        connection.request("GET", "/sign-in")
        answer = connection.getresponse()
        answer.read()
        if answer.status >= 500:
            raise OSError(f"answered {answer.status}")
    finally:
        connection.close()
    return time.perf_counter() - began


def _timings(port: int, context: ssl.SSLContext, count: int, limit: float) -> list[float]:
    timings = []
    for _ in range(count):
        try:
            timings.append(_request(port, context, limit))
        except OSError:  # timed out or refused: as slow as the limit
            timings.append(limit)
    return timings


def _idle(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]


def _half_headers(port: int, context: ssl.SSLContext, count: int) -> list[socket.socket]:
    held = []
    for _ in range(count):
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        tls = context.wrap_socket(raw, server_hostname="127.0.0.1")
        tls.sendall(b"GET /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        held.append(tls)
    return held


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _measure(kind: str, folder: Path, cert: Path, key: str, args) -> dict[str, list[float]]:
    port = _port()
    process = _start(kind, folder, port, cert, key)
    context = ssl.create_default_context(cafile=str(cert))
    figures = {}
    try:
        figures["quiet"] = _timings(port, context, args.requests, args.limit)
        held = _idle(port, 3)
        time.sleep(0.2)
        figures["idle"] = _timings(port, context, args.requests, args.limit)
        for sock in held:
            sock.close()
        time.sleep(0.5)
        held = _half_headers(port, context, 20)
        time.sleep(0.2)
        figures["slow"] = _timings(port, context, args.requests, args.limit)
        for sock in held:
            sock.close()
    finally:
        process.terminate()
        process.wait(20)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per scenario")
    parser.add_argument("--limit", type=float, default=15.0, help="seconds before giving up")
    parser.add_argument("--reference", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference:
        folder, port, cert, key = args.reference
        _serve_cheroot(folder, int(port), cert, key)
        return 0
    if not shutil.which("openssl"):
        raise SystemExit("needs the openssl command (Debian package openssl) for a certificate")
    with tempfile.TemporaryDirectory(prefix="sheaf-serve-bench-") as temp:
        folder = Path(temp)
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        results = {}
        for kind in ("cheroot", "front"):
            results[kind] = _measure(kind, folder / kind, cert, str(key), args)
    print(f"{'scenario':<10}{'cheroot median':>16}{'p95':>8}{'front median':>15}{'p95':>8}  (ms)")
    for scenario in ("quiet", "idle", "slow"):
        row = f"{scenario:<10}"
        for kind in ("cheroot", "front"):
            values = results[kind][scenario]
            row += f"{statistics.median(values) * 1000:>15.0f}{_p95(values) * 1000:>9.0f}"
        print(row)
    worst = {k: max(_p95(v) for v in results[k].values()) for k in results}
    quiet = {k: statistics.median(results[k]["quiet"]) for k in results}
    print(
        f"RESULT worst_p95_cheroot_ms={worst['cheroot'] * 1000:.0f} "
        f"worst_p95_front_ms={worst['front'] * 1000:.0f} "
        f"quiet_front_vs_cheroot={quiet['front'] / quiet['cheroot']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
