"""Status and plan per officer: count each record, measure the gaps, solve the smallest plan.

`plan_officers(session, jurisdiction, officers, options)` is the one entry point the API, the
page and the bench call. It reads (never writes) the requirement set and the published courses,
matches every record in one batch, and for each officer returns a plain dict in the
POST /api/v1/plan shape (contracts.md) plus a few extra keys the page uses. Officers' records are
not stored or logged anywhere: they exist only in the request and the response.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from catalog.models import Jurisdiction
from catalog.services.planning import solver
from catalog.services.planning.offers import Match, Offers, load_offers, match_records
from catalog.services.planning.offers import suggestion_credit as _suggestion_credit
from catalog.services.planning.records import Officer, Options
from catalog.services.planning.rules import (
    APPROVED,
    DELIVERY_WORDS,
    TOTAL,
    RuleSet,
    cents,
    hours_text,
    load_rules,
)


def number(value_cents: int) -> int | float:
    """Hundredths as a JSON number of hours: 1 rather than 1.0, 1.5, 0.25."""
    return value_cents // 100 if value_cents % 100 == 0 else value_cents / 100


@dataclass
class Report:
    """The answer for every officer, with the period's requirement set."""

    rules: RuleSet
    officers: list[dict] = field(default_factory=list)
    greedy_cents: list[int | None] = field(default_factory=list)

    def as_json(self) -> dict:
        """The POST /api/v1/plan response body."""
        return {"period": self.rules.name, "officers": self.officers}


def _record_credit(rules: RuleSet, offers: Offers, record, match: Match) -> tuple[list[int], str]:
    """What one record counts toward each row, and a note for the user."""
    zero = [0] * len(rules.rows)
    if not rules.counts_record(record.date):
        return zero, f"dated {record.date.isoformat()}, outside {rules.name}"
    if match.position is not None:
        p = match.position
        delivery = record.delivery or offers.delivery[p]
        return (
            rules.gives(
                offers.hours_cents[p],
                offers.areas[p],
                offers.topics[p],
                delivery,
                offers.approved_provider[p],
            ),
            "",
        )
    if record.hours is None:
        return zero, "not an approved course and no hours given: nothing counted"
    total = cents(record.hours)
    areas, topics = _suggestion_credit(match.suggestion or {}, total)
    note = "not an approved course: counted with the engine's suggestion"
    if match.note:
        note = match.note + " " + note
    return rules.gives(total, areas, topics, record.delivery, False), note


def _status(rules: RuleSet, done: list[int]) -> list[dict]:
    out = []
    for row, required, got in zip(rules.rows, rules.required, done, strict=True):
        missing = max(0, required - got)
        if missing:
            word = "hour" if missing == 100 else "hours"
            message = f"{hours_text(missing)} more {word} {rules.label(row)}"
        else:
            message = "done"
        out.append(
            {
                "category": row,
                "required": number(required),
                "done": number(got),
                "missing": number(missing),
                "name": _name(rules, row),
                "message": message,
            }
        )
    return out


def _name(rules: RuleSet, row: str) -> str:
    if row == TOTAL:
        return "Total"
    if row == APPROVED:
        return "From approved providers"
    return rules.names.get(row, row)


class Planner:
    """Plans for many officers against one period and one set of published courses."""

    def __init__(self, rules: RuleSet, offers: Offers, options: Options):
        self.rules, self.offers, self.options = rules, offers, options
        self.gives = offers.gives_matrix(rules)
        self.cost = np.array(offers.hours_cents, dtype=np.int64)
        self.preferred = np.array(
            [s in options.prefer_providers for s in offers.provider_slug], dtype=bool
        )
        self.allowed = np.array(
            [
                (not options.delivery or d in options.delivery)
                and s not in options.exclude_providers
                for d, s in zip(offers.delivery, offers.provider_slug, strict=True)
            ],
            dtype=bool,
        )
        self._cache: dict[tuple, solver.Solution] = {}

    def solve(self, needs: list[int], taken: set[int]) -> tuple[list[int], list[int]]:
        """(chosen course positions, unmet rows) for one officer's needs."""
        key = tuple(needs)
        cached = self._cache.get(key)
        if cached is not None and not (set(cached.chosen) & taken):
            return list(cached.chosen), list(cached.unmet)
        mask = self.allowed.copy()
        if taken:
            mask[list(taken)] = False
        positions = np.nonzero(mask)[0]
        found = solver.solve(
            needs, self.gives[positions], self.cost[positions], self.preferred[positions]
        )
        chosen = tuple(int(positions[i]) for i in found.chosen)
        result = solver.Solution(chosen, found.objective, found.unmet)
        self._cache[key] = result
        return list(chosen), list(found.unmet)

    def greedy(self, needs: list[int], taken: set[int]) -> int | None:
        """Hours (hundredths) of the greedy baseline for the same needs (None: no plan)."""
        mask = self.allowed.copy()
        if taken:
            mask[list(taken)] = False
        positions = np.nonzero(mask)[0]
        found = solver.greedy(
            needs,
            self.gives[positions],
            self.cost[positions],
            self.preferred[positions],
            first_rows=len(self.rules.rules),
        )
        return found.objective.cents

    def reason(self, row: int, need: int, taken: set[int]) -> str:
        """Why no approved course can close `row` under the user's choices, in plain words."""
        rules, offers = self.rules, self.offers
        label = rules.label(row_slug := rules.rows[row])
        base = np.ones(len(offers), dtype=bool)
        if taken:
            base[list(taken)] = False
        column = self.gives[:, row]

        def enough(mask) -> bool:
            return int(column[mask].sum()) >= need

        rule = rules.rules[row] if row < len(rules.rules) else None
        chosen = self.options.delivery
        excluded = self.options.exclude_providers
        no_delivery = base & np.array([s not in excluded for s in offers.provider_slug], dtype=bool)
        if chosen and enough(no_delivery):
            allowed = sorted(
                {
                    offers.delivery[p]
                    for p in np.nonzero(no_delivery & (column > 0))[0]
                    if offers.delivery[p] not in chosen
                }
            )
            live = "live " if rule is not None and rule.delivery_modes else ""
            words = ", ".join(DELIVERY_WORDS.get(d, d) for d in chosen)
            return (
                f"no {live}{_name(rules, row_slug).lower()} course under the chosen delivery "
                f"({words}); allow {' or '.join(DELIVERY_WORDS.get(d, d) for d in allowed)}"
            )
        if excluded and enough(base):
            return (
                f"only excluded providers offer enough hours {label}; stop excluding "
                + ", ".join(sorted(excluded))
            )
        everything = self.allowed.copy()
        if taken and int(column[everything].sum()) >= need:
            return (
                f"the approved courses {label} were already taken, and a course counts once; "
                "one taken online does not count for a live-only requirement"
                if rule is not None and rule.delivery_modes
                else f"the approved courses {label} were already taken, and a course counts once"
            )
        return (
            f"no approved course offers enough hours {label} right now "
            f"({hours_text(need)} more needed)"
        )

    def officer(self, officer: Officer, matches: list[Match], course_url, greedy: bool):
        """One officer's result dict (contract shape plus the page's extra keys)."""
        rules, offers = self.rules, self.offers
        done = [0] * len(rules.rows)
        records = []
        taken: set[int] = set()
        for record, match in zip(officer.records, matches, strict=True):
            credit, note = _record_credit(rules, offers, record, match)
            done = [a + b for a, b in zip(done, credit, strict=True)]
            p = match.position
            if p is not None:
                taken.add(p)
            records.append(
                {
                    "title": record.title or (offers.titles[p] if p is not None else ""),
                    "matched_course_id": offers.ids[p] if p is not None else None,
                    "matched_title": offers.titles[p] if p is not None else None,
                    "score": match.score,
                    "method": match.method,
                    "approved": p is not None,
                    "hours": number(credit[-2]),
                    "counted": [
                        {"category": row, "hours": number(v)}
                        for row, v in zip(rules.rows, credit, strict=True)
                        if v and row != TOTAL
                    ],
                    "note": note,
                    "closest": [
                        {"course_id": offers.ids[c], "title": offers.titles[c], "score": s}
                        for c, s in match.closest
                    ],
                    "row": record.row,
                }
            )
        needs = [max(0, r - d) for r, d in zip(rules.required, done, strict=True)]
        chosen, unmet = self.solve(needs, taken)
        plan = []
        for p in chosen:
            plan.append(
                {
                    "course_id": offers.ids[p],
                    "title": offers.titles[p],
                    "hours": number(offers.hours_cents[p]),
                    "url": course_url(offers.ids[p]),
                    "provider": offers.provider_slug[p],
                    "provider_name": offers.provider_name[p],
                    "delivery": offers.delivery[p],
                    "counts_toward": [
                        {"category": row, "hours": number(int(v))}
                        for row, v, need in zip(rules.rows, self.gives[p], needs, strict=True)
                        if v and need and row != TOTAL
                    ],
                }
            )
        status = _status(rules, done)
        result = {
            "id": officer.id,
            "compliant": not any(needs),
            "total": {
                "required": number(rules.total_cents),
                "done": number(done[len(rules.rules)]),
            },
            "requirements": [s for s in status if s["category"] != TOTAL],
            "records": records,
            "plan": plan,
            "plan_hours": number(sum(offers.hours_cents[p] for p in chosen)),
            "unmet": [
                {"category": rules.rows[r], "reason": self.reason(r, needs[r], taken)}
                for r in unmet
            ],
            "total_message": status[len(rules.rules)]["message"],
        }
        greedy_cents = self.greedy(needs, taken) if greedy else None
        return result, greedy_cents


def plan_officers(
    session,
    jurisdiction: Jurisdiction,
    officers: list[Officer],
    options: Options,
    *,
    period: str | None = None,
    course_url: Callable[[int], str] = lambda cid: f"/courses/{cid}",
    today: dt.date | None = None,
    closest: int = 0,
    greedy: bool = False,
    offers: Offers | None = None,
) -> Report:
    """Status and optimal plan for every officer (see the module docstring); Invalid for an
    unknown period. `closest` asks for that many closest courses per record (the page's
    corrections); `greedy` also computes the greedy baseline's hours (the bench)."""
    today = today or dt.date.today()
    rules = load_rules(session, jurisdiction, period, today)
    offers = offers if offers is not None else load_offers(session, jurisdiction, today)
    records = [r for o in officers for r in o.records]
    matches = match_records(session, jurisdiction, offers, records, closest=closest)
    planner = Planner(rules, offers, options)
    report = Report(rules)
    at = 0
    for officer in officers:
        mine = matches[at : at + len(officer.records)]
        at += len(officer.records)
        result, greedy_cents = planner.officer(officer, mine, course_url, greedy)
        report.officers.append(result)
        report.greedy_cents.append(greedy_cents)
    return report


def deadline(rules: RuleSet) -> dict:
    """The period's deadline and grace date for the page and exports."""
    return {
        "period": rules.name,
        "starts_on": rules.starts_on.isoformat(),
        "ends_on": rules.ends_on.isoformat(),
        "grace_until": rules.grace_until.isoformat() if rules.grace_until else None,
    }
