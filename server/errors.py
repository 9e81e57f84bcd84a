"""Error pages in the app's style. Unexpected errors are logged and shown without details."""

from __future__ import annotations

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


def _unexpected(error: InternalServerError):
    if request.path.startswith("/api/"):  # the API answers in JSON, even now
        return jsonify(error="Sheaf hit an unexpected problem; it has been logged."), 500
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(SecurityError, _unknown_host)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _unexpected)
