"""Desktop mode: only the Sheaf window may talk to the server.

The shell makes a random secret for each launch and opens the window on ``/launch?token=…``,
which trades it for an HttpOnly, SameSite=Strict cookie. Every other request without that cookie
is refused, so other local users and web pages in other browsers get nothing; the Host header
must name this server exactly (DNS rebinding); a state-changing request from a foreign Origin is
refused (CSRF from another site, on top of the CSRF token).
"""

from __future__ import annotations

import hmac

from flask import Flask, Response, abort, redirect, request, url_for

COOKIE = "sheaf_launch"


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
        token = request.args.get("token", "")
        if not hmac.compare_digest(token.encode(), secret.encode()):
            return _refuse(403, "This launch link is not valid. Start Sheaf again.")
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
