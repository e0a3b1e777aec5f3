"""Split a course's hours over its areas by score, in steps, summing exactly."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

__all__ = ["split_hours"]


def split_hours(
    hours: Decimal | None,
    ranked: list[tuple[str, int]],
    min_score: int,
    step: Decimal = Decimal("0.25"),
) -> dict[str, Decimal | None]:
    """Split hours over the areas scoring >= min_score (by score, in `step` units); sums exactly.

    The best area always gets a share; areas below min_score get 0. None hours give None.
    """
    if hours is None:
        return {slug: None for slug, _ in ranked}
    hours = Decimal(hours)
    out: dict[str, Decimal | None] = {slug: Decimal(0) for slug, _ in ranked}
    if not ranked:
        return out
    sharing = [(s, sc) for s, sc in ranked if sc >= min_score] or [ranked[0]]
    if sharing[0][0] != ranked[0][0]:
        sharing.insert(0, ranked[0])
    units = int((hours / step).to_integral_value(rounding=ROUND_FLOOR)) if hours > 0 else 0
    sharing = sharing[: max(units, 1)]
    total = sum(max(sc, 1) for _, sc in sharing)
    exact = [units * max(sc, 1) / total for _, sc in sharing]
    given = [max(int(x), 1) if units >= len(sharing) else int(x) for x in exact]
    while sum(given) > units:
        i = max(range(len(given)), key=lambda k: (given[k], -k))
        given[i] -= 1
    order = sorted(range(len(exact)), key=lambda k: (-(exact[k] - int(exact[k])), k))
    k = 0
    while sum(given) < units:
        given[order[k % len(order)]] += 1
        k += 1
    for (slug, _), n in zip(sharing, given, strict=True):
        out[slug] = step * n
    first = sharing[0][0]
    out[first] = hours - sum((v for s, v in out.items() if s != first and v), Decimal(0))
    return out
