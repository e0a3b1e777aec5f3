"""Why the engine is not sure of a suggestion, in one line a reviewer understands (shown where a
bulk approval leaves a course out). The engine's own reason is used when it gives one."""

from __future__ import annotations

from catalog.services.suggesting import suggested_labels

STRONG_RUNNER_UP = 50  # a second area scoring this much is real competing evidence


def unsure_reason(suggestion: dict | None) -> str:
    """One line saying why `suggestion` (a course's stored engine output) is not confident,
    e.g. "two areas have strong evidence: Legal Studies (80) and Technical Studies (75)"."""
    suggestion = suggestion or {}
    if not suggestion.get("areas"):
        return "the engine has no suggestion"
    if isinstance(suggestion.get("reason"), str) and suggestion["reason"].strip():
        return suggestion["reason"].strip()
    flags = suggestion.get("flags") or []
    if flags:
        return str(flags[0].get("message") or "the engine flagged it for a person to read")
    areas, topics = suggested_labels(suggestion)
    by_slug = {e["slug"]: e for e in suggestion.get("areas", [])}
    for slug in areas:
        entry = by_slug.get(slug)
        if entry is None or entry.get("confident"):
            continue
        name = entry.get("name") or slug
        if isinstance(entry.get("reason"), str) and entry["reason"].strip():
            return f"{name}: {entry['reason'].strip()}"
        runner = by_slug.get(entry.get("runner_up") or "")
        if runner is not None and runner.get("score", 0) >= STRONG_RUNNER_UP:
            return (
                f"two areas have strong evidence: {name} ({entry.get('score', 0)}) and "
                f"{runner.get('name') or runner['slug']} ({runner.get('score', 0)})"
            )
        if not entry.get("evidence"):
            return f"no evidence for {name}"
        return f"weak evidence for {name} (score {entry.get('score', 0)})"
    for topic in suggestion.get("topics", []):
        if topic.get("slug") in topics and not topic.get("confident"):
            name = topic.get("name") or topic["slug"]
            if isinstance(topic.get("reason"), str) and topic["reason"].strip():
                return f"{name}: {topic['reason'].strip()}"
            return f"the topic {name} is uncertain (score {topic.get('score', 0)})"
    return "the engine is not sure"
