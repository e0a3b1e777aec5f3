"""W3C Reconciliation API 0.2 for OpenRefine and other tools (public, no account).

CORS `*` on every answer, no cookies or sessions, CSRF-exempt (nothing here writes), size limits
(413) and a per-address rate limit (429 with Retry-After).
"""

from flask import Blueprint

from catalog.extensions import csrf

bp = Blueprint("reconcile", __name__)
csrf.exempt(bp)  # read-only, cookie-less: OpenRefine posts form-encoded queries without a token

from catalog.reconcile import routes  # noqa: E402,F401
