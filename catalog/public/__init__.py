from flask import Blueprint, current_app, g, request

from catalog.db import autocommit_reads
from catalog.extensions import db
from catalog.services.publishing import snapshot as published_index

bp = Blueprint("public", __name__)

# Views whose services verify the published catalog's snapshot before anything is shown (a
# search, an export, the feed, a course page: snapshot.verify, in the statement of their text
# match or row), so the served jurisdiction and its categories that the view reads first may
# come from the worker's copy without a query of their own (snapshot.read_optimistically).
VERIFYING_VIEWS = frozenset(
    {
        "public.courses",
        "public.courses_json",
        "public.courses_csv",
        "public.courses_xlsx",
        "public.courses_atom",
        "public.course",
    }
)


@bp.before_request
def _reads_without_transaction() -> None:
    """Public GET pages only read: on PostgreSQL their statements run without BEGIN/ROLLBACK."""
    if request.method in ("GET", "HEAD"):
        g._public_autocommit = autocommit_reads(db.session)
        if request.endpoint in VERIFYING_VIEWS:
            published_index.read_optimistically(db.session)


@bp.teardown_request
def _end_reads(exc: BaseException | None) -> None:
    """Release the connection of a request switched to autocommit (nothing to roll back)."""
    published_index.read_optimistically(db.session, on=False)
    if g.pop("_public_autocommit", False):
        db.session.rollback()


@bp.errorhandler(published_index.SnapshotMoved)
def _run_again(exc: published_index.SnapshotMoved):
    """The publish version moved under the request in a way that changes what its view read
    first (a jurisdiction or category edit committed meanwhile): run the view once more, on
    the snapshot now verified for this request (which does not move again within it)."""
    published_index.read_optimistically(db.session, on=False)
    view = current_app.view_functions[request.endpoint]
    try:
        return current_app.ensure_sync(view)(**(request.view_args or {}))
    except Exception as error:  # noqa: BLE001 - answered as the view's own errors would be
        return current_app.handle_user_exception(error)


from catalog.public import routes  # noqa: E402,F401
