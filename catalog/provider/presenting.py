"""Turning suggestions and counts into what the provider pages show: highlighted titles, ranked
labels with evidence, and server-rendered SVG bar charts (CSP allows no inline styles)."""

from __future__ import annotations

from catalog.models.types import format_hours
from catalog.services.suggesting import evidence_spans

BAR_WIDTH = 320


def highlight(title: str, suggestion: dict | None) -> list[tuple[str, bool]]:
    """The title cut into (text, matched) pieces from the evidence spans that point into it."""
    pieces, pos = [], 0
    for start, end, _ in evidence_spans(title, suggestion):
        if start > pos:
            pieces.append((title[pos:start], False))
        pieces.append((title[start:end], True))
        pos = end
    if pos < len(title):
        pieces.append((title[pos:], False))
    return pieces


def _evidence_texts(entry: dict) -> list[str]:
    texts = (
        ev.get("text") or ev.get("phrase") or ev.get("kind", "") for ev in entry.get("evidence", [])
    )
    return list(dict.fromkeys(texts))[:4]  # two keywords on the same words read as one line


def _area_view(entry: dict, hours, names: dict) -> dict:
    """One suggested area: name, score, confidence, hours, runner-up and gap, evidence."""
    return {
        "slug": entry["slug"],
        "name": entry.get("name", entry["slug"]),
        "score": int(round(entry.get("score", 0))),
        "confident": bool(entry.get("confident")),
        "hours": format_hours(hours) if hours else "",
        "runner_up": names.get(entry.get("runner_up"), entry.get("runner_up")),
        "gap": entry.get("gap"),
        "evidence": _evidence_texts(entry),
    }


def suggestion_view(suggestion: dict | None) -> dict:
    """Suggested areas (with hours, score, runner-up) and topics, ready for a template or JSON."""
    suggestion = suggestion or {}
    from catalog.services.suggesting import suggested_labels

    if not suggestion:
        return {"areas": [], "topics": [], "flags": []}
    areas, topics = suggested_labels(suggestion)
    names = {a["slug"]: a.get("name", a["slug"]) for a in suggestion.get("areas", [])}
    out_areas = [
        _area_view(entry, areas[entry["slug"]], names)
        for entry in suggestion.get("areas", [])
        if entry["slug"] in areas
    ]
    out_topics = [
        {
            "slug": t["slug"],
            "name": t.get("name", t["slug"]),
            "score": int(round(t.get("score", 0))),
            "confident": bool(t.get("confident")),
            "evidence": _evidence_texts(t),
        }
        for t in suggestion.get("topics", [])
        if t["slug"] in topics
    ]
    return {
        "areas": out_areas,
        "topics": out_topics,
        "flags": [f.get("message", f.get("code", "")) for f in suggestion.get("flags", [])],
    }


def course_suggestion_view(course) -> dict:
    """suggestion_view of a course's stored suggestion, with its highlighted title segments."""
    return {
        **suggestion_view(course.suggestion),
        "segments": highlight(course.title, course.suggestion),
    }


def bar_chart(items: list[tuple[str, int, str]]) -> dict:
    """Horizontal bars as SVG geometry: [(label, count, css-key)] -> rows with widths."""
    top = max((n for _, n, _ in items), default=0) or 1
    rows = []
    for i, (label, n, key) in enumerate(items):
        rows.append(
            {
                "label": label,
                "count": n,
                "key": key,
                "y": i * 26,
                "width": max(2 if n else 0, round(BAR_WIDTH * n / top)),
            }
        )
    return {"rows": rows, "height": len(items) * 26, "bar_width": BAR_WIDTH}
