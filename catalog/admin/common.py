"""What the admin pages share: the served jurisdiction (404 when none), audit entries by the
signed-in admin, flashed form errors, and one transaction per service call (`committing`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import abort, flash
from flask_login import current_user

from catalog.extensions import db
from catalog.models import (
    Jurisdiction,
)
from catalog.services import audit
from catalog.services.errors import Invalid, NotFound
from catalog.serving import served


def jurisdiction_or_404() -> Jurisdiction:
    """The served jurisdiction; a 404 page naming the problem when none is set up."""
    try:
        return served()
    except NotFound as exc:
        abort(404, exc.message)


def record(action: str, entity, before=None, after=None, note: str = "") -> None:
    """An audit entry for an admin edit, by the signed-in admin."""
    audit.record(
        db.session,
        action=action,
        entity_type=type(entity).__name__.lower(),
        entity_id=entity.id,
        user=current_user,
        before=before,
        after=after,
        note=note,
    )


def form_errors(form) -> None:
    """Flash one error per invalid field, labelled with the field's label."""
    for name, errors in form.errors.items():
        label = getattr(getattr(form, name, None), "label", None)
        for error in errors:
            flash(f"{label.text if label else name}: {error}", "error")


def field_errors(form, exc) -> None:
    """Show a service's refusal on the form: each detail under the field it names (flashed when
    the form has no such field)."""
    details = exc.details or [{"message": exc.message}]
    for detail in details:
        field = getattr(form, detail.get("field") or "", None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, detail["message"]]
        else:
            flash(detail["message"], "error")


@dataclass
class Outcome:
    """What became of a `committing()` block: `refused` is the service's Invalid when it said no."""

    refused: Invalid | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None


@contextmanager
def committing() -> Iterator[Outcome]:
    """Run a service call as the request's one transaction: commit when the block ends; when the
    service refuses (Invalid), roll back, so nothing of the refused change is kept, and hand the
    refusal to the view, which shows it (`outcome.refused`)."""
    outcome = Outcome()
    try:
        yield outcome
    except Invalid as exc:
        db.session.rollback()
        outcome.refused = exc
    else:
        db.session.commit()
