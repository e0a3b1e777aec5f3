"""The compliance planner's pages: /plan (one officer, no account) and /plan/roster (signed in)."""

from flask import Blueprint

bp = Blueprint("plan", __name__)

from catalog.plan import routes  # noqa: E402,F401
