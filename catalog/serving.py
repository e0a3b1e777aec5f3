"""What the request and command layer reads from the app and hands to services: the served
jurisdiction (CATALOG_JURISDICTION) and the import limits. Services never read app config."""

from __future__ import annotations

import gc
import os

from flask import current_app, url_for

from catalog.extensions import db
from catalog.models import Jurisdiction
from catalog.services.imports.deadline import NO_DEADLINE, Deadline
from catalog.services.imports.rows import Context, load_context
from catalog.services.jurisdictions import default_jurisdiction, served_jurisdiction


def jurisdiction_code() -> str | None:
    """The configured CATALOG_JURISDICTION, or None for "the first one seeded"."""
    return current_app.config.get("CATALOG_JURISDICTION")


def served() -> Jurisdiction:
    """The jurisdiction this app serves; NotFound (a 404 page) when none is set up."""
    return default_jurisdiction(db.session, jurisdiction_code())


def served_or_none() -> Jurisdiction | None:
    """The jurisdiction this app serves, None before anything is seeded (an unknown configured
    code is still NotFound)."""
    return served_jurisdiction(db.session, jurisdiction_code())


def site_root() -> str:
    """The site's absolute root URL, ending in '/': on PUBLIC_BASE_URL when it is configured
    (whatever Host the request carries), else on the request's trusted host."""
    return url_for("public.index", _external=True)


def upload_deadline() -> Deadline:
    """IMPORT_TIME_LIMIT seconds from now: the wall-clock bound of one upload's work (web, API)."""
    seconds = current_app.config.get("IMPORT_TIME_LIMIT")
    return Deadline(float(seconds)) if seconds else NO_DEADLINE


def import_context(deadline: Deadline | None = None, *, timed: bool = True) -> Context:
    """The served jurisdiction's categories and the configured limits, for the import services:
    the cell limit, the upload's deadline (a new one unless given; none with timed=False, the
    command line) and how stale an engine an import may use (ENGINE_MAX_STALE)."""
    config = current_app.config
    if deadline is None:
        deadline = upload_deadline() if timed else NO_DEADLINE
    return load_context(
        db.session,
        served(),
        config["MAX_CELL_CHARS"],
        deadline=deadline,
        engine_max_stale=float(config.get("ENGINE_MAX_STALE", 0) or 0),
    )


def warm_engine() -> None:
    """Build the served jurisdiction's matching engine now, in an app context (gunicorn's master
    calls it before forking the workers, which inherit it: no request pays for the first build)."""
    from catalog.services.suggesting import get_engine

    jurisdiction = served_or_none()
    if jurisdiction is not None:
        get_engine(db.session, jurisdiction)


# What a visitor's first requests to a fresh worker would otherwise pay for (at 10,000 courses
# 1-3 s for the first search: the published catalog's snapshot, the templates' compilation, the
# first statements' compilation): the public pages, asked for once each, anonymously.
WARM_PATHS = ("/courses.json", "/courses", "/courses.json?q=course", "/courses?q=course", "/")


def warm_public(app) -> list[tuple[str, int]]:
    """Ask this process's app for the public pages once, as a visitor would, before it serves
    anyone (gunicorn calls it in each worker after the fork). GET requests without a cookie: they
    read and write nothing a visitor's own would not. On the configured host (PUBLIC_BASE_URL, or
    the first of TRUSTED_HOSTS) so that TRUSTED_HOSTS lets them through. Never raises: a failure
    (no database yet) only means the first visitor pays, as without the warm-up. Returns each
    path with its status (0 when it failed)."""
    base = app.config.get("PUBLIC_BASE_URL")
    if not base:
        trusted = app.config.get("TRUSTED_HOSTS") or ["localhost"]
        base = f"http://{trusted[0]}"
    client = app.test_client()
    answers = []
    for path in WARM_PATHS:
        try:
            status = client.get(path, base_url=base).status_code
        except Exception:  # noqa: BLE001 - the warm-up is an optimisation, never a start-up failure
            status = 0
        answers.append((path, status))
    return answers


def settle_process() -> None:
    """Collect once, then freeze what this process holds now (modules, the app, the matching
    engine, the published snapshot: ~140,000 objects) out of the cyclic collector's sight. Left
    to itself, the collector walks all of them in one full collection some hundreds of requests
    into a worker's life (0.5 s under load at 10,000 courses, a stall of every request in the
    worker at the time: the search's p99), and again each time survivors grow by a quarter.
    Frozen objects are still freed by reference counting; only cycles among them wait."""
    gc.collect()
    gc.freeze()


def register_settling(app) -> None:
    """Settle each process (settle_process) once its first public page is answered, whatever
    server runs the app; GC_FREEZE=0 (and TESTING, where one process builds many apps) skips."""
    if not app.config.get("GC_FREEZE"):
        return
    settled: set[int] = set()

    @app.after_request
    def _settle_after_the_first_page(response):
        from flask import request

        pid = os.getpid()  # per process: a fork of a settled one settles again
        if pid not in settled and (request.endpoint or "").startswith("public."):
            settled.add(pid)
            response.call_on_close(settle_process)  # once the visitor has the answer
        return response
