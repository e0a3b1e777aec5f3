"""The anonymous planner's rate limit: the sign-in throttle's table and counting, keyed by the
caller's address (no officer data: only the address and the time are stored)."""

from __future__ import annotations

from flask import abort, current_app, request

from catalog.auth.sessions import record_failure, too_many_failures
from catalog.extensions import db

PLAN_KEY = "plan:addr:"


def throttle_anonymous() -> None:
    """Count one anonymous plan for the caller's address; 429 past PLAN_RATE_LIMIT a minute.
    Commits at once, so the planning that follows holds no write lock."""
    keys = [PLAN_KEY + (request.remote_addr or "unknown")]
    if too_many_failures(keys, current_app.config["PLAN_RATE_LIMIT"]):
        db.session.rollback()
        abort(429, "Too many plans from this address. Wait a minute and try again.")
    record_failure(keys)
    db.session.commit()
