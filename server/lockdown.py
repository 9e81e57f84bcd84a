"""Desktop mode: only the Sheaf window may talk to the server.

The shell makes a random secret for each launch, kept in an HttpOnly, SameSite=Strict cookie
that the window gets from ``/launch?token=…``. The token in that link is another secret, good
for one use within a minute (:class:`LaunchTokens`), so a link seen on a command line or in a
history is worth nothing. Every other request without that cookie
is refused, so other local users and web pages in other browsers get nothing; the Host header
must name this server exactly (DNS rebinding); a state-changing request from a foreign Origin is
refused (CSRF from another site, on top of the CSRF token).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time

from flask import Flask, Response, abort, redirect, request, url_for

COOKIE = "sheaf_launch"
TOKEN_SECONDS = 60
EXTENSION = "sheaf.launch_tokens"


class LaunchTokens:
    """One-time launch tokens: each lets one window or browser tab in, within a minute."""

    def __init__(self, seconds: float = TOKEN_SECONDS) -> None:
        self.seconds = seconds
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._until = {t: u for t, u in self._until.items() if u > now}
            self._until[token] = now + self.seconds
        return token

    def take(self, token: str) -> bool:
        """Whether ``token`` is valid now; either way it is used up."""
        with self._lock:
            found = next((t for t in self._until if hmac.compare_digest(t, token)), None)
            until = self._until.pop(found, 0.0) if found else 0.0
        return until > time.monotonic()


def launch_link(app: Flask) -> str:
    """A fresh one-time link into the locked app (the shell opens or prints it)."""
    return f"http://{app.config['LAUNCH_HOST']}/launch?token={app.extensions[EXTENSION].issue()}"


def _refuse(status: int, text: str) -> Response:
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def _guard(app: Flask) -> Response | None:
    secret = app.config["LAUNCH_SECRET"]
    host = app.config["LAUNCH_HOST"]  # "127.0.0.1:<port>"
    if request.host != host:
        return _refuse(400, "Unknown host.")
    origin = request.headers.get("Origin")
    if request.method not in ("GET", "HEAD", "OPTIONS") and origin not in (None, f"http://{host}"):
        return _refuse(403, "Requests from other sites are refused.")
    if request.path == "/launch":
        if not app.extensions[EXTENSION].take(request.args.get("token", "")):
            return _refuse(
                403, "This launch link was used already or is over a minute old. Start Sheaf again."
            )
        # Straight to the sign-in page (a new window is never signed in; it sends a person
        # who is on to their home page, and to set-up when there is no account yet): every
        # redirect is one more page load before the window shows anything.
        response = redirect(url_for("auth.sign_in"))
        response.set_cookie(COOKIE, secret, httponly=True, samesite="Strict", path="/")
        return response
    if not hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), secret.encode()):
        return _refuse(403, "Open Sheaf from its own window.")
    return None


def init_app(app: Flask) -> None:
    """Lock the app to one launch (only when the shell configured LAUNCH_SECRET).

    Call it before any other ``init_app`` that adds a before-request hook: Flask runs them in
    the order they were added, and this one must come before all, the database connection
    included (tests/desktop/test_lockdown.py checks it)."""
    if not app.config.get("LAUNCH_SECRET"):
        return
    app.extensions[EXTENSION] = LaunchTokens()

    @app.before_request
    def _lockdown() -> Response | None:
        return _guard(app)

    @app.route("/launch")
    def launch() -> Response:  # answered by the guard; reaching here means a bad token
        abort(403)

    @app.route("/desktop/raise", methods=["POST"])
    def raise_window() -> Response:
        """A second start of Sheaf asks the running one to show its window. Only a process
        that can read the instance file (the folder's owner) knows the secret this needs."""
        callback = app.extensions.get("sheaf.raise_window")
        if callback is None:  # serving to a browser: there is no window to show
            abort(404)
        callback()
        return Response(status=204)

    from .auth.session import csrf

    csrf.exempt(raise_window)  # no page posts here; the launch secret is the credential
    raise_window.sheaf_launch_only = True  # no sign-in either: the shell is not a person
