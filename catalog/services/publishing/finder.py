"""The requirement finder: which requirement set is current, what each requirement needs, and how
many published courses meet it. Read from RequirementSet/Requirement rows, never from constants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from catalog.models import Requirement, RequirementSet
from catalog.services.publishing.facets import REMOTE_MODES
from catalog.services.publishing.listing import (
    CourseQuery,
    Taxonomy,
    format_hours,
    requirement_counts,
)
from catalog.services.requirements import current_set


@dataclass
class Card:
    slug: str
    kind: str
    name: str
    min_hours: Decimal | None
    delivery_modes: list[str]
    applies_to: str
    count: int
    one_hour: int
    online: int
    remote: int
    args: dict

    @property
    def remote_args(self) -> dict:
        """The card's search, taken remotely (online or live virtual); None when its delivery
        rule allows no remote course (firearms: live delivery only)."""
        if self.delivery_modes and not set(self.delivery_modes) & set(REMOTE_MODES):
            return {}
        return {**self.args, "delivery": "remote"}

    @property
    def hours_label(self) -> str:
        if self.min_hours is None:
            return "No minimum: counts toward electives"
        unit = "hour" if self.min_hours == 1 else "hours"
        return f"{format_hours(self.min_hours)} {unit} needed"


def cards(
    session,
    period: RequirementSet,
    taxonomy: Taxonomy,
    today: dt.date,
    jurisdiction_id: int | None = None,
) -> list[Card]:
    """One card per requirement of the period, then one per core area without a minimum, with
    the number of published courses of the jurisdiction that meet each (all, one-hour, remote)."""
    counts = requirement_counts(session, jurisdiction_id, today)
    result: list[Card] = []
    covered: set[str] = set()

    def card(category_id, slug, kind, name, requirement: Requirement | None) -> Card:
        modes = list(requirement.delivery_modes or []) if requirement else []
        rows = [r for r in counts.get(category_id, []) if not modes or r[0] in modes]
        args: dict = {kind: slug, "sort": "fit"}
        if modes:
            args["delivery"] = modes
        return Card(
            slug=slug,
            kind=kind,
            name=name,
            min_hours=requirement.min_hours if requirement else None,
            delivery_modes=modes,
            applies_to=requirement.applies_to if requirement else "",
            count=sum(n for _, _, n in rows),
            one_hour=sum(n for _, one, n in rows if one),
            online=sum(n for delivery, _, n in rows if delivery == "online"),
            remote=sum(n for delivery, _, n in rows if delivery in REMOTE_MODES),
            args=args,
        )

    requirements = sorted(
        period.requirements, key=lambda r: (r.category.kind != "area", r.category.sort_order)
    )
    for requirement in requirements:
        category = requirement.category
        covered.add(category.slug)
        result.append(card(category.id, category.slug, category.kind, category.name, requirement))
    for category_id, slug, name, kind in taxonomy.rows:
        if kind == "area" and slug not in covered:
            result.append(card(category_id, slug, kind, name, None))
    return result


def hours_chart(period: RequirementSet | None) -> dict | None:
    """Bars for an inline SVG: each requirement's minimum on the scale of the period's total."""
    if period is None or not period.total_hours:
        return None
    total = Decimal(period.total_hours)
    width = 320
    bars = []
    for requirement in sorted(
        period.requirements, key=lambda r: (r.category.kind != "area", r.category.sort_order)
    ):
        share = min(Decimal(1), Decimal(requirement.min_hours) / total)
        bars.append(
            {
                "label": requirement.category.name,
                "hours": format_hours(Decimal(requirement.min_hours)),
                "kind": requirement.category.kind,
                "width": max(2, int(share * width)),
            }
        )
    return {"total": format_hours(total), "bars": bars, "width": width, "height": 26 * len(bars)}


def banner(
    session,
    query: CourseQuery,
    taxonomy: Taxonomy,
    today: dt.date,
    jurisdiction_id: int | None = None,
) -> dict | None:
    """When the list is filtered to one area or one topic that the current period requires, say so."""
    selected = [("area", s) for s in query.areas] + [("topic", s) for s in query.topics]
    if len(selected) != 1:
        return None
    kind, slug = selected[0]
    period = current_set(session, today, jurisdiction_id)
    if period is None:
        return None
    for requirement in period.requirements:
        if requirement.category.slug == slug and requirement.category.kind == kind:
            return {
                "set": period.name,
                "starts_on": period.starts_on,
                "ends_on": period.ends_on,
                "grace_until": period.grace_until,
                "total_hours": format_hours(Decimal(period.total_hours)),
                "category": requirement.category.name,
                "min_hours": format_hours(Decimal(requirement.min_hours)),
                "counts_within_total": requirement.counts_within_total,
                "applies_to": requirement.applies_to,
                "delivery_modes": list(requirement.delivery_modes or []),
            }
    return None
