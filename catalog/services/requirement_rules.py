"""Consistency of a requirement set's numbers before it is saved and published: no minimum may
exceed the set's total (30 h of one area in a 24 h year), the core-area minimums together must
fit in the total, and so must the topic minimums (topics count inside the total)."""

from __future__ import annotations

from decimal import Decimal


def _h(value: Decimal) -> str:
    return format(value.normalize(), "f")


def minimum_problems(
    categories: dict[int, object],
    minimums: dict[int, Decimal],
    total_hours: Decimal | None,
    approved_provider_min_hours: Decimal | None = None,
) -> list[str]:
    """Messages for minimums that cannot all be met within `total_hours` (empty when they fit).

    `categories` maps category id -> an object with `name` and `kind`; `minimums` category id
    -> minimum hours."""
    if total_hours is None:
        return []
    total = Decimal(total_hours)
    problems = []
    for cid, value in minimums.items():
        if value > total:
            problems.append(
                f"{categories[cid].name}: a minimum of {_h(value)} h is more than the set's "
                f"total of {_h(total)} h."
            )
    for is_area, label in ((True, "core-area"), (False, "mandated-topic")):
        chosen = {
            cid: v for cid, v in minimums.items() if (categories[cid].kind == "area") == is_area
        }
        summed = sum(chosen.values(), Decimal(0))
        if len(chosen) > 1 and summed > total:
            problems.append(
                f"The {label} minimums add up to {_h(summed)} h, more than the set's total of "
                f"{_h(total)} h: an officer could not meet them all within the total."
            )
    if approved_provider_min_hours is not None and approved_provider_min_hours > total:
        problems.append(
            f"The approved-provider minimum of {_h(Decimal(approved_provider_min_hours))} h is "
            f"more than the set's total of {_h(total)} h."
        )
    return problems
