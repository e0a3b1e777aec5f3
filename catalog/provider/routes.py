"""Provider pages: their catalogs and courses."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import CatalogSubmission, Course, Provider
from catalog.permissions import roles_required
from catalog.provider import bp


@bp.get("/")
@roles_required("provider")
def index():
    provider = db.session.get(Provider, current_user.provider_id)
    catalogs = db.session.scalars(
        select(CatalogSubmission)
        .where(CatalogSubmission.provider_id == provider.id)
        .order_by(CatalogSubmission.created_at.desc())
    ).all()
    courses = db.session.scalars(
        select(Course).where(Course.provider_id == provider.id).order_by(Course.title)
    ).all()
    return render_template(
        "provider/index.html", provider=provider, catalogs=catalogs, courses=courses
    )
