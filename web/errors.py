"""Every failure is a short sentence: 400 for bad input, never a traceback.

JSON for the API (``{"error": sentence, "field": name}``), a small page
otherwise. Unexpected exceptions are logged with their traceback and answered
with a sentence.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from gatectl.daemon.loop import NotApplied, StillApplying
from gatectl.errors import GatectlError, StoreError
from gatectl.store import StoreUnavailable

log = logging.getLogger(__name__)

_SENTENCES = {
    400: "The request could not be read.",
    404: "There is nothing here: check the address.",
    405: "That page cannot be used like that (wrong method).",
    413: "That is too much data for one request.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json") or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(status: int, message: str, field: str | None = None):
    if wants_json():
        body = {"error": message}
        if field:
            body["field"] = field
        return body, status
    return render_template("error.html", status=status, message=message, login_next=_back_path()), status


def _back_path() -> str:
    """Where a coach who logs in after a refusal should land: the page they came from."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/") and not referrer.path.startswith(("//", "/login")):
        return referrer.path
    return "/control"


def init_app(app: Flask) -> None:
    @app.errorhandler(GatectlError)
    def bad_input(exc: GatectlError):
        # "There is no run 12." and the like: the thing asked for does not exist.
        status = 404 if isinstance(exc, StoreError) and str(exc).startswith("There is no ") else 400
        return error_response(status, str(exc), getattr(exc, "field", None))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = exc.description if exc.description and exc.description != type(exc).description else None
        code = exc.code or 500
        response = error_response(code, message or _SENTENCES.get(code, exc.name + "."))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            body, status = response
            return body, status, {"Allow": ", ".join(exc.valid_methods)}
        return response

    @app.errorhandler(TimeoutError)
    def daemon_silent(exc: TimeoutError):
        # NotApplied and StillApplying say whether the action was applied: the coach must know before a retry.
        log.error("the daemon did not answer %s %s: %s", request.method, request.path, exc)
        if isinstance(exc, (NotApplied, StillApplying)):
            return error_response(503, str(exc))
        return error_response(503, "The timing daemon did not answer: check that gatectl is still running, then try again.")

    @app.errorhandler(StoreUnavailable)
    def store_busy(exc: StoreUnavailable):
        return error_response(503, f"{exc} Try again in a moment.")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "Something went wrong on the dashboard; it has been logged. Try again, or reload the page.")
