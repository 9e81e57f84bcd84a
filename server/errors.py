"""Error pages in the app's style. Unexpected errors are logged and shown without details."""

from __future__ import annotations

import errno
import sqlite3

import peewee
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

MESSAGES = {
    400: ("Bad request", "Sheaf could not understand that request."),
    401: ("Sign-in needed", "Sign in to see this page."),
    403: ("Not allowed", "Your role does not allow this. Ask an admin if you need it."),
    404: ("Not found", "There is nothing here, or it is not shared with you."),
    405: ("Not allowed here", "This page cannot be used that way."),
    413: ("Too large", "That upload is larger than this Sheaf accepts."),
    507: (
        "The disk is full",
        "The disk that holds Sheaf's data is full, so nothing was changed and nothing is lost. "
        "Free some space (or ask your admin to), then try again.",
    ),
    500: (
        "Something went wrong",
        "Sheaf hit an unexpected problem. It has been logged; "
        "nothing you saved is lost. Try again, or tell your admin.",
    ),
}


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(code, (f"Error {code}", ""))
    return render_template(
        "errors/error.html", code=code, title=title, message=detail or message
    ), code


def _http_error(error: HTTPException) -> tuple[str, int]:
    return render_error(error.code or 500)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_error(
        400,
        "This form expired or did not come from Sheaf. Go back, reload the page and try again.",
    )


def _unknown_host(error: SecurityError) -> tuple[str, int, dict[str, str]]:
    # A Host outside TRUSTED_HOSTS (DNS rebinding, a mistyped name): no page can be drawn,
    # since no URL can be built for a host Sheaf does not answer to.
    return "Unknown host.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}


def disk_full(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) is a full disk, from SQLite or the system."""
    while error is not None:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if isinstance(error, sqlite3.OperationalError | peewee.OperationalError) and (
            "disk is full" in str(error) or "database or disk is full" in str(error)
        ):
            return True
        error = error.__cause__ or error.__context__
    return False


def _unexpected(error: InternalServerError):
    full = disk_full(error.original_exception)
    if request.path.startswith("/api/"):  # the API answers in JSON, even now
        if full:
            return jsonify(error=MESSAGES[507][1]), 507
        return jsonify(error="Sheaf hit an unexpected problem; it has been logged."), 500
    return render_error(507 if full else 500)


def init_app(app: Flask) -> None:
    app.register_error_handler(SecurityError, _unknown_host)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _unexpected)
