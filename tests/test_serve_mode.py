"""`sheaf serve` for a small network: HTTPS with a certificate, only the allowed host names,
and the data folder's lock shared with the desktop app. Each test starts the real command."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.cli import allowed_hosts, main
from server.folder_lock import FolderInUse, lock_data_folder
from tests.helpers import PASSWORD, HttpSession

FAST = {
    "SHEAF_ARGON2_TIME_COST": "1",
    "SHEAF_ARGON2_MEMORY_COST": "8",
    "SHEAF_ARGON2_PARALLELISM": "1",
}


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _serve(
    data_dir: Path, port: int, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop.cli", "--data-dir", str(data_dir), "serve",
         "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **FAST, **(env or {})},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if process.poll() is not None:
            raise AssertionError(process.stdout.read())
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the server did not start")


def _stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        out, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


def test_with_a_certificate_it_serves_https_only(tmp_path, certificate):
    cert, key = certificate
    port = _port()
    process = _serve(tmp_path / "data", port, "--cert", str(cert), "--key", str(key))
    try:
        context = ssl.create_default_context(cafile=str(cert))
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
        connection.request("GET", "/setup")
        answer = connection.getresponse()
        assert answer.status == 200
        assert answer.getheader("Strict-Transport-Security") == "max-age=31536000"
        cookie = answer.getheader("Set-Cookie") or ""
        assert "Secure" in cookie and "HttpOnly" in cookie
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            plain.request("GET", "/setup")
            assert plain.getresponse().status >= 400
    finally:
        out = _stop(process)
    assert f"https://127.0.0.1:{port}/" in out


def test_a_host_name_that_is_not_allowed_is_refused(tmp_path):
    port = _port()
    process = _serve(tmp_path / "data", port, "--allowed-host", "sheaf.office.lan")
    try:
        for host, expected in (("evil.example", 400), ("sheaf.office.lan", 200)):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/setup", headers={"Host": f"{host}:{port}"})
            assert connection.getresponse().status == expected, host
    finally:
        _stop(process)


def test_sign_ins_from_one_computer_are_rationed(tmp_path):
    from server.db import database
    from tests.helpers import HttpSession, make_app, make_user

    app = make_app(tmp_path / "data")
    with app.app_context(), database.connection_context():
        make_user("vera")
    port = _port()
    process = _serve(tmp_path / "data", port, env={"SHEAF_SIGN_IN_PER_MINUTE": "2"})
    try:
        tab = HttpSession(port)
        _page, token = tab.csrf("/sign-in")
        fields = {"login": "vera", "password": "wrong wrong", "csrf_token": token}
        statuses = [tab.request("POST", "/sign-in", fields)[0] for _ in range(3)]
    finally:
        _stop(process)
    assert statuses == [401, 401, 429]


def test_a_network_address_needs_a_certificate_or_consent(tmp_path, capsys, certificate):
    assert main(["--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0"]) == 2
    assert "--cert and --key" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "serve", "--cert", str(certificate[0])]) == 2
    assert "both --cert and --key" in capsys.readouterr().err


def test_the_default_allowed_hosts_are_this_computers_names():
    assert allowed_hosts("127.0.0.1") == ["localhost", "127.0.0.1", "::1"]
    network = allowed_hosts("0.0.0.0")
    assert socket.gethostname() in network and "0.0.0.0" not in network
    assert "192.168.1.20" in allowed_hosts("192.168.1.20")


def test_the_desktop_app_cannot_open_a_folder_a_server_is_using(tmp_path):
    port = _port()
    process = _serve(tmp_path / "data", port)
    try:
        with pytest.raises(FolderInUse):
            lock_data_folder(tmp_path / "data")
        desktop = subprocess.run(
            [sys.executable, "-m", "desktop.cli", "--data-dir", str(tmp_path / "data")],
            capture_output=True, text=True, timeout=60,
            env={k: v for k, v in os.environ.items() if k != "DISPLAY"},
        )  # fmt: skip
        assert desktop.returncode != 0
        assert re.search(r"in use|already", desktop.stderr + desktop.stdout)
    finally:
        _stop(process)


def _half_sent(port: int, context: ssl.SSLContext) -> socket.socket:
    """A client that finished TLS and then sends only half of its request headers."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    tls = context.wrap_socket(raw, server_hostname="127.0.0.1")
    tls.sendall(b"GET /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return tls


def test_https_keeps_answering_while_clients_stall(tmp_path, certificate):
    """Three connections that never start TLS and twenty that stop halfway through their
    headers: a normal visitor is still answered at once (the threaded server before took
    the whole timeout: bench/serve_bench.py measures both)."""
    cert, key = certificate
    port = _port()
    process = _serve(tmp_path / "data", port, "--cert", str(cert), "--key", str(key))
    context = ssl.create_default_context(cafile=str(cert))
    held = []
    try:
        held += [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        held += [_half_sent(port, context) for _ in range(20)]
        for _ in range(5):
            began = time.monotonic()
            tab = HttpSession(port, timeout=10, tls=context)
            assert tab.request("GET", "/setup")[0] == 200
            assert time.monotonic() - began < 3
    finally:
        for sock in held:
            sock.close()
        _stop(process)


def test_over_https_sign_in_posts_work_and_other_sites_are_refused(tmp_path, certificate):
    from server.db import database
    from server.models import User
    from tests.helpers import make_app, make_user

    app = make_app(tmp_path / "data")
    with app.app_context(), database.connection_context():
        make_user("vera")
    cert, key = certificate
    port = _port()
    process = _serve(tmp_path / "data", port, "--cert", str(cert), "--key", str(key))
    try:
        tab = HttpSession(port, timeout=10, tls=ssl.create_default_context(cafile=str(cert)))
        _page, token = tab.csrf("/sign-in")
        fields = {"login": "vera", "password": "wrong wrong", "csrf_token": token}
        for origin in ("https://evil.example", "null", f"http://127.0.0.1:{port}"):
            status, _, text = tab.request("POST", "/sign-in", fields, headers={"Origin": origin})
            assert (status, text) == (403, "Requests from other sites are refused.\n"), origin
        with app.app_context(), database.connection_context():
            assert User.get(User.login == "vera").failed_attempts == 0  # never reached
        # Flask-WTF also wants a same-site Referer over HTTPS, as browsers send it.
        referer = {"Referer": f"https://127.0.0.1:{port}/sign-in"}
        own = {"Origin": f"https://127.0.0.1:{port}", **referer}
        assert tab.request("POST", "/sign-in", fields, headers=own)[0] == 401
        right = {**fields, "password": PASSWORD}
        status, headers, _ = tab.request("POST", "/sign-in", right, headers=referer)  # no Origin
        assert status == 302 and "/sign-in" not in headers["Location"]
    finally:
        _stop(process)


def test_plain_serve_mode_refuses_posts_from_other_sites(tmp_path):
    port = _port()
    process = _serve(tmp_path / "data", port)
    try:
        tab = HttpSession(port)
        _page, token = tab.csrf("/setup")
        fields = {"csrf_token": token, "login": "ada", "display_name": "Ada"}
        status, _, _ = tab.request("POST", "/setup", fields, headers={"Origin": "http://x.test"})
        assert status == 403
    finally:
        _stop(process)
    from server.db import database
    from server.models import User
    from tests.helpers import make_app

    with make_app(tmp_path / "data").app_context(), database.connection_context():
        assert User.select().count() == 0  # the set-up form from another site changed nothing


def test_the_inner_port_serves_only_what_came_through_the_front():
    from desktop.tls_front import CONNECTIONS_PER_CLIENT, Peers, behind_front

    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [])
        return [b"ok"]

    peers = Peers()
    wrapped = behind_front(app, peers)
    statuses = []
    environ = {"REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50001", "wsgi.url_scheme": "http"}
    body = wrapped(dict(environ), lambda status, headers: statuses.append(status))
    assert statuses == ["403 Forbidden"] and b"https://" in b"".join(body) and not seen
    peers.carry(50001, "192.168.1.7")
    assert wrapped(dict(environ), lambda status, headers: statuses.append(status)) == [b"ok"]
    assert seen["REMOTE_ADDR"] == "192.168.1.7" and seen["wsgi.url_scheme"] == "https"
    peers.drop(50001)
    assert peers.client_of(50001) is None
    assert all(peers.admit("10.0.0.9") for _ in range(CONNECTIONS_PER_CLIENT))
    assert not peers.admit("10.0.0.9") and peers.admit("10.0.0.10")
    peers.leave("10.0.0.9")
    assert peers.admit("10.0.0.9")


def test_host_names_are_compared_without_regard_to_case(tmp_path):
    """Windows names computers in capitals ("DESKTOP-AB12CD"); browsers send them in lower
    case; either way round must be let in."""
    port = _port()
    process = _serve(
        tmp_path / "data", port, "--allowed-host", "DESKTOP-AB12CD", "--allowed-host", "sheaf.lan"
    )
    try:
        for host in ("desktop-ab12cd", "DESKTOP-AB12CD", "Desktop-Ab12cd", "SHEAF.LAN"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/setup", headers={"Host": f"{host}:{port}"})
            assert connection.getresponse().status == 200, host
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/setup", headers={"Host": f"DESKTOP-EVIL:{port}"})
        assert connection.getresponse().status == 400
    finally:
        _stop(process)
