"""Public pages: start page and health check (search and exports live beside them)."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import text

from catalog.extensions import db
from catalog.public import bp


@bp.get("/")
def index():
    return render_template("public/index.html")


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
