"""Administration: taxonomy, requirement sets, providers, users and tokens."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.extensions import db
from catalog.models import Category, Jurisdiction
from catalog.permissions import roles_required
from catalog.admin import bp


@bp.get("/")
@roles_required("admin")
def index():
    jurisdictions = db.session.scalars(
        select(Jurisdiction).options(
            selectinload(Jurisdiction.categories).selectinload(Category.keywords)
        )
    ).all()
    return render_template("admin/index.html", jurisdictions=jurisdictions)
