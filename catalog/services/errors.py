"""Service errors, mapped to HTTP statuses by the views and to exit codes by the CLI."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, details: list | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    """The object changed since the caller read it (stale version)."""

    status = 409


class Invalid(ServiceError):
    """Input breaks a rule; details are [{"row", "field", "message"}] or [{"field", "message"}]."""

    status = 422
