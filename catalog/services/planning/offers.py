"""The approved, currently valid courses a plan may use, and matching records against them.

`load_offers` reads every published course of the jurisdiction (the one rule of publication,
services/publishing/rule.py: approved, approved_until today or later) with its decided areas and
topics in two queries.
`match_records` finds each training record's course: by approved course id, by control number
or provider code, else by title with rapidfuzz over normalised titles (the app's title
normalisation), within the record's provider first and then across providers; records that
match nothing get the engine's suggestion in one batch (the same engine and taxonomy as the
catalog's suggestions).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process, utils
from sqlalchemy import case, func, select

from catalog.models import Category, Course, CourseCategory, Jurisdiction, Provider
from catalog.services.courses import normalise_title
from catalog.services.planning.rules import RuleSet, cents
from catalog.services.publishing.rule import published_clause
from catalog.services.suggesting import get_engine, suggested_labels
from mapping import CourseInput

# Title scores (rapidfuzz token_sort_ratio, 0-100) at which a record is taken to be a course.
WITHIN_PROVIDER_CUTOFF = 80
ANY_PROVIDER_CUTOFF = 90
SHOWN_CUTOFF = 50  # closest courses offered as corrections on the page
CHUNK = 2000  # records per cdist call: CHUNK x courses bytes at most
_CODE = re.compile(r"[^0-9a-z]+")
_COURSE_NUMBER = re.compile(r"^\d{3,5}$")


def code_key(value: str | None) -> str:
    """A control number or provider code folded for comparison ('MO-T 0012' == 'mot0012')."""
    return _CODE.sub("", (value or "").casefold())


@dataclass
class Offers:
    """Published courses as parallel arrays (position = index into every list)."""

    ids: list[int] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    norm_titles: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    delivery: list[str] = field(default_factory=list)
    provider_slug: list[str] = field(default_factory=list)
    provider_name: list[str] = field(default_factory=list)
    approved_provider: list[bool] = field(default_factory=list)
    hours_cents: list[int] = field(default_factory=list)
    control_number: list[str] = field(default_factory=list)
    areas: list[dict[str, int]] = field(default_factory=list)
    topics: list[dict[str, int | None]] = field(default_factory=list)
    by_id: dict[int, int] = field(default_factory=dict)
    by_code: dict[str, list[int]] = field(default_factory=dict)
    by_provider: dict[str, list[int]] = field(default_factory=dict)
    by_title: dict[str, list[int]] = field(default_factory=dict)  # normalised title -> positions
    provider_keys: dict[str, str] = field(default_factory=dict)  # folded slug/name -> slug

    def __len__(self) -> int:
        return len(self.ids)

    def gives_matrix(self, rules: RuleSet) -> np.ndarray:
        """Courses x rows: what each course gives toward each row of `rules` (its own delivery)."""
        rows = [
            rules.gives(h, a, t, d, ap)
            for h, a, t, d, ap in zip(
                self.hours_cents,
                self.areas,
                self.topics,
                self.delivery,
                self.approved_provider,
                strict=True,
            )
        ]
        return np.array(rows, dtype=np.int64).reshape(len(rows), len(rules.rows))

    def provider_of(self, text: str | None) -> str | None:
        """The provider slug a record names (by slug or name, loosely), or None."""
        key = normalise_title(text or "")
        return self.provider_keys.get(key) if key else None


_CACHE: OrderedDict[tuple, Offers] = OrderedDict()
_CACHE_SIZE = 2
_LOCK = threading.Lock()


def _signature(session, jurisdiction: Jurisdiction, today: dt.date) -> tuple:
    """What the published list depends on: the jurisdiction's courses (count, last change, last
    decision) and the providers' approved-provider flags; cheap to read on every request."""
    courses = session.execute(
        select(
            func.count(Course.id), func.max(Course.updated_at), func.max(Course.decided_at)
        ).where(Course.jurisdiction_id == jurisdiction.id)
    ).one()
    providers = session.execute(
        select(
            func.count(Provider.id),
            func.sum(case((Provider.approved_provider.is_(True), Provider.id), else_=0)),
            func.max(Provider.created_at),
        )
    ).one()
    return (jurisdiction.id, today, *map(str, courses), *map(str, providers))


def load_offers(session, jurisdiction: Jurisdiction, today: dt.date) -> Offers:
    """Every published course of the jurisdiction with its decided categories (kept per process
    until a course, a decision or a provider's approved flag changes; read-only afterwards)."""
    key = _signature(session, jurisdiction, today)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    offers = _load_offers(session, jurisdiction, today)
    with _LOCK:
        _CACHE[key] = offers
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return offers


def _load_offers(session, jurisdiction: Jurisdiction, today: dt.date) -> Offers:
    published = (Course.jurisdiction_id == jurisdiction.id, *published_clause(Course, today))
    offers = Offers()
    rows = session.execute(
        select(
            Course.id,
            Course.title,
            Course.hours,
            Course.delivery,
            Course.control_number,
            Course.provider_code,
            Provider.slug,
            Provider.name,
            Provider.approved_provider,
        )
        .join(Provider, Provider.id == Course.provider_id)
        .where(*published)
        .order_by(Course.id)
    ).all()
    for cid, title, hours, delivery, control, code, slug, name, approved in rows:
        pos = len(offers.ids)
        offers.ids.append(cid)
        offers.titles.append(title)
        offers.norm_titles.append(normalise_title(title))
        offers.urls.append("")
        offers.delivery.append(delivery)
        offers.provider_slug.append(slug)
        offers.provider_name.append(name)
        offers.approved_provider.append(bool(approved))
        offers.hours_cents.append(cents(hours))
        offers.control_number.append(control or "")
        offers.areas.append({})
        offers.topics.append({})
        offers.by_id[cid] = pos
        for value in {code_key(control), code_key(code)} - {""}:
            offers.by_code.setdefault(value, []).append(pos)
        offers.by_provider.setdefault(slug, []).append(pos)
        offers.by_title.setdefault(offers.norm_titles[pos], []).append(pos)
        offers.provider_keys.setdefault(normalise_title(slug), slug)
        offers.provider_keys.setdefault(normalise_title(name), slug)
    categories = session.execute(
        select(CourseCategory.course_id, Category.slug, Category.kind, CourseCategory.hours)
        .join(Category, Category.id == CourseCategory.category_id)
        .join(Course, Course.id == CourseCategory.course_id)
        .where(CourseCategory.source == "decided", *published)
    ).all()
    for cid, slug, kind, hours in categories:
        pos = offers.by_id.get(cid)
        if pos is None:
            continue
        if kind == "area":
            offers.areas[pos][slug] = cents(hours)
        else:
            offers.topics[pos][slug] = cents(hours) if hours is not None else None
    return offers


@dataclass
class Match:
    """How one record was matched: the course position (None: no approved course), the score
    (100 for an id or code), the method, the closest courses (page corrections) and, when
    unmatched, the engine's suggestion (a Suggestion.to_dict())."""

    position: int | None
    score: int
    method: str
    closest: list[tuple[int, int]] = field(default_factory=list)  # (position, score)
    suggestion: dict | None = None
    note: str = ""


def _by_code(offers: Offers, record, provider: str | None) -> int | None:
    key = code_key(record.control_number)
    if not key:
        return None
    found = offers.by_code.get(key, [])
    if provider:
        mine = [p for p in found if offers.provider_slug[p] == provider]
        if mine:
            return mine[0]
    return found[0] if len(found) == 1 else None


def _cdist(queries: list[str], choices: list[str]):
    """Scores (uint8, 0 below SHOWN_CUTOFF) of every query against every choice, in chunks."""
    for lo in range(0, len(queries), CHUNK):
        yield (
            lo,
            process.cdist(
                queries[lo : lo + CHUNK],
                choices,
                scorer=fuzz.token_sort_ratio,
                processor=utils.default_process,
                score_cutoff=SHOWN_CUTOFF,
                dtype=np.uint8,
                workers=-1,
            ),
        )


def _fuzzy(offers: Offers, records, todo: list[int], providers, matches, closest_n) -> None:
    """Title matching for the records at `todo`: the same normalised title first (within the
    provider, then any), then rapidfuzz within the record's provider, then across providers;
    each step batched over the distinct titles still open."""
    exact = offers.by_title
    norm = {i: normalise_title(records[i].title) for i in todo}
    open_: list[int] = []
    for i in todo:
        found = exact.get(norm[i], [])
        mine = [p for p in found if offers.provider_slug[p] == providers[i]]
        if mine or found:
            matches[i] = Match((mine or found)[0], 100, "title")
        elif norm[i]:
            open_.append(i)
        else:
            matches[i] = Match(None, 0, "none")
    # within the record's provider
    by_provider: dict[str, list[int]] = {}
    for i in open_:
        if providers[i] in offers.by_provider:
            by_provider.setdefault(providers[i], []).append(i)
    mine_best: dict[int, tuple[int, int]] = {}
    for provider, rows in by_provider.items():
        cols = offers.by_provider[provider]
        queries = list(dict.fromkeys(norm[i] for i in rows))
        at = {q: n for n, q in enumerate(queries)}
        choices = [offers.norm_titles[c] for c in cols]
        best: dict[int, tuple[int, int]] = {}
        for lo, matrix in _cdist(queries, choices):
            top = matrix.argmax(axis=1)
            for r in range(len(top)):
                best[lo + r] = (cols[int(top[r])], int(matrix[r, top[r]]))
        for i in rows:
            mine_best[i] = best[at[norm[i]]]
            if mine_best[i][1] >= WITHIN_PROVIDER_CUTOFF and not closest_n:
                matches[i] = Match(mine_best[i][0], mine_best[i][1], "title")
    # across providers (and the closest courses, when asked)
    rest = [i for i in open_ if matches[i] is None]
    queries = list(dict.fromkeys(norm[i] for i in rest))
    at = {q: n for n, q in enumerate(queries)}
    overall: dict[int, tuple[int, int]] = {}
    closest: dict[int, list[tuple[int, int]]] = {}
    for lo, matrix in _cdist(queries, offers.norm_titles):
        top = matrix.argmax(axis=1)
        for r in range(len(top)):
            overall[lo + r] = (int(top[r]), int(matrix[r, top[r]]))
            if closest_n:
                row = matrix[r]
                picks = np.argsort(-row.astype(np.int16), kind="stable")[:closest_n]
                closest[lo + r] = [(int(p), int(row[p])) for p in picks if row[p] > 0]
        del matrix
    for i in rest:
        q = at[norm[i]]
        mine = mine_best.get(i)
        if mine and mine[1] >= WITHIN_PROVIDER_CUTOFF:
            matches[i] = Match(mine[0], mine[1], "title", closest.get(q, []))
        elif overall[q][1] >= ANY_PROVIDER_CUTOFF:
            matches[i] = Match(overall[q][0], overall[q][1], "title", closest.get(q, []))
        else:
            score = max(overall[q][1], mine[1] if mine else 0)
            matches[i] = Match(None, score, "none", closest.get(q, []))


def match_records(
    session, jurisdiction: Jurisdiction, offers: Offers, records, *, closest: int = 0
) -> list[Match]:
    """One Match per record, in order (see the module docstring)."""
    matches: list[Match | None] = [None] * len(records)
    providers = [offers.provider_of(r.provider) for r in records]
    todo: list[int] = []
    for i, record in enumerate(records):
        if record.course_id is not None:
            pos = offers.by_id.get(record.course_id)
            if pos is not None:
                matches[i] = Match(pos, 100, "course_id")
                continue
        pos = _by_code(offers, record, providers[i])
        if pos is not None:
            matches[i] = Match(pos, 100, "control_number")
            continue
        todo.append(i)
    if todo and len(offers):
        _fuzzy(offers, records, todo, providers, matches, closest)
    for i in todo:
        if matches[i] is None:
            matches[i] = Match(None, 0, "none")
    unmatched = [i for i, m in enumerate(matches) if m.position is None]
    if unmatched:
        engine = get_engine(session, jurisdiction)
        inputs = [_engine_input(records[i]) for i in unmatched]
        for i, result in zip(unmatched, engine.suggest_many(inputs), strict=True):
            matches[i].suggestion = result.to_dict()
            if records[i].course_id is not None:
                matches[i].note = f"Course {records[i].course_id} is not an approved course now."
    return matches  # type: ignore[return-value]


def _engine_input(record) -> CourseInput:
    title = record.title or ""
    number = (record.control_number or "").strip().lstrip("#")
    if _COURSE_NUMBER.match(number) and number not in title:
        title = f"{title} (#{number})"  # a course number decides a topic (e.g. TCOLE 1849)
    return CourseInput(
        title=title,
        hours=record.hours,
        delivery=record.delivery or None,
    )


def suggestion_credit(suggestion: dict, total_cents: int) -> tuple[dict[str, int], dict]:
    """(area -> hundredths, topic -> None) that an unapproved record counts with: the engine's
    suggested split scaled to the record's hours (all of them to the top area if unsplit)."""
    areas, topics = suggested_labels(suggestion or {})
    split = {slug: cents(h) for slug, h in areas.items()}
    given = sum(split.values())
    if not split:
        out: dict[str, int] = {}
    elif given != total_cents:
        top = next(iter(split))
        out = {top: total_cents} if given == 0 else {}
        if given:
            running = 0
            for n, (slug, value) in enumerate(split.items()):
                share = (
                    total_cents - running if n == len(split) - 1 else (value * total_cents) // given
                )
                running += share
                out[slug] = share
    else:
        out = split
    return out, {slug: None for slug in topics}


def provider_choices(session, jurisdiction: Jurisdiction, today: dt.date) -> list[tuple[str, str]]:
    """(slug, name) of every provider with a published course, by name (the page's choices)."""
    rows = session.execute(
        select(Provider.slug, Provider.name)
        .join(Course, Course.provider_id == Provider.id)
        .where(
            Course.jurisdiction_id == jurisdiction.id,
            *published_clause(Course, today),
        )
        .distinct()
        .order_by(Provider.name)
    ).all()
    return [(slug, name) for slug, name in rows]
