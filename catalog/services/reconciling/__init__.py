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

from catalog.models import Jurisdiction
from catalog.services.reconciling.categories import reconcile_categories
from catalog.services.reconciling.courses import course_description, reconcile_courses
from catalog.services.reconciling.queries import (
    MATCH_MARGIN,
    MATCH_THRESHOLD,
    MATCH_TITLE_MIN,
    MAX_BATCH,
    MAX_QUERY_CHARS,
    QUERY_PROPERTIES,
    TYPES,
    BadRequest,
    Query,
    TooLarge,
    parse_batch,
)

__all__ = [
    "MATCH_MARGIN",
    "MATCH_THRESHOLD",
    "MATCH_TITLE_MIN",
    "MAX_BATCH",
    "MAX_QUERY_CHARS",
    "QUERY_PROPERTIES",
    "TYPES",
    "BadRequest",
    "Query",
    "TooLarge",
    "course_description",
    "parse_batch",
    "reconcile",
]


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
        answers.update(reconcile_courses(session, jurisdiction, by_type["course"], today, max_age))
    if by_type["category"]:
        answers.update(reconcile_categories(session, jurisdiction, by_type["category"]))
    return {q.key: {"result": answers.get(q.key, [])} for q in queries}
