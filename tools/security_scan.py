"""Attack scan: sqlmap and wapiti against a running Sheaf, signed in and not (``make security``).

What it does, in order:

1. Makes sure the attack tools are installed in a virtual environment of their own (never the
   project's ``.venv``): ``<temp dir>/sheaf-security-tools`` unless ``--tools-dir`` says otherwise.
   A missing one is created with ``python3 -m venv`` and ``pip install`` of the pinned versions
   below (PyPI is the only network access the scan needs, and only that first time).
2. Seeds a fresh, temporary data folder with the test helpers (``tests/helpers.py``): an admin
   ``ada`` and a dataset of 120 rows with text, whole-number, decimal, date and yes/no columns.
3. Starts the real server (``python -m desktop.cli --data-dir DIR serve``) on 127.0.0.1 with
   cheap Argon2 hashing, the lock-out threshold at its maximum (100), a 60-minute idle lock and no
   automatic backup, so the scanners neither lock the admin out nor see their session locked.
4. Starts a small forwarding proxy on 127.0.0.1 and sends both tools through it. The proxy
   forwards only to the Sheaf server (anything else is refused, so nothing leaves the machine)
   and counts every request each tool sends and every status the server answers: these are the
   "requests sent" figures, the same measure for both tools.
5. Runs sqlmap and then wapiti against each target, unauthenticated and then signed in as the
   admin (a fresh sign-in for every run, with the same User-Agent the tools send, since Sheaf's
   session protection ties a session to it):

   * the sign-in form (``POST /sign-in``: ``login``, ``password``, ``next``; the CSRF token is
     fetched afresh by sqlmap and taken from the form by wapiti; the login names tried do not
     exist, so the admin's failure count is untouched) and, signed in, ``GET /sign-in?next=``;
   * the dataset search of the list (``GET /datasets?q=``);
   * the table view: full-text search ``q``, ``sort``/``dir``, a column filter of each kind
     (``c2.contains``, ``c1.min``, ``c3.in``, ``c4.min``, ``c5.max``, ``c6.eq``) and the
     keyset cursor ``after``;
   * the JSON API (``GET /api/v1/datasets/<id>/rows``) with the same kinds of arguments plus
     ``limit`` and ``before``.

   Links that sign out, lock, change a password or touch accounts, settings and backups are
   excluded from wapiti, which in any case only attacks the exact URL it is given
   (``--scope url``).

   sqlmap runs at ``--level=3 --risk=2`` with every technique (``BEUSTQ``) and SQLite's
   payloads (``--dbms=SQLite``: the only database Sheaf has); wapiti runs the modules in
   ``WAPITI_MODULES``. A last, built-in probe checks that the sign-in form refuses a missing,
   forged or foreign CSRF token and reads the form with the right one.

6. Fails (exit status 1) on any finding:

   * sqlmap: an injection point it reports, a candidate it does not reject itself, or its
     heuristic XSS / file-inclusion alarm;
   * wapiti: anything in the report's ``vulnerabilities`` or ``anomalies`` (internal errors,
     timeouts); its ``additionals`` (informational) are only printed;
   * the proxy: any 5xx answer, and any dataset page or API call answered 200 without a session;
   * the CSRF probe: a token that is not checked;
   * the server's own log: any ERROR written during the scan.

   Exit status 2 means the scan itself did not work (a tool failed, the signed-in session was
   lost): it is not a clean result either.

   Two kinds of report are dismissed, and listed as such, never silently: sqlmap candidates that
   sqlmap itself then rejects ("false positive or unexploitable"), and wapiti reports from the
   signed-out runs whose request, replayed without a session, is answered by Sheaf's guard (the
   redirect to the sign-in page, or the API's 401) rather than by the page. That redirect echoes
   the requested URL, so a module that compares whole answers sees the payload change the answer
   and reports an injection into a page that never ran.

Deliberately left out: wapiti's ``cookieflags`` module (over plain HTTP on 127.0.0.1 the session
cookie cannot carry ``Secure``; ``serve --cert`` sets it, see tests/test_serve_mode.py), its
``csrf`` module (3.2.3 sends its reference request with the Content-Type header twice, Werkzeug
cannot read that as a form and refuses it like the forged one, so wapiti calls the token
unchecked: the built-in probe replaces it), its ``ldap`` module (Sheaf has no directory to
inject into, and the module only compares raw page hashes: the sign-in page's CSRF token is
signed with the current second, so the same request gives another page a second later and the
module reports "LDAP injection" at random; signed out, the sign-in redirect echoing the payload
fools it every time), the modules that need an outside endpoint (``ssrf``, ``xxe``,
``log4shell``) and the brute-force file finders (``buster``, ``nikto``, ``backup``).

    .venv/bin/python tools/security_scan.py             # what `make security` runs
    .venv/bin/python tools/security_scan.py --keep      # keep the logs and reports afterwards
    .venv/bin/python tools/security_scan.py --tool sqlmap --sqlmap-level 5 --sqlmap-risk 3

The work folder (tool logs, sqlmap traffic files, wapiti reports, the server's log) is kept
whenever something was found or went wrong, and its path printed.
"""

# The scan starts the tools it drives, from paths it knows (S603), and opens only URLs on the
# server it started, http://127.0.0.1:<port> (S310).
# ruff: noqa: S603, S310

from __future__ import annotations

import argparse
import base64
import http.client
import http.cookiejar
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP_PYTHON = REPO / ".venv" / "bin" / "python"
TOOL_PACKAGES = {"sqlmap": "1.10.10", "wapiti3": "3.2.3"}
USER_AGENT = "sheaf-security-scan"
ADMIN = "ada"
NOBODY = "scan-nobody"  # a sign-in name that does not exist: attacks never count against ada
HOST = "127.0.0.1"

SQLMAP_LEVEL = 3
SQLMAP_RISK = 2
WAPITI_MODULES = [
    "sql",
    "timesql",
    "xss",
    "permanentxss",
    "exec",
    "file",
    "crlf",
    "redirect",
    "http_headers",
    "csp",
]
# Pages a scanner must never call: they end or lock its session or change accounts and settings.
WAPITI_EXCLUDES = [
    "/sign-out",
    "/lock*",
    "/session/alive",
    "/account*",
    "/people*",
    "/roles*",
    "/settings*",
    "/backups*",
    "/import*",
    "/damaged*",
    "/datasets/*/delete",
    "/datasets/*/sharing*",
    "/datasets/*/clean",
    "/datasets/*/undo",
    "/datasets/*/recipes",
    "/datasets/*/about",
]
SERVER_ENV = {
    "SHEAF_ARGON2_TIME_COST": "1",
    "SHEAF_ARGON2_MEMORY_COST": "8",
    "SHEAF_ARGON2_PARALLELISM": "1",
    "SHEAF_LOCKOUT_THRESHOLD": "100",
    "SHEAF_SIGN_IN_PER_MINUTE": "10000",  # the scan attacks the form, not the ration
    "SHEAF_IDLE_LOCK_MINUTES": "60",
    "SHEAF_BACKUP_AUTOMATIC": "0",
}

NAMES = ["Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Dennis", "Radia"]
CITIES = ["London", "Paris", "Oslo", "Lagos", "Lima"]
EXPECTED_TYPES = ["integer", "text", "text", "date", "real", "boolean"]

# Runs in the project's venv, in the repository: builds the data folder with the test helpers.
SEED = """
import json, sys
from pathlib import Path
from tests.helpers import PASSWORD, make_app, make_dataset, make_user
app = make_app(Path(sys.argv[1]))
with app.app_context():
    admin = make_user(sys.argv[2], "admin", display_name="Scan Admin")
    dataset = make_dataset(app, admin, Path(sys.argv[3]).read_text(encoding="utf-8"), "People")
    answer = {"password": PASSWORD, "dataset": dataset.id, "columns": json.loads(dataset.columns)}
from server.db import database
database.close()
print(json.dumps(answer))
"""


# --------------------------------------------------------------------------------------------
# The counting proxy


@dataclass
class Exchange:
    method: str
    target: str
    status: int  # 0: the proxy could not reach the server
    location: str = ""


class CountingProxy(http.server.ThreadingHTTPServer):
    """A forwarding HTTP proxy to one upstream server that records every exchange, per phase."""

    daemon_threads = True

    def __init__(self, upstream_port: int) -> None:
        super().__init__((HOST, 0), ProxyHandler)
        self.upstream_port = upstream_port
        self.phase = "idle"
        self.log: dict[str, list[Exchange]] = {}
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def begin(self, phase: str) -> list[Exchange]:
        with self._lock:
            self.phase = phase
            return self.log.setdefault(phase, [])

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self.log.setdefault(self.phase, []).append(exchange)


HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CountingProxy

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle and delayed ACKs stall each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _refuse(self, status: int, text: str) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        upstream = f"{HOST}:{self.server.upstream_port}"
        if (parts.scheme or parts.netloc) and (parts.scheme, parts.netloc) != ("http", upstream):
            self.server.refused.append(f"{self.command} {self.path}")
            self._refuse(403, "The scan proxy only forwards to the Sheaf under test.")
            return
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._refuse(411, "Send a Content-Length.")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        connection = http.client.HTTPConnection(HOST, self.server.upstream_port, timeout=120)
        try:
            connection.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    connection.putheader(name, value)
            if body or self.command in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(body)))
            connection.putheader("Connection", "close")
            connection.endheaders(body or None)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.server.record(Exchange(self.command, target, 0, str(exc)))
            self._refuse(502, f"Sheaf did not answer: {exc}")
            return
        finally:
            connection.close()
        self.server.record(
            Exchange(self.command, target, response.status, response.getheader("Location", ""))
        )
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", response.getheader("Content-Length", "0"))
        elif response.status not in (204, 304) and response.status >= 200:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = _forward


# --------------------------------------------------------------------------------------------
# Set-up: tools, data, server


def run_quiet(command: list[str], **kwargs: object) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=True, **kwargs)  # type: ignore[call-overload]
    return result.stdout


def ensure_tools(tools_dir: Path) -> dict[str, str]:
    """The tools' venv, created and filled (again) unless it holds the pinned versions;
    returns the installed versions."""
    python = tools_dir / "bin" / "python"
    script = (
        "import importlib.metadata as m, json\n"
        f"names = {list(TOOL_PACKAGES)!r}\n"
        "try:\n"
        "    print(json.dumps({n: m.version(n) for n in names}))\n"
        "except m.PackageNotFoundError:\n"
        "    print('{}')\n"
    )
    installed = json.loads(run_quiet([str(python), "-c", script])) if python.exists() else {}
    if installed != TOOL_PACKAGES:
        wanted = [f"{name}=={version}" for name, version in TOOL_PACKAGES.items()]
        print(
            f"Installing the attack tools in {tools_dir} (a venv of their own): {' '.join(wanted)}"
        )
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(tools_dir)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *wanted], check=True)
        installed = json.loads(run_quiet([str(python), "-c", script]))
    return installed


def dataset_csv() -> str:
    lines = ["id,name,city,joined,score,active"]
    for i in range(1, 121):
        lines.append(
            f"{i},{NAMES[i % len(NAMES)]},{CITIES[i % len(CITIES)]},"
            f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d},{i * 1.25:.2f},"
            f"{'true' if i % 3 else 'false'}"
        )
    return "\n".join(lines) + "\n"


def seed(data_dir: Path, work: Path) -> dict:
    source = work / "people.csv"
    source.write_text(dataset_csv(), encoding="utf-8")
    out = run_quiet([str(APP_PYTHON), "-c", SEED, str(data_dir), ADMIN, str(source)], cwd=REPO)
    seeded = json.loads(out.strip().splitlines()[-1])
    types = [c["type"] for c in seeded["columns"]]
    if types != EXPECTED_TYPES:
        raise SystemExit(
            f"security scan: the seeded dataset has types {types}, not {EXPECTED_TYPES}"
        )
    return seeded


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV}
    command = [str(APP_PYTHON), "-m", "desktop.cli", "--data-dir", str(data_dir), "serve"]
    with log.open("w") as out:
        server = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"security scan: the server stopped at start:\n{log.read_text()}")
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/sign-in", timeout=2).close()
            return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit("security scan: the server did not answer within 30 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def sign_in(base: str, login: str, password: str) -> str:
    """A fresh session for ``login`` (straight to the server, not counted): the Cookie value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(f"{base}/sign-in", timeout=10).read().decode()
    match = CSRF_META.search(page)
    if not match:
        raise SystemExit("security scan: no CSRF token on the sign-in page")
    form = {"login": login, "password": password, "csrf_token": match.group(1)}
    try:
        opener.open(f"{base}/sign-in", urllib.parse.urlencode(form).encode(), timeout=10)
        status = 200
    except urllib.error.HTTPError as exc:
        status = exc.code
    if status != 302:
        raise SystemExit(f"security scan: signing in as {login} answered {status}, not 302")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def cursor(value: object, rowid: int) -> str:
    raw = json.dumps([value, rowid], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --------------------------------------------------------------------------------------------
# Targets and runs


@dataclass
class Target:
    name: str
    path: str
    query: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)  # a POST body; empty for GET
    protected: bool = True  # must not answer 200 without a session

    def url(self, base: str) -> str:
        return f"{base}{self.path}?{urllib.parse.urlencode(self.query)}"

    @property
    def params(self) -> list[str]:
        return [*self.query, *(name for name in self.form if name != "csrf_token")]


def targets(dataset_id: int, signed_in: bool) -> list[Target]:
    view = {
        "q": "ada",
        "sort": "c1",
        "dir": "asc",
        "c2.contains": "a",
        "c1.min": "1",
        "c3.in": "London|Paris|Oslo",
        "c4.min": "2000-01-01",
        "c5.max": "1000",
        "c6.eq": "yes",
        "after": cursor(1, 1),
    }
    api = {
        "q": "ada",
        "sort": "c5",
        "dir": "desc",
        "c2.eq": "Ada",
        "c1.max": "1000",
        "c3.contains": "o",
        "c4.max": "2030-12-31",
        "c5.min": "0",
        "c6.eq": "true",
        "before": cursor(1.0, 0),
        "limit": "20",
    }
    if signed_in:
        sign_in_target = Target("sign-in (GET, next)", "/sign-in", {"next": "/datasets"})
    else:
        sign_in_target = Target(
            "sign-in form",
            "/sign-in",
            {"next": "/datasets"},
            {"login": NOBODY, "password": "not-the-password", "csrf_token": ""},
            protected=False,
        )
    return [
        sign_in_target,
        Target("dataset list search", "/datasets", {"q": "Peo"}),
        Target("table view: search, sort, filters", f"/datasets/{dataset_id}", view),
        Target("API rows", f"/api/v1/datasets/{dataset_id}/rows", api),
    ]


@dataclass
class RunResult:
    tool: str
    target: str
    signed_in: bool
    seconds: float = 0.0
    exchanges: list[Exchange] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the run itself went wrong
    notes: list[str] = field(default_factory=list)
    dismissed: list[str] = field(default_factory=list)  # reports shown to be false alarms
    folder: Path = Path()

    @property
    def label(self) -> str:
        return f"{self.tool} | {'signed in' if self.signed_in else 'anonymous'} | {self.target}"


# sqlmap's verdicts, read from its output. "appears to be … injectable" is only a candidate:
# sqlmap then checks it, and "does not seem to be injectable" for the same parameter means it
# rejected it (kept as a dismissal); a candidate it never rejects is a finding.
_PARAMETER = r"((?:\(custom\) )?[A-Z][\w-]* parameter '[^']+')"
SQLMAP_CANDIDATE = re.compile(_PARAMETER + r" (?:is|appears to be) '[^']+' injectable")
SQLMAP_REJECTED = re.compile(_PARAMETER + r" does not seem to be injectable")
SQLMAP_FOUND = [
    re.compile(r"parameter '[^']+' is vulnerable", re.I),
    re.compile(r"identified the following injection point", re.I),
    re.compile(r"heuristic \((?:XSS|FI)\) test shows that .* might be vulnerable", re.I),
]
SQLMAP_CLEAN = "all tested parameters do not appear to be injectable"


def run_sqlmap(
    tools: Path,
    proxy: CountingProxy,
    base: str,
    target: Target,
    cookie: str,
    level: int,
    risk: int,
    run: RunResult,
) -> None:
    """sqlmap on one target; fills the run's findings and problems."""
    out = run.folder
    out.mkdir(parents=True)
    command = [
        str(tools / "bin" / "sqlmap"),
        "-u",
        target.url(base),
        "--batch",
        "--flush-session",
        "--disable-coloring",
        f"--level={level}",
        f"--risk={risk}",
        "--technique=BEUSTQ",
        "--dbms=SQLite",
        "-p",
        ",".join(target.params),
        f"--user-agent={USER_AGENT}",
        "--ignore-code=401",
        "--ignore-redirects",
        "--skip-waf",
        "--timeout=30",
        "--retries=1",
        f"--proxy={proxy.url}",
        f"--output-dir={out}",
        "-t",
        str(out / "traffic.txt"),
    ]
    if cookie:
        command.append(f"--cookie={cookie}")
    if target.form:
        command.append(f"--data={urllib.parse.urlencode(target.form)}")
        command += ["--csrf-token=csrf_token", f"--csrf-url={base}/sign-in"]
    env = {**os.environ, "HOME": str(out)}  # sqlmap's history and caches stay in the work folder
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False
    )
    output = result.stdout + result.stderr
    (out / "stdout.txt").write_text(output)
    lines = [line.strip() for line in output.splitlines()]
    findings = [line for line in lines if any(p.search(line) for p in SQLMAP_FOUND)]
    candidates: dict[str, str] = {}
    for line in lines:
        if found := SQLMAP_CANDIDATE.search(line):
            candidates[found.group(1)] = line
        elif (rejected := SQLMAP_REJECTED.search(line)) and rejected.group(1) in candidates:
            run.dismissed.append(f"{candidates.pop(rejected.group(1))} | sqlmap: {line}")
    findings += candidates.values()
    problems = []
    critical = [
        line.strip()
        for line in output.splitlines()
        if "[CRITICAL]" in line and SQLMAP_CLEAN not in line
    ]
    if critical and not findings:
        problems += critical
    if SQLMAP_CLEAN not in output and not findings:
        problems.append(f"sqlmap ended without a verdict (exit {result.returncode}); see {out}")
    run.findings += findings
    run.problems += problems


def run_wapiti(
    tools: Path, proxy: CountingProxy, base: str, target: Target, cookie: str, run: RunResult
) -> None:
    """wapiti on one target; fills the run's findings, dismissals, problems and notes."""
    out = run.folder
    out.mkdir(parents=True)
    report = out / "report.json"
    command = [
        str(tools / "bin" / "wapiti"),
        "-u",
        target.url(base),
        "--scope",
        "url",
        "-m",
        ",".join(WAPITI_MODULES),
        "-A",
        USER_AGENT,
        "-p",
        proxy.url,
        "--flush-session",
        "--store-session",
        str(out / "session"),
        "--store-config",
        str(out / "config"),
        "-f",
        "json",
        "-o",
        str(report),
        "-v",
        "1",
        "--log",
        str(out / "log.txt"),
        "-t",
        "15",
        "--max-scan-time",
        "240",
        "--max-attack-time",
        "90",
        "--skip",
        "csrf_token",
        "--no-bugreport",
    ]
    for path in WAPITI_EXCLUDES:
        command += ["-x", base + path]
    if cookie:
        command += ["-C", cookie]
    env = {**os.environ, "HOME": str(out)}
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False
    )
    (out / "stdout.txt").write_text(result.stdout + result.stderr)
    if not report.exists():
        run.problems.append(f"wapiti wrote no report (exit {result.returncode}); see {out}")
        return
    data = json.loads(report.read_text())
    if not data.get("infos", {}).get("crawled_pages_nbr"):
        run.problems.append(f"wapiti crawled nothing; see {out}")
    for section in ("vulnerabilities", "anomalies"):
        for kind, items in data.get(section, {}).items():
            for item in items:
                text = (
                    f"{kind}: {item.get('method')} {item.get('path')} "
                    f"[{item.get('parameter') or '-'}] {item.get('info')}"
                )
                request = item.get("http_request", "")
                if not run.signed_in and target.protected:
                    answer = answered_without_page(base, request)
                    if answer:
                        run.dismissed.append(f"{text} | replayed: {answer}")
                        continue
                run.findings.append(f"{text} | {request.splitlines()[0] if request else ''}")
    for kind, items in data.get("additionals", {}).items():
        for item in items:
            run.notes.append(f"{kind}: {item.get('info')}")


def answered_without_page(base: str, http_request: str) -> str:
    """Replays a finding's GET without a session: the answer if Sheaf's guard gave it (the
    redirect to the sign-in page, or the API's 401) instead of running the page; else ""."""
    method, _, rest = http_request.partition(" ")
    path = rest.split(" ")[0]
    if method != "GET" or not path.startswith("/"):
        return ""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(base + path, headers={"User-Agent": USER_AGENT})
    try:
        opener.open(request, timeout=10).close()
        return ""
    except urllib.error.HTTPError as exc:
        status, location = exc.code, exc.headers.get("Location", "")
        body = exc.read().decode(errors="replace")
    except (ValueError, OSError, http.client.HTTPException):
        return ""
    if status in (302, 303) and urllib.parse.urlsplit(location).path == "/sign-in":
        return f"{status} to {location[:120]}"
    if status == 401 and "Sign in first" in body:
        return f"401 {body.strip()[:80]}"
    return ""


def check_csrf(base: str, proxy: CountingProxy, run: RunResult) -> None:
    """The sign-in form's CSRF token is checked: read with it, refused without or forged.

    (Stands in for wapiti's csrf module: wapiti 3.2.3 sends its reference request with the
    Content-Type header twice, which Werkzeug cannot read as a form, so the reference is
    refused too and wapiti wrongly reports the token as unchecked.)"""
    form_url = f"{base}/sign-in?next=%2Fdatasets"

    def session() -> tuple[urllib.request.OpenerDirector, str]:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"http": proxy.url}),
            urllib.request.HTTPCookieProcessor(jar),
            _NoRedirect,
        )
        opener.addheaders = [("User-Agent", USER_AGENT)]
        page = opener.open(form_url, timeout=10).read().decode()
        match = CSRF_META.search(page)
        return opener, match.group(1) if match else ""

    def post(opener: urllib.request.OpenerDirector, token: str | None) -> int:
        form = {"login": NOBODY, "password": "not-the-password"}
        if token is not None:
            form["csrf_token"] = token
        try:
            opener.open(form_url, urllib.parse.urlencode(form).encode(), timeout=10).close()
            return 200
        except urllib.error.HTTPError as exc:
            return exc.code

    opener, token = session()
    _, other_token = session()
    checks = [
        ("the page's own token", post(opener, token), 401),
        ("no token", post(opener, None), 400),
        ("a forged token", post(opener, "wapiti"), 400),
        ("another session's token", post(opener, other_token), 400),
    ]
    for what, status, expected in checks:
        run.notes.append(f"sign-in POST with {what}: {status} (expected {expected})")
        if status != expected:
            bad = "refused" if expected == 401 else "accepted"
            run.findings.append(f"sign-in POST with {what} was {bad}: {status}")


def check_traffic(run: RunResult, target: Target) -> None:
    """What the proxy saw: server errors, pages open without a session, a lost session."""
    exchanges = run.exchanges
    if not exchanges:
        run.problems.append("no request reached the server")
        return
    errors = [e for e in exchanges if e.status >= 500]
    if errors:
        run.findings.append(
            f"{len(errors)} answers 5xx, e.g. {errors[0].method} {errors[0].target[:300]}"
            f" -> {errors[0].status}"
        )
    unreachable = [e for e in exchanges if e.status == 0]
    if unreachable:
        run.problems.append(f"{len(unreachable)} requests did not reach the server")
    on_target = [e for e in exchanges if e.target.split("?")[0] == target.path]
    if run.signed_in:
        lost = [
            e
            for e in on_target
            if e.status == 401
            or (e.status in (302, 303) and urllib.parse.urlsplit(e.location).path == "/sign-in")
            or (e.status in (302, 303) and urllib.parse.urlsplit(e.location).path == "/lock")
        ]
        if target.path != "/sign-in" and len(lost) > len(on_target) // 10:
            run.problems.append(
                f"the session was lost: {len(lost)} of {len(on_target)} answers ask to sign in"
            )
    elif target.protected:
        open_ = [e for e in on_target if e.status == 200]
        if open_:
            run.findings.append(
                f"{len(open_)} answers 200 without a session, e.g. {open_[0].target[:300]}"
            )


def server_errors(log: Path, offset: int) -> list[str]:
    if not log.exists():
        return []
    text = log.read_text(encoding="utf-8", errors="replace")[offset:]
    return [line for line in text.splitlines() if " ERROR " in line or " CRITICAL " in line]


def statuses(exchanges: list[Exchange]) -> str:
    counts = Counter(e.status for e in exchanges)
    return " ".join(f"{status}x{n}" for status, n in sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--tools-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "sheaf-security-tools",
        help="the venv holding sqlmap and wapiti (created if missing)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder afterwards")
    parser.add_argument("--sqlmap-level", type=int, choices=range(1, 6), default=SQLMAP_LEVEL)
    parser.add_argument("--sqlmap-risk", type=int, choices=range(1, 4), default=SQLMAP_RISK)
    parser.add_argument(
        "--tool", choices=["sqlmap", "wapiti"], action="append", help="run only this tool"
    )
    args = parser.parse_args(argv)
    if not APP_PYTHON.exists():
        print(f"security scan: {APP_PYTHON} is missing; run `make test` once first.")
        return 2

    started = time.monotonic()
    tools_dir = args.tools_dir.resolve()
    level, risk = args.sqlmap_level, args.sqlmap_risk
    versions = ensure_tools(tools_dir)
    sheaf_version = run_quiet([str(APP_PYTHON), "-m", "desktop.cli", "--version"], cwd=REPO)
    work = Path(tempfile.mkdtemp(prefix="sheaf-security-"))
    data_dir = work / "data"
    print(f"Work folder: {work}")
    seeded = seed(data_dir, work)
    port = free_port()
    base = f"http://{HOST}:{port}"
    server = start_server(data_dir, port, work / "server.log")
    proxy = CountingProxy(port)
    proxy.start()
    sheaf_log = data_dir / "logs" / "sheaf.log"
    log_offset = sheaf_log.stat().st_size if sheaf_log.exists() else 0
    print(f"{sheaf_version.strip()} serving {data_dir} on {base}; scan proxy on {proxy.url}")
    print(f"Tools: sqlmap {versions['sqlmap']}, wapiti {versions['wapiti3']} ({tools_dir})")
    print(
        f"sqlmap: --level={level} --risk={risk} --technique=BEUSTQ --dbms=SQLite; "
        f"wapiti: --scope url -m {','.join(WAPITI_MODULES)}\n"
    )

    tools = args.tool or ["sqlmap", "wapiti"]
    results: list[RunResult] = []

    def scan(run: RunResult, target: Target | None, action: Callable[[RunResult], None]) -> None:
        run.folder = work / run.tool / f"{len(results):02d}-{'auth' if run.signed_in else 'anon'}"
        print(f"-> {run.label}", flush=True)
        run.exchanges = proxy.begin(run.label)
        clock = time.monotonic()
        action(run)
        run.seconds = time.monotonic() - clock
        proxy.begin("idle")
        if target is not None:
            check_traffic(run, target)
        results.append(run)
        print(
            f"   {len(run.exchanges)} requests in {run.seconds:.0f} s ({statuses(run.exchanges)});"
            f" findings: {len(run.findings)}"
            + (f"; dismissed: {len(run.dismissed)}" if run.dismissed else "")
            + (f"; PROBLEMS: {len(run.problems)}" if run.problems else ""),
            flush=True,
        )

    try:
        for tool in tools:
            for signed_in in (False, True):
                for target in targets(seeded["dataset"], signed_in):
                    cookie = sign_in(base, ADMIN, seeded["password"]) if signed_in else ""
                    if tool == "sqlmap":
                        action = partial(
                            run_sqlmap, tools_dir, proxy, base, target, cookie, level, risk
                        )
                    else:
                        action = partial(run_wapiti, tools_dir, proxy, base, target, cookie)
                    scan(RunResult(tool, target.name, signed_in), target, action)
        scan(
            RunResult("csrf probe", "sign-in form token", False),
            None,
            partial(check_csrf, base, proxy),
        )
        # The admin must still be able to sign in: the scan locked nobody out.
        sign_in(base, ADMIN, seeded["password"])
    finally:
        proxy.stop()
        stop_server(server)

    logged_errors = server_errors(sheaf_log, log_offset)
    elapsed = time.monotonic() - started
    findings = sum(len(r.findings) for r in results) + len(logged_errors)
    problems = sum(len(r.problems) for r in results) + len(proxy.refused)

    print("\n=== Security scan summary ===")
    print(f"{sheaf_version.strip()}; sqlmap {versions['sqlmap']}; wapiti {versions['wapiti3']}")
    width = max(len(r.label) for r in results)
    print(f"{'tool | session | target':<{width}}  requests  seconds  findings  dismissed")
    for run in results:
        print(
            f"{run.label:<{width}}  {len(run.exchanges):>8}  {run.seconds:>7.0f}"
            f"  {len(run.findings):>8}  {len(run.dismissed):>9}"
        )
    for tool in dict.fromkeys(r.tool for r in results):
        mine = [r for r in results if r.tool == tool]
        print(
            f"{tool}: {sum(len(r.exchanges) for r in mine)} requests, "
            f"{sum(len(r.findings) for r in mine)} findings, "
            f"{sum(len(r.dismissed) for r in mine)} dismissed, {sum(r.seconds for r in mine):.0f} s"
        )
    print(
        f"Total: {sum(len(r.exchanges) for r in results)} requests, {findings} findings, "
        f"{elapsed:.0f} s (set-up included); server log errors: {len(logged_errors)}"
    )
    for run in results:
        for line in run.findings:
            print(f"FINDING    {run.label}: {line}")
        for line in run.problems:
            print(f"PROBLEM    {run.label}: {line}")
        for line in run.dismissed:
            print(f"dismissed  {run.label}: {line}")
        for line in sorted(set(run.notes)):
            print(f"info       {run.label}: {line}")
    for line in logged_errors:
        print(f"FINDING    server log: {line}")
    for line in proxy.refused:
        print(f"PROBLEM    proxy refused an off-target request: {line}")

    if findings or problems or args.keep:
        print(f"Logs, reports and sqlmap traffic kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if findings:
        print(f"FAILED: {findings} finding(s).")
        return 1
    if problems:
        print(f"FAILED: the scan did not run cleanly ({problems} problem(s)).")
        return 2
    print("PASSED: no findings.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
