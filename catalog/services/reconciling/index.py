"""The matching index of the published courses: titles read as the engine reads them, a word
index for retrieval, cached per process and rebuilt when the published courses change (count, last
id, last edit, last decision, the day)."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import text

from catalog.models import Jurisdiction
from catalog.services.courses import normalise_title
from catalog.services.publishing import sql as psql
from catalog.services.publishing.listing import Taxonomy
from catalog.services.suggesting import get_engine
from mapping import normalise

__all__ = [
    "FUNCTION_WORDS",
    "HOURS",
    "CourseIndex",
    "clear_cache",
    "course_index",
    "numbers",
    "read_words",
]

FUNCTION_WORDS = frozenset("a an and the of for in on to with by at from or vs".split())
HOURS = re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(?:hours?|hrs?|hr|h)\b\.?", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")


@dataclass
class CourseIndex:
    """The published courses of one jurisdiction, prepared for matching (cached per process)."""

    signature: tuple
    ids: list[int] = field(default_factory=list)
    courses: list[dict] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # normalised words, function words dropped
    sorted_keys: list[str] = field(default_factory=list)  # the same words in sorted order
    identity: list[str] = field(default_factory=list)  # normalise_title(title)
    numbers: list[frozenset] = field(default_factory=list)
    postings: dict[str, np.ndarray] = field(default_factory=dict)
    by_id: dict[int, int] = field(default_factory=dict)
    compiled: object = None  # the engine's compiled taxonomy the titles were read with
    checked_at: float = 0.0  # time.monotonic() of the last signature check

    def words(self, titles: list[str]) -> list[list[str]]:
        """Query titles read exactly as the index's titles were."""
        return read_words(self.compiled, titles)


_CACHE: dict[tuple[str, int], CourseIndex] = {}
_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every index (tests that rebuild the database under the same URL)."""
    with _LOCK:
        _CACHE.clear()


def read_words(compiled, titles: list[str]) -> list[list[str]]:
    """Each title's words as the engine reads them: normalised, stemmed, abbreviations expanded."""
    cache: dict[str, list[str]] = {}
    out = []
    for title in titles:
        if title not in cache:
            tokens = compiled.prepare(normalise(title))
            cache[title] = [t.key for t in tokens if t.key not in FUNCTION_WORDS]
        out.append(cache[title])
    return out


def numbers(title: str) -> frozenset:
    """The numbers in a title other than its hours (course numbers tell courses apart)."""
    return frozenset(_NUMBER.findall(HOURS.sub(" ", title or "")))


def _signature(session, jurisdiction: Jurisdiction, today: dt.date) -> tuple:
    dialect = session.get_bind().dialect.name
    row = session.execute(
        text(
            "SELECT count(*), max(c.id), max(c.updated_at), max(c.decided_at) FROM courses c "
            "WHERE c.jurisdiction_id = :j AND " + " AND ".join(psql.published_sql())
        ),
        {"j": jurisdiction.id, "today": psql.today_param(dialect, today)},
    ).one()
    # The abbreviations change how titles read (staff edit them in /admin).
    abbreviations = session.execute(
        text("SELECT count(*), max(id) FROM abbreviations WHERE jurisdiction_id = :j"),
        {"j": jurisdiction.id},
    ).one()
    return (jurisdiction.id, today.isoformat(), *(str(v) for v in (*row, *abbreviations)))


def course_index(
    session, jurisdiction: Jurisdiction, *, today: dt.date | None = None, max_age: float = 0
):
    """The matching index of the jurisdiction's published courses, rebuilt when they change.

    Whether they changed is checked at most every `max_age` seconds (the check counts the
    published courses: a scan that would otherwise be a good share of a small batch)."""
    today = today or dt.date.today()
    cache_key = (str(session.get_bind().url), jurisdiction.id)
    with _LOCK:
        cached = _CACHE.get(cache_key)
    now = time.monotonic()
    if (
        cached is not None
        and now - cached.checked_at < max_age
        and cached.signature[1] == today.isoformat()
    ):
        return cached
    signature = _signature(session, jurisdiction, today)
    if cached is not None and cached.signature == signature:
        cached.checked_at = now
        return cached
    dialect = session.get_bind().dialect.name
    rows = session.execute(
        text(
            f"SELECT {psql.COLUMNS} FROM courses c JOIN providers p ON p.id = c.provider_id "
            "WHERE c.jurisdiction_id = :j AND " + " AND ".join(psql.published_sql()) + " "
            "ORDER BY c.id"
        ),
        {"j": jurisdiction.id, "today": psql.today_param(dialect, today)},
    ).all()
    courses = [psql.course_dict(row, marked=False) for row in rows]
    for course in courses:
        course.pop("title_html", None)
        course.pop("snippet_html", None)
    taxonomy = Taxonomy.load(session, jurisdiction.id)
    for start in range(0, len(courses), 900):
        psql.attach_categories(session, courses[start : start + 900], taxonomy)
    index = CourseIndex(signature, checked_at=now)
    index.courses = courses
    index.ids = [c["id"] for c in courses]
    index.by_id = {cid: i for i, cid in enumerate(index.ids)}
    index.compiled = get_engine(session, jurisdiction, with_examples=False).compiled
    title_words = index.words([c["title"] for c in courses])
    index.keys = [" ".join(w) for w in title_words]
    index.sorted_keys = [" ".join(sorted(w)) for w in title_words]
    index.identity = [normalise_title(c["title"]) for c in courses]
    index.numbers = [numbers(c["title"]) for c in courses]
    postings: dict[str, list[int]] = {}
    for i, ws in enumerate(title_words):
        for w in set(ws):
            postings.setdefault(w, []).append(i)
    index.postings = {w: np.asarray(p, dtype=np.int32) for w, p in postings.items()}
    with _LOCK:
        _CACHE[cache_key] = index
    return index
