"""W3C Reconciliation API 0.2: free-text course titles matched to approved courses and categories.

Two types. `course`: the approved, currently valid courses of the served jurisdiction (the one rule
of publication, `publishing_sql.published_sql`), scored 0-100 with rapidfuzz as the rest of the
app scores titles (`token_set_ratio` as in the review page's similar courses, `token_sort_ratio` as
in the import's near-duplicates), on titles normalised by the engine (`mapping.normalise`, the
jurisdiction's abbreviations expanded). `category`: the engine's areas and topics for the title
(`suggesting.get_engine`), with its evidence; its top candidate is a match when the engine is
confident of it and it leads the next category of its kind (area or topic) by MATCH_MARGIN.

A course's score is built from parts, each returned as a `features` entry:

- `title_set` / `title_sort`: token_set_ratio and token_sort_ratio of the normalised titles (a
  query word that is the start of a candidate's word, "intro" for "introduction", counts as it);
  `title` is their mean, 100 only when the identity keys (`normalise_title`) are equal, at most 99
  otherwise; `number_mismatch`: the query carries numbers (a year, a part number, a course
  number; not its hours) that the candidate's title does not carry alike (-10).
- `hours_match` (+3 / -5): the hours of the query (`hours` property, else a "(1 hr)" in the title)
  against the course's; `provider_match` (+5 / -10), `delivery_match` (+2 / -3) from properties;
  `control_number_match`: an exact control number is 100 whatever the title.

`match` is true only for one clear winner: score >= MATCH_THRESHOLD, its title part alone >=
MATCH_TITLE_MIN (properties cannot make a weak title a match), every word of its title found in the
query (`unmatched_words` 0: same word, a misspelling of it or its abbreviation; "Case Studies for
Supervisors" is not "Legal Update Case Studies for Supervisors") and at least MATCH_MARGIN above
the runner-up. Candidates come from one batched `process.cdist` (token_sort_ratio, every query of the
batch against every course) plus a word index (courses sharing the query's words, weighted by how
rare each word is), and only those are scored in full.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np
from rapidfuzz import fuzz, process

from catalog.models import Jurisdiction
from catalog.models.types import format_hours
from catalog.services.courses import normalise_title
from catalog.services.errors import ServiceError
from catalog.services.reconcile_index import HOURS, CourseIndex, course_index, numbers
from catalog.services.suggesting import get_engine
from mapping import CourseInput

__all__ = [
    "MATCH_MARGIN",
    "MATCH_THRESHOLD",
    "MATCH_TITLE_MIN",
    "MAX_BATCH",
    "MAX_QUERY_CHARS",
    "BadRequest",
    "TooLarge",
    "parse_batch",
    "reconcile",
]

MATCH_THRESHOLD = 95
MATCH_TITLE_MIN = 90
MATCH_MARGIN = 5
DEFAULT_LIMIT = 5
MAX_LIMIT = 25
MAX_BATCH = 50  # queries per request (the manifest asks for 10)
MAX_QUERY_CHARS = 500  # per query string
MAX_PROPERTIES = 10  # per query
RETRIEVE = 25  # candidates per query from each retrieval signal
TYPES = {"course": "Approved course", "category": "Course category"}
QUERY_PROPERTIES = {
    "provider": "Provider (slug or name)",
    "hours": "Hours",
    "delivery": "Delivery (online, in-person, live-virtual, blended)",
    "control_number": "Control number",
}


# -- parsing ---------------------------------------------------------------------------------


class BadRequest(ServiceError):
    """A batch that is not what the 0.2 protocol describes (400)."""

    status = 400


class TooLarge(ServiceError):
    """A batch or query over the size limits (413)."""

    status = 413


@dataclass(frozen=True)
class Query:
    """One parsed query of a batch."""

    key: str
    text: str
    types: tuple[str, ...]
    limit: int
    properties: dict[str, list[str]]


def _values(v) -> list[str]:
    items = v if isinstance(v, list) else [v]
    out = []
    for item in items[:20]:
        if isinstance(item, dict):
            item = item.get("id") or item.get("name")
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, str | int | float):
            out.append(str(item).strip()[:MAX_QUERY_CHARS])
    return [x for x in out if x]


def parse_batch(raw: str | None) -> list[Query]:
    """The `queries=` parameter as Query objects; BadRequest or TooLarge with a clear message."""
    if raw is None or not raw.strip():
        raise BadRequest("Send the queries as a JSON object in the `queries` parameter.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("`queries` is not valid JSON.", details=[str(exc)[:200]]) from None
    if not isinstance(data, dict):
        raise BadRequest('`queries` must be an object such as {"q0": {"query": "..."}}.')
    if len(data) > MAX_BATCH:
        raise TooLarge(
            f"Too many queries in one batch: {len(data)} (at most {MAX_BATCH}).",
            details=[f"Send at most {MAX_BATCH} queries per request."],
        )
    queries = []
    for key, q in data.items():
        if not isinstance(q, dict):
            raise BadRequest(f"Query '{key[:40]}' must be an object.")
        query = q.get("query", "")
        if not isinstance(query, str):
            raise BadRequest(f"Query '{key[:40]}': `query` must be a string.")
        if len(query) > MAX_QUERY_CHARS:
            raise TooLarge(
                f"Query '{key[:40]}' is {len(query)} characters long (at most {MAX_QUERY_CHARS})."
            )
        kind = q.get("type") or "course"
        types = tuple(kind) if isinstance(kind, list) else (kind,)
        if not all(isinstance(t, str) for t in types):
            raise BadRequest(f"Query '{key[:40]}': `type` must be a string or a list of strings.")
        limit = q.get("limit", DEFAULT_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 0:
            raise BadRequest(f"Query '{key[:40]}': `limit` must be a positive number.")
        props = q.get("properties") or []
        if not isinstance(props, list) or len(props) > MAX_PROPERTIES:
            raise BadRequest(
                f"Query '{key[:40]}': `properties` must be a list of at most "
                f"{MAX_PROPERTIES} {{pid, v}} objects."
            )
        properties: dict[str, list[str]] = {}
        for p in props:
            if not isinstance(p, dict) or not isinstance(p.get("pid"), str) or "v" not in p:
                raise BadRequest(f"Query '{key[:40]}': each property needs `pid` and `v`.")
            properties.setdefault(p["pid"], []).extend(_values(p["v"]))
        queries.append(
            Query(
                key,
                query.strip(),
                types[:5],
                min(int(limit) or DEFAULT_LIMIT, MAX_LIMIT),
                properties,
            )
        )
    return queries


# -- scoring ---------------------------------------------------------------------------------


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


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _hours(query: Query) -> Decimal | None:
    for value in query.properties.get("hours", []):
        number = _decimal(value)
        if number is not None:
            return number
    found = HOURS.search(query.text)
    return _decimal(found.group(1)) if found else None


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


def _reconcile_courses(
    session, jurisdiction, queries: list[Query], today, max_age: float
) -> dict[str, list]:
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
            "hours": _hours(query),
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


def _reconcile_categories(session, jurisdiction, queries: list[Query]) -> dict[str, list]:
    engine = get_engine(session, jurisdiction)
    inputs = []
    for q in queries:
        hours = _hours(q)
        delivery = (q.properties.get("delivery") or [None])[0]
        inputs.append(CourseInput(title=q.text, hours=hours, delivery=delivery))
    out: dict[str, list] = {}
    for q, suggestion in zip(queries, engine.suggest_many(inputs), strict=True):
        areas = [a for a in suggestion.areas if a.score > 0]
        kinds = {id(e): "area" for e in areas} | {id(t): "topic" for t in suggestion.topics}
        # Best first; on a tie the topic (the narrower designation) before the area.
        entries = sorted(
            [*areas, *suggestion.topics], key=lambda e: (-e.score, kinds[id(e)] != "topic")
        )
        results = []
        for rank, e in enumerate(entries[: q.limit]):
            kind = kinds[id(e)]
            # An area and a topic do not compete (a course has both): the runner-up is the
            # best other category of the same kind.
            runner_up = next((o.score for o in entries if o is not e and kinds[id(o)] == kind), 0)
            gap = e.score - runner_up
            features = {"engine_score": e.score, "confident": bool(e.confident)}
            for ev in e.evidence:
                name = f"evidence_{ev.get('kind', 'other')}"
                features[name] = max(features.get(name, 0), int(ev.get("score") or 0))
            feature_list = [{"id": k, "value": v} for k, v in features.items()]
            feature_list.append({"id": "runner_up_gap", "value": gap})
            why = "; ".join(
                dict.fromkeys(str(ev.get("text")) for ev in e.evidence if ev.get("text"))
            )
            results.append(
                {
                    "id": e.slug,
                    "name": e.name,
                    "score": e.score,
                    "match": rank == 0 and bool(e.confident) and gap >= MATCH_MARGIN,
                    "description": f"{kind}: {why}" if why else kind,
                    "type": [{"id": "category", "name": TYPES["category"]}],
                    "features": feature_list,
                }
            )
        out[q.key] = results
    return out


def reconcile(
    session,
    jurisdiction: Jurisdiction,
    queries: list[Query],
    *,
    today: dt.date | None = None,
    max_age: float = 0,
) -> dict:
    """Answer a batch: `{key: {"result": [candidates best first]}}` in the 0.2 shape; the
    course index may be up to `max_age` seconds behind the database."""
    today = today or dt.date.today()
    by_type: dict[str, list[Query]] = {"course": [], "category": []}
    for q in queries:
        known = [t for t in q.types if t in TYPES]
        if known:
            by_type[known[0]].append(q)
    answers: dict[str, list] = {}
    if by_type["course"]:
        answers.update(_reconcile_courses(session, jurisdiction, by_type["course"], today, max_age))
    if by_type["category"]:
        answers.update(_reconcile_categories(session, jurisdiction, by_type["category"]))
    return {q.key: {"result": answers.get(q.key, [])} for q in queries}
