"""A period's requirement set as plain data, and what one course or record gives toward it.

Every requirement is data (requirement_sets / requirements in the database, seeded from
seed_data/<state>/requirements.toml); nothing here knows a state. Hours are integers in
hundredths of an hour ("cents") so sums and the solver are exact.

The rows a plan is measured on, in this order: one per requirement of the set (its category's
slug), then `total` (the set's total hours) and `approved-provider` (hours from approved
providers). A course or record gives toward a requirement:
- an area: its hours in that area (the approved split, or the engine's for an unapproved record);
- a topic: its hours in that topic, or the whole course when the topic carries no hours (topics
  count inside the hours, e.g. Missouri's implicit bias inside the 24);
- nothing when the requirement (or its category) is live-only and the delivery is not live: a
  record's own delivery decides, whatever course it matched;
- `total`: every hour; `approved-provider`: every hour of an approved course of an approved
  provider.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.models import LIVE_DELIVERY_MODES, Category, Jurisdiction, Requirement, RequirementSet
from catalog.services import requirements as requirement_sets
from catalog.services.errors import Invalid

TOTAL = "total"
APPROVED = "approved-provider"
DELIVERY_WORDS = {
    "in-person": "in person",
    "online": "online",
    "live-virtual": "live virtual",
    "blended": "blended",
}


def cents(value) -> int:
    """Hours (Decimal, str, int, float) as whole hundredths of an hour."""
    if value is None or value == "":
        return 0
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def hours(value_cents: int) -> Decimal:
    """Hundredths back to hours (Decimal, no trailing zeros)."""
    return (Decimal(int(value_cents)) / 100).normalize() + Decimal(0)


def hours_text(value_cents: int) -> str:
    """'1', '1.5', '0.25' hours as text."""
    return format(hours(value_cents), "f")


@dataclass(frozen=True)
class Rule:
    """One requirement: a category (area or topic) minimum, maybe live-only."""

    slug: str
    name: str
    kind: str
    min_cents: int
    delivery_modes: tuple[str, ...]
    applies_to: str


@dataclass(frozen=True)
class RuleSet:
    """A period's requirement set: its dates, total, approved-provider minimum and rules."""

    id: int
    jurisdiction_code: str
    name: str
    period_kind: str
    starts_on: dt.date
    ends_on: dt.date
    grace_until: dt.date | None
    total_cents: int
    approved_cents: int
    rules: tuple[Rule, ...]
    names: dict  # category slug -> display name (every category of the jurisdiction)

    @property
    def rows(self) -> list[str]:
        """The row labels of a status or plan: each rule's slug, then total, approved-provider."""
        return [r.slug for r in self.rules] + [TOTAL, APPROVED]

    @property
    def required(self) -> list[int]:
        """Required hundredths per row."""
        return [r.min_cents for r in self.rules] + [self.total_cents, self.approved_cents]

    def label(self, row: str) -> str:
        """Plain words for a row: 'implicit bias', 'in total', 'from approved providers'."""
        if row == TOTAL:
            return "in total"
        if row == APPROVED:
            return "from approved providers"
        return "of " + self.names.get(row, row).lower()

    def counts_record(self, when: dt.date | None) -> bool:
        """Whether training on `when` counts for this period (the grace period included)."""
        if when is None:
            return True
        return self.starts_on <= when <= (self.grace_until or self.ends_on)

    def gives(
        self,
        total_cents: int,
        areas: dict[str, int],
        topics: dict[str, int | None],
        delivery: str | None,
        approved: bool,
    ) -> list[int]:
        """What one course or record gives toward each row (see the module docstring)."""
        out = []
        for rule in self.rules:
            if rule.delivery_modes and (delivery or "") not in rule.delivery_modes:
                out.append(0)
                continue
            if rule.kind == "area":
                out.append(min(areas.get(rule.slug, 0), total_cents))
            elif rule.slug in topics:
                value = topics[rule.slug]
                out.append(total_cents if value is None else min(value, total_cents))
            else:
                out.append(0)
        out.append(total_cents)
        out.append(total_cents if approved else 0)
        return out


def load_rules(session, jurisdiction: Jurisdiction, period: str | None, today: dt.date) -> RuleSet:
    """The named period's requirement set (default: the current one) as a RuleSet; an unknown
    name is Invalid naming the periods that exist."""
    if period:
        found = session.scalar(
            select(RequirementSet).where(
                RequirementSet.jurisdiction_id == jurisdiction.id, RequirementSet.name == period
            )
        )
        if found is None:
            known = session.scalars(
                select(RequirementSet.name)
                .where(RequirementSet.jurisdiction_id == jurisdiction.id)
                .order_by(RequirementSet.starts_on)
            ).all()
            raise Invalid(
                f"There is no period '{period[:80]}'. Known periods: {', '.join(known)}.",
                [{"field": "period", "message": f"unknown period '{period[:80]}'"}],
            )
    else:
        found = requirement_sets.current_set(session, today, jurisdiction.id)
        if found is None:
            raise Invalid(
                f"No requirement set is set up for {jurisdiction.name} yet.",
                [{"field": "period", "message": "no requirement set"}],
            )
    requirements = session.scalars(
        select(Requirement)
        .where(Requirement.requirement_set_id == found.id)
        .options(selectinload(Requirement.category))
        .order_by(Requirement.id)
    ).all()
    categories = session.scalars(
        select(Category).where(Category.jurisdiction_id == jurisdiction.id)
    ).all()
    rules = []
    for req in requirements:
        modes = tuple(req.delivery_modes or ())
        if not modes and req.category.live_only:
            modes = LIVE_DELIVERY_MODES
        rules.append(
            Rule(
                slug=req.category.slug,
                name=req.category.name,
                kind=req.category.kind,
                min_cents=cents(req.min_hours),
                delivery_modes=modes,
                applies_to=req.applies_to or "",
            )
        )
    return RuleSet(
        id=found.id,
        jurisdiction_code=jurisdiction.code,
        name=found.name,
        period_kind=found.period_kind,
        starts_on=found.starts_on,
        ends_on=found.ends_on,
        grace_until=found.grace_until,
        total_cents=cents(found.total_hours),
        approved_cents=cents(found.approved_provider_min_hours),
        rules=tuple(rules),
        names={c.slug: c.name for c in categories},
    )


def period_names(session, jurisdiction: Jurisdiction) -> list[str]:
    """Names of the jurisdiction's requirement sets, newest first (for the page's choice)."""
    return list(
        session.scalars(
            select(RequirementSet.name)
            .where(RequirementSet.jurisdiction_id == jurisdiction.id)
            .order_by(RequirementSet.starts_on.desc())
        )
    )
