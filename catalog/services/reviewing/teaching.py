"""Teach-me order for the review queue: the pending courses whose decision helps the rest most.

Usefulness is the engine's uncertainty about a course times how many other pending courses resemble
it (mapping.teach): deciding it teaches the learned layer and the similar-course evidence about
all of them. Computed per request over the filtered pending courses (the most uncertain
CANDIDATES of them), for the first RANKED places; the rest follow engine-unsure first.
"""

from __future__ import annotations

from sqlalchemy import select

from catalog.models import Course, Jurisdiction
from catalog.services.suggesting import get_engine
from mapping.teach import rank, stored_uncertainty

CANDIDATES = 3000
RANKED = 300


def useful_order(session, jurisdiction: Jurisdiction, conditions: list) -> list[int]:
    """Ids of the filtered pending courses, most useful to decide next first (at most RANKED)."""
    rows = session.execute(
        select(Course.id, Course.title, Course.suggestion_score, Course.suggestion_confident)
        .where(*conditions, Course.status == "pending", Course.jurisdiction_id == jurisdiction.id)
        .order_by(Course.suggestion_confident, Course.suggestion_score, Course.id)
        .limit(CANDIDATES)
    ).all()
    if not rows:
        return []
    engine = get_engine(session, jurisdiction)
    order = rank(
        engine,
        [r.title for r in rows],
        [stored_uncertainty(r.suggestion_score, r.suggestion_confident) for r in rows],
        RANKED,
    )
    return [rows[i].id for i in order]
