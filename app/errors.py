"""Turn every failure into a clear answer: JSON for machines, a page for people, never a traceback.

Why one module: trigger callers and API clients need the same error shape everywhere
(`{"error": {"code", "message", "details"?}, "request_id"}`), and the request id in every answer
is what lets a user and an operator talk about the same request.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from urllib.parse import unquote_to_bytes

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.json_body import LIST_LIMIT, abridged_details
from app.services.runs.write_gate import DatabaseBusy

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
JSON_PREFIXES = ("/api/", "/hooks/", "/v1/")
OPENAI_PREFIX = "/v1/"
MAX_MESSAGE_CHARS = 2000
# Bounds for reading away a body refused with 413 (see `_drain_refused_body`).
DRAIN_MAX_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 10.0
# OpenAI's error `type` per status; clients (the official SDKs) pick their exception by status.
OPENAI_TYPES = {401: "invalid_request_error", 403: "permission_error", 404: "invalid_request_error",
                429: "requests"}


class ApiError(Exception):
    """An expected failure with a status code and a message that says what to fix."""

    def __init__(self, status: int, code: str, message: str, details=None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


class NotFound(ApiError):
    """A resource that does not exist, or that the caller may not see: a page or JSON, per blueprint.

    The loaders in `app.blueprints.loaders` raise it from page and API views alike; the handler
    below picks the shape (JSON under the API prefixes, the error page elsewhere).
    """

    def __init__(self, code: str, message: str):
        super().__init__(404, code, message)


def request_id() -> str:
    return getattr(g, "request_id", None) or "-"


def error_response(status: int, code: str, message: str, details=None, headers: dict | None = None):
    """Answer an error as JSON, its message and details capped so any answer stays small.

    Details are capped here, for every endpoint at once: at most `LIST_LIMIT` entries (and
    `details_total` when there were more), every text in them abridged (`abridged_details`).
    """
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "…"
    if request.path.startswith(OPENAI_PREFIX):
        body = _openai_error(status, code, message, details)
    else:
        body = {"error": {"code": code, "message": message}, "request_id": request_id()}
        if details is not None:
            body["error"]["details"] = abridged_details(details)
        if isinstance(details, list) and len(details) > LIST_LIMIT:
            body["error"]["details_total"] = len(details)
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _openai_error(status: int, code: str, message: str, details) -> dict:
    """Shape an error as OpenAI does: {"error": {"message", "type", "param", "code"}}.

    The OpenAI-compatible endpoints promise that shape to every client, for our own failures
    (a 404 route, a 413 body, a 500) as much as for a bad request.
    """
    param = details.get("param") if isinstance(details, dict) else None
    kind = "server_error" if status >= 500 else OPENAI_TYPES.get(status, "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES):
        return True
    return request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    """Register the request hooks and error handlers; call before any extension adds its hooks."""
    _register_hooks(app)
    _register_handlers(app)


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else "req_" + secrets.token_hex(10)

    @app.before_request
    def keep_json_bodies():
        """Read a JSON endpoint's body into memory before anything parses it as a form.

        Why: reading `request.form` consumes the body of a request labelled as a form (`curl -d`
        sends JSON that way), and the endpoint then saw an empty body. Once cached, a form parse
        reads a copy, and every body-taking endpoint parses the bytes as JSON whatever the label.
        """
        if request.path.startswith(JSON_PREFIXES) and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            request.get_data(cache=True)

    @app.before_request
    def refuse_forms_that_are_not_text():
        """A urlencoded form whose bytes are not UTF-8 (how a script sends a lone surrogate; a
        browser cannot) lost those fields silently in Werkzeug's parser, CSRF token included, so
        the page said "The CSRF token is missing." Say what is actually wrong instead. The body
        is read once and cached; the form is then parsed from that copy."""
        if request.path.startswith(JSON_PREFIXES) or request.mimetype != "application/x-www-form-urlencoded":
            return None
        try:
            unquote_to_bytes(request.get_data(cache=True)).decode("utf-8")
        except UnicodeDecodeError:
            message = "The form contains characters that are not valid text (UTF-8); remove them and send it again."
            return _invalid_text(message, message)
        return None

    @app.before_request
    def refuse_nul_characters():
        """A NUL in the path, a query argument or a form field can never be stored or looked up
        (PostgreSQL refuses it); say so up front instead of failing deep inside a query. JSON
        endpoints take no form fields; their bodies are checked by `app.json_body`."""
        sources = (request.args,) if request.path.startswith(JSON_PREFIXES) else (request.args, request.form)
        if "\x00" in request.path or any("\x00" in value for source in sources for value in source.values()):
            return _invalid_text("Text must not contain the NUL character (\\u0000).",
                                 "Text must not contain the NUL character.")

    @app.after_request
    def expose_request_id(response):
        response.headers["X-Request-Id"] = request_id()
        return response


def _invalid_text(api_message: str, page_message: str):
    """Refuse text that can never be stored or read (400 `invalid_text`): JSON for the API, a page for people."""
    if wants_json():
        return error_response(400, "invalid_text", api_message)
    return render_template("error.html", status=400, message=page_message), 400


def _register_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError):
        if wants_json():
            return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
        return render_template("error.html", status=exc.status, message=exc.message), exc.status, exc.headers

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        if wants_json():
            return error_response(400, "csrf_failed", f"{exc.description} Reload the page and try again.")
        return render_template("error.html", status=400, message=exc.description), 400

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        status = exc.code or 500
        if status == 413:
            _drain_refused_body()
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = f"The request body is larger than the limit of {limit} bytes."
            code = "body_too_large"
        else:
            message = exc.description or exc.name
            code = exc.name.lower().replace(" ", "_")
        if wants_json():
            return error_response(status, code, message)
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(OperationalError)
    @app.errorhandler(DatabaseBusy)
    def handle_database_down(exc: Exception):
        """503 with Retry-After when the database is down or locked elsewhere past the busy timeout."""
        log.error("database unavailable request_id=%s: %s", request_id(), getattr(exc, "orig", exc))
        _rollback_quietly()
        message = "The database is unavailable; nothing was saved. Retry in a few seconds."
        if wants_json():
            return error_response(503, "database_unavailable", message, headers={"Retry-After": "5"})
        return render_template("error.html", status=503, message=message), 503

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error request_id=%s", request_id())
        _rollback_quietly()
        message = f"Something went wrong on our side. Quote request id {request_id()} when reporting it."
        if wants_json():
            return error_response(500, "internal_error", message)
        return render_template("error.html", status=500, message=message), 500


def _drain_refused_body(max_bytes: int = DRAIN_MAX_BYTES, seconds: float = DRAIN_SECONDS) -> None:
    """Read and drop the rest of a body refused as too large, so the connection stays usable.

    Why: the server answers `Connection: keep-alive`, but gunicorn closes a connection whose
    unread body is over 64 KiB, so the client's next request on it failed (and a client still
    sending got a broken pipe instead of the 413). Reading the rest keeps the promise; the drain
    is bounded in bytes and time (the socket gets a timeout meanwhile) so a client trickling a
    huge body cannot hold a thread.
    """
    stream = request.environ.get("wsgi.input")
    sock = request.environ.get("gunicorn.socket")
    if stream is None or (request.content_length or 0) > max_bytes:
        return  # too much to read away: `app.processes.gunicorn_conf.pre_request` has said `Connection: close`
    deadline = time.monotonic() + seconds
    previous = sock.gettimeout() if sock is not None else None
    drained = 0
    try:
        while drained < max_bytes and (remaining := deadline - time.monotonic()) > 0:
            if sock is not None:
                sock.settimeout(remaining)
            chunk = stream.read(64 * 1024)
            if not chunk:
                return
            drained += len(chunk)
    except (OSError, ValueError):  # a timeout or a client that went away: the server closes, as before
        pass
    finally:
        if sock is not None:
            try:
                sock.settimeout(previous)
            except OSError:
                pass


def _rollback_quietly() -> None:
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone; the session is discarded at teardown
        pass
