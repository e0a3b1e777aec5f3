"""Bar geometry for the planner's SVG charts (no inline styles or scripts: CSP)."""

from __future__ import annotations

BAR_WIDTH = 320


def requirement_bars(result: dict) -> list[dict]:
    """One bar per requirement (total first): done / required, capped at the full bar."""
    rows = [
        {
            "category": "total",
            "name": "Total",
            "required": result["total"]["required"],
            "done": result["total"]["done"],
            "message": result.get("total_message", ""),
        }
    ]
    rows += [r for r in result["requirements"] if r["required"]]
    bars = []
    for n, r in enumerate(rows):
        share = min(1.0, r["done"] / r["required"]) if r["required"] else 1.0
        bars.append(
            {
                **r,
                "y": n * 30,
                "width": round(BAR_WIDTH * share),
                "met": r["done"] >= r["required"],
            }
        )
    return bars


def missing_bars(counts: list[tuple[str, str, int]], officers: int) -> list[dict]:
    """One bar per requirement: how many officers of the roster miss it."""
    return [
        {
            "category": slug,
            "name": name,
            "count": count,
            "y": n * 30,
            "width": round(BAR_WIDTH * count / officers) if officers else 0,
        }
        for n, (slug, name, count) in enumerate(counts)
    ]
