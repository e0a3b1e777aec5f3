from flask import Blueprint, g, request

from catalog.db import autocommit_reads
from catalog.extensions import db

bp = Blueprint("public", __name__)


@bp.before_request
def _reads_without_transaction() -> None:
    """Public GET pages only read: on PostgreSQL their statements run without BEGIN/ROLLBACK."""
    if request.method in ("GET", "HEAD"):
        g._public_autocommit = autocommit_reads(db.session)


@bp.teardown_request
def _end_reads(exc: BaseException | None) -> None:
    """Release the connection of a request switched to autocommit (nothing to roll back)."""
    if g.pop("_public_autocommit", False):
        db.session.rollback()


from catalog.public import routes  # noqa: E402,F401
