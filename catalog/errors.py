"""Error pages: JSON `{"error", "details"}` for /api/ and *.json, friendly HTML elsewhere, never a trace."""

from __future__ import annotations

import logging
from decimal import InvalidOperation

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from catalog.extensions import db
from catalog.services.errors import ServiceError

log = logging.getLogger(__name__)

TEMPLATED = {400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503}


def wants_json() -> bool:
    path = request.path
    return path.startswith(("/api/", "/reconcile")) or path.endswith(".json")


def error_response(status: int, error: str, details=None, description: str | None = None):
    """Render one error in the shape the client expects."""
    if wants_json():
        response = jsonify({"error": error, "details": details if details is not None else []})
        response.status_code = status
        return response
    template = f"errors/{status}.html" if status in TEMPLATED else "errors/generic.html"
    return (
        render_template(
            template, status=status, error=error, description=description or error, details=details
        ),
        status,
    )


def csrf_error_response(exc: CSRFError):
    """The answer to a form posted without a valid security token (nothing was done)."""
    return error_response(
        400,
        "The form expired or was sent from another page. Go back, reload it and try again.",
        details=[exc.description],
    )


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; the next request gets a fresh one
        log.warning("rollback after error failed", exc_info=True)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error_response)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code and exc.code >= 500:
            _rollback()
        status = exc.code or 500
        if status == 413:
            limit = app.config.get("MAX_UPLOAD_MB")
            return error_response(
                413,
                f"The file is too large: the limit is {limit:g} MB.",
                details=[f"Uploads may be at most {limit:g} MB."],
            )
        response = error_response(status, exc.description or exc.name)
        if status == 405 and getattr(exc, "valid_methods", None):
            response = _with_header(response, "Allow", ", ".join(exc.valid_methods))
        return response

    @app.errorhandler(ServiceError)
    def _service(exc: ServiceError):
        # A service refusal no view caught (e.g. CATALOG_JURISDICTION names an unknown code).
        _rollback()
        return error_response(exc.status, exc.message, details=exc.details or None)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    @app.errorhandler(InvalidOperation)
    def _number_out_of_range(exc: Exception):
        # The last line for numbers a user typed that no parser bounded: an id or page past
        # 64 bits (SQLite's OverflowError, PostgreSQL's "out of range"), a NaN or 1e999999 in
        # decimal arithmetic. A clear 400, not a 500 or a "database is down" 503.
        _rollback()
        log.info("number out of range on %s %s: %s", request.method, request.path, exc)
        return error_response(
            400,
            "A number in the request is out of range (too large, or not a finite number).",
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _database(exc: Exception):
        _rollback()
        log.error("database error", exc_info=exc)
        return error_response(
            503, "The database is not answering right now. Please try again in a moment."
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        _rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, InternalServerError.description)


def _with_header(response, name: str, value: str):
    if isinstance(response, tuple):
        body, status = response
        return body, status, {name: value}
    response.headers[name] = value
    return response
