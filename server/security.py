"""Response headers that make the pages hard to misuse (CSP, no sniffing, no framing, no
caching), and in serve mode no state-changing request from another site's page."""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    # same-origin, not no-referrer: with no-referrer, Chromium (and so the desktop window's
    # Qt WebEngine) sends "Origin: null" on form posts, which the desktop lockdown refuses.
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    if current_app.config.get("TLS"):  # served over HTTPS: browsers keep to it
        headers["Strict-Transport-Security"] = "max-age=31536000"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "static":
        # Pages carry data only their reader may see: never keep them in a cache.
        headers["Cache-Control"] = "no-store"
    return response


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _foreign_origin() -> Response | None:
    """Serve mode: a POST whose Origin is another site (or "null": a sandboxed frame, a
    file) is refused before anything reads it, on top of the CSRF token. Browsers always
    send Origin on such requests; a request without one (a script) still needs the token.
    The desktop mode has its own, stricter check (server/lockdown.py)."""
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin is None or origin == f"{request.scheme}://{request.host}":
        return None
    response = Response("Requests from other sites are refused.\n", 403, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


class _HostsInLowerCase:
    """Host names are case-insensitive, but Werkzeug compares them with TRUSTED_HOSTS exactly:
    a computer called "DESKTOP-AB12CD" got 400 for every request by name. Both sides in lower
    case, before Flask sees the request."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if "HTTP_HOST" in environ:
            environ["HTTP_HOST"] = environ["HTTP_HOST"].lower()
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="sheaf_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which idles out
    )
    app.after_request(_add_headers)
    if app.config.get("SERVING"):
        app.before_request(_foreign_origin)
    if app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = [name.lower() for name in app.config["TRUSTED_HOSTS"]]
        app.wsgi_app = _HostsInLowerCase(app.wsgi_app)
