"""Course candidates for a batch of queries: retrieval (one batched cdist plus the word index),
the scored parts of each candidate, and the one-clear-winner rule (see the package docstring)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from rapidfuzz import fuzz, process

from catalog.models.types import format_hours
from catalog.services.courses import normalise_title
from catalog.services.reconciling.index import CourseIndex, course_index, numbers
from catalog.services.reconciling.queries import (
    MATCH_MARGIN,
    MATCH_THRESHOLD,
    MATCH_TITLE_MIN,
    RETRIEVE,
    TYPES,
    Query,
    query_hours,
)


def _fold(query_words: list[str], unknown: set[str], candidate_key: str) -> str:
    """The query's words, each unknown one (no course has it) that starts a word of the candidate
    (>= 3 letters: "intro", "adv") read as that word."""
    if not unknown:
        return " ".join(query_words)
    candidate_words = candidate_key.split()
    out = []
    for w in query_words:
        if w in unknown and len(w) >= 3:
            w = next((c for c in candidate_words if len(c) > len(w) and c.startswith(w)), w)
        out.append(w)
    return " ".join(out)


def _candidates(index: CourseIndex, words: list[str], best_sorted) -> set[int]:
    picked: set[int] = set(best_sorted.tolist()) if best_sorted is not None else set()
    n = len(index.ids)
    lists = [index.postings[w] for w in set(words) if w in index.postings]
    if lists:
        weights = np.zeros(n, dtype=np.float32)
        for plist in lists:
            weights[plist] += 1.0 / np.log2(2 + len(plist))
        sharing = np.flatnonzero(weights)
        if len(sharing) > RETRIEVE:
            best = np.argpartition(weights[sharing], len(sharing) - RETRIEVE)
            sharing = sharing[best[len(sharing) - RETRIEVE :]]
        picked.update(sharing.tolist())
    return picked


def _score_course(index: CourseIndex, i: int, query: Query, words: list[str], asked: dict) -> dict:
    course = index.courses[i]
    hours = asked["hours"]
    key = index.keys[i]
    folded = _fold(words, asked["unknown"], key)
    title_set = fuzz.token_set_ratio(folded, key)
    title_sort = fuzz.token_sort_ratio(folded, key)
    exact = asked["identity"] == index.identity[i]
    title = 100 if exact else min(99, round((title_set + title_sort) / 2))
    mismatch = bool(asked["numbers"]) and asked["numbers"] != index.numbers[i]
    features: list[dict] = [
        {"id": "title_set", "value": round(title_set)},
        {"id": "title_sort", "value": round(title_sort)},
        {"id": "title_exact", "value": exact},
        {"id": "number_mismatch", "value": mismatch},
    ]
    score = title - (10 if mismatch else 0)
    if hours is not None:
        same = Decimal(course["hours"]) == hours
        score += 3 if same else -5
        features.append({"id": "hours_match", "value": same})
    providers = [p.casefold() for p in query.properties.get("provider", [])]
    if providers:
        same = course["provider"].casefold() in providers or any(
            fuzz.ratio(p, course["provider_name"].casefold()) >= 90 for p in providers
        )
        score += 5 if same else -10
        features.append({"id": "provider_match", "value": same})
    deliveries = [d.casefold() for d in query.properties.get("delivery", [])]
    if deliveries:
        same = course["delivery"] in deliveries
        score += 2 if same else -3
        features.append({"id": "delivery_match", "value": same})
    controls = [c.casefold() for c in query.properties.get("control_number", [])]
    if controls:
        same = bool(course["control_number"]) and course["control_number"].casefold() in controls
        features.append({"id": "control_number_match", "value": same})
        if same:
            score = 100
            title = max(title, MATCH_TITLE_MIN)
    return {
        "index": i,
        "score": max(0, min(100, score)),
        "title": title,
        "features": features,
    }


def course_description(course: dict) -> str:
    """ "provider, hours, categories": what OpenRefine shows under a candidate."""
    hours = format_hours(course["hours"])
    cats = [f"{a['name']} {format_hours(a['hours'])} h" for a in course["areas"]]
    cats += [t["name"] for t in course["topics"]]
    parts = [course["provider_name"], f"{hours} h", course["delivery"]]
    return ", ".join(p for p in parts if p) + (f"; {', '.join(cats)}" if cats else "")


def _unmatched(query_words: list[str], candidate_key: str) -> int:
    """Words of the candidate's title with no counterpart in the query: not the same word, not a
    misspelling of it (ratio >= 80 for words of 4+ letters), not abbreviated by a query word."""
    missing = 0
    for c in candidate_key.split():
        if not any(
            w == c
            or (len(w) >= 3 and c.startswith(w))
            or (len(c) >= 4 and fuzz.ratio(w, c, score_cutoff=80))
            for w in query_words
        ):
            missing += 1
    return missing


def _decide(index: CourseIndex, words: list[str], scored: list[dict], limit: int) -> list[dict]:
    scored.sort(key=lambda s: (-s["score"], -s["title"], s["index"]))
    top = scored[:limit]
    if top:
        best = top[0]
        runner_up = scored[1]["score"] if len(scored) > 1 else 0
        gap = best["score"] - runner_up
        unmatched = _unmatched(words, index.keys[best["index"]])
        best["match"] = (
            best["score"] >= MATCH_THRESHOLD
            and best["title"] >= MATCH_TITLE_MIN
            and unmatched == 0
            and gap >= MATCH_MARGIN
        )
        best["features"].append({"id": "runner_up_gap", "value": gap})
        best["features"].append({"id": "unmatched_words", "value": unmatched})
    return top


def reconcile_courses(
    session, jurisdiction, queries: list[Query], today, max_age: float
) -> dict[str, list]:
    """Candidates, best first, for each course query: `{key: [candidate, ...]}`."""
    index = course_index(session, jurisdiction, today=today, max_age=max_age)
    words = index.words([q.text for q in queries])
    keys = [" ".join(w) for w in words]
    best_sorted = None
    if index.keys and any(keys):
        # token_sort_ratio, with the courses' words sorted once when the index was built
        sorted_keys = [" ".join(sorted(k.split())) for k in keys]
        best_sorted = process.cdist(
            sorted_keys, index.sorted_keys, scorer=fuzz.ratio, dtype="uint8", workers=-1
        )
        n, k = len(index.keys), min(RETRIEVE, len(index.keys))
        best_sorted = np.argpartition(best_sorted, n - k, axis=1)[:, n - k :]
    out: dict[str, list] = {}
    for qi, query in enumerate(queries):
        if not keys[qi] and not query.properties.get("control_number"):
            out[query.key] = []
            continue
        picked = _candidates(index, words[qi], best_sorted[qi] if best_sorted is not None else None)
        controls = {c.casefold() for c in query.properties.get("control_number", [])}
        if controls:
            picked.update(
                i for i, c in enumerate(index.courses) if c["control_number"].casefold() in controls
            )
        asked = {
            "hours": query_hours(query),
            "identity": normalise_title(query.text),
            "numbers": numbers(query.text),
            "unknown": {w for w in words[qi] if w not in index.postings},
        }
        scored = [_score_course(index, i, query, words[qi], asked) for i in picked]
        results = []
        for s in _decide(index, words[qi], scored, query.limit):
            course = index.courses[s["index"]]
            results.append(
                {
                    "id": str(course["id"]),
                    "name": course["title"],
                    "score": s["score"],
                    "match": s.get("match", False),
                    "description": course_description(course),
                    "type": [{"id": "course", "name": TYPES["course"]}],
                    "features": s["features"],
                }
            )
        out[query.key] = results
    return out
