"""Helpers that several test modules share: an app on a temporary data folder, people, datasets
and imports made directly, and clients that post forms the way a browser does (with the CSRF
token from the page). Test modules import these from here, never from a conftest or from each
other (tests/test_architecture.py checks)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import create_app, file_removal
from server.auth.passwords import make_hasher
from server.datasets.storage import Column
from server.models import Dataset, ImportJob, Role, RolePermission, User, name_key
from server.sqlite_files import connect

# Argon2 at its cheapest: the tests exercise the logic, not the cost.
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
HASHER = make_hasher(1, 8, 1)
PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(__file__).parent / "artifacts"

_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Client(FlaskClient):
    """A test client that can fetch a CSRF token and post forms with it."""

    def csrf_token(self) -> str:
        page = self.get("/", follow_redirects=True).get_data(as_text=True)
        match = _TOKEN.search(page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)

    def sign_in(self, login: str, password: str = PASSWORD, **kwargs):
        return self.post_form("/sign-in", {"login": login, "password": password}, **kwargs)


def make_app(data_dir: Path, **config) -> Flask:
    app = create_app({"DATA_DIR": data_dir, "TESTING": True, **FAST_HASHING, **config})
    app.test_client_class = Client
    return app


def make_user(
    login: str,
    role: str | Role = "viewer",
    password: str = PASSWORD,
    *,
    display_name: str | None = None,
    must_change_password: bool = False,
    active: bool = True,
) -> User:
    if isinstance(role, str):
        role = Role.get(Role.builtin == role)
    return User.create(
        login=login,
        login_key=name_key(login),
        display_name=display_name or login.title(),
        password_hash=HASHER.hash(password),
        role=role,
        must_change_password=must_change_password,
        active=active,
    )


def make_role(name: str, permissions: list[str]) -> Role:
    role = Role.create(name=name, name_key=name_key(name))
    for permission in permissions:
        RolePermission.create(role=role, permission=permission)
    return role


def signed_in(app: Flask, login: str) -> Client:
    client = app.test_client()
    response = client.sign_in(login)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def make_dataset(
    app: Flask, owner: User, csv_text: str = "id,name\n1,Ada\n2,Grace\n", name: str = "People"
) -> Dataset:
    """A dataset owned by ``owner``, imported from ``csv_text`` the way an import does it."""
    import secrets

    from server.datasets.catalog import dataset_file
    from server.datasets.loading.pipeline import load_file
    from server.datasets.versions import new_dataset

    source = Path(app.config["DATA_DIR"]) / f"source-{secrets.token_hex(4)}.csv"
    source.write_text(csv_text, encoding="utf-8")
    key = secrets.token_hex(16)
    outcome = load_file(source, dataset_file(app.config["DATA_DIR"], key))
    source.unlink()
    return new_dataset(name, owner, key, outcome.columns, outcome.result.rows, "Imported")


def make_import(
    app: Flask, owner: User, status: str = "ready", content: bytes = b"id,name\n1,Ada\n"
) -> ImportJob:
    """An import of ``owner``'s, its file stored as an upload would be."""
    import hashlib
    import secrets

    from server.datasets.loading.jobs import originals_dir

    key = secrets.token_hex(16)
    (originals_dir(app.config["DATA_DIR"]) / key).write_bytes(content)
    return ImportJob.create(
        user=owner,
        file_name="upload.csv",
        file_size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_key=key,
        status=status,
    )


def read_rows(path: Path, columns: list[Column], limit: int, offset_rowid: int = 0) -> list[tuple]:
    """Rows after ``offset_rowid`` in storage order (keyset, never OFFSET)."""
    con = connect(path)
    try:
        names = ", ".join(c.name for c in columns)
        return con.execute(
            f"SELECT rowid, {names} FROM rows WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (offset_rowid, limit),
        ).fetchall()
    finally:
        con.close()


# Debian's headless Chromium driven by Playwright, shared by the browser and package tests.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    """Skip the test, naming what to install, without Chromium or Playwright."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: install the Debian package `chromium`")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright is missing: install the pip package `playwright`")


@contextmanager
def served(app: Flask, threads: int = 4) -> Iterator[int]:
    """``app`` served by waitress on a free loopback port in a thread; yields the port."""
    import threading

    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.close()
        thread.join(timeout=5)


class HttpSession:
    """A person's browser tab against a real server on loopback: one keep-alive connection
    and its cookies, for tests that must not use Flask's test client (it hides header encoding
    and concurrency)."""

    TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

    def __init__(self, port: int, timeout: float = 60, tls: object | None = None) -> None:
        """``tls``: an ``ssl.SSLContext`` that trusts the server, for HTTPS."""
        import http.client

        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}
        if tls is None:
            self._connect = lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        else:
            self._connect = lambda: http.client.HTTPSConnection(
                "127.0.0.1", port, timeout=timeout, context=tls
            )
        self._conn = self._connect()

    def request(
        self,
        method: str,
        path: str,
        fields: dict | list | None = None,
        binary: bool = False,
        headers: dict[str, str] | None = None,
    ):
        """(status, headers, body text; or bytes with ``binary``). The headers are as sent:
        http.client reads them as Latin-1, so ``value.encode("latin-1")`` gives the bytes."""
        import urllib.parse

        headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._conn.request(method, path, body=body, headers=headers)
        response = self._conn.getresponse()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        body = response.read()
        if response.will_close:
            self._conn.close()
            self._conn = self._connect()
        return (
            response.status,
            response.headers,
            body if binary else body.decode("utf-8", "replace"),
        )

    def upload(self, path: str, fields: dict[str, str], file: tuple[str, str, bytes]):
        """A multipart form post with one file (its field, its name, its bytes)."""
        import secrets

        boundary = secrets.token_hex(16)
        parts = []
        for key, value in fields.items():
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            parts.append(head.encode() + value.encode() + b"\r\n")
        field, name, content = file
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._conn.request("POST", path, body=body, headers=headers)
        response = self._conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        if response.will_close:
            self._conn.close()
            self._conn = self._connect()
        return response.status, response.headers, text

    def csrf(self, path: str) -> tuple[str, str]:
        """The page at ``path`` and its CSRF token."""
        status, _, page = self.request("GET", path)
        assert status == 200, (path, status)
        return page, self.TOKEN.search(page).group(1)

    def post(self, path: str, fields: dict, token_from: str):
        _page, token = self.csrf(token_from)
        return self.request("POST", path, {**fields, "csrf_token": token})

    def sign_in(self, login: str, password: str = PASSWORD) -> None:
        status, headers, _ = self.post(
            "/sign-in", {"login": login, "password": password}, "/sign-in"
        )
        assert status == 302 and "/sign-in" not in headers.get("Location", ""), status


def deferred_deletions_done(seconds: float = 20) -> None:
    """Wait until the files a start-up or a request could not delete (held by a process, as on
    Windows: tests/windows_rules) are deleted; an orphaned helper lets go of its files once it
    notices its parent is gone."""
    deadline = time.monotonic() + seconds
    while file_removal.waiting() and time.monotonic() < deadline:
        time.sleep(0.1)
        file_removal.retry()
    assert file_removal.waiting() == set(), "files still held"
