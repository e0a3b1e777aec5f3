"""The review queue's query: parsed filters, facet counts with toggle URLs, one paginated select."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from catalog.models import COURSE_STATUSES, CatalogSubmission, Category, Course, CourseCategory
from catalog.models import Provider as ProviderModel

BANDS = {
    "low": ("Below 50", 0, 49),
    "mid": ("50 to 79", 50, 79),
    "high": ("80 and above", 80, 100),
}
SORTS = {
    "unsure": "Engine unsure first",
    "sure": "Engine sure first",
    "title": "Title",
    "provider": "Provider",
    "newest": "Newest first",
    "useful": "Most useful to decide next",
}
# "changes": approved courses whose provider changed the text; the approved version stays
# published while the change waits (services/revisions.py).
STATUSES = (*COURSE_STATUSES, "changes", "all")
PER_PAGE = 25
MAX_PER_PAGE = 100
FILTER_KEYS = ("q", "provider", "catalog", "area", "topic", "band", "status", "sort", "per_page")
MAX_WORDS = 8  # of the text search; each word must match the title, a code or the provider


def _band_expr():
    return case(
        (Course.suggestion_score >= 80, "high"),
        (Course.suggestion_score >= 50, "mid"),
        else_="low",
    )


def text_condition(q: str):
    """Every word of `q` in the course's title, provider course code, control number or number,
    or in its provider's name (case-insensitive, the same on SQLite and PostgreSQL)."""
    conds = []
    for word in q.lower().split()[:MAX_WORDS]:
        word = word[:60]
        either = [
            func.lower(Course.title).contains(word, autoescape=True),
            func.lower(func.coalesce(Course.provider_code, "")).contains(word, autoescape=True),
            func.lower(Course.control_number).contains(word, autoescape=True),
            Course.provider_id.in_(
                select(ProviderModel.id).where(
                    func.lower(ProviderModel.name).contains(word, autoescape=True)
                )
            ),
        ]
        number = word.lstrip("#")
        if number.isdigit() and len(number) < 10:
            either.append(Course.id == int(number))
        conds.append(or_(*either))
    return and_(*conds) if conds else None


@dataclass
class QueueQuery:
    """The queue's filters as parsed from the URL (one per facet, plus a text search)."""

    q: str = ""
    provider: str | None = None
    catalog: int | None = None
    area: str | None = None
    topic: str | None = None
    band: str | None = None
    status: str = "pending"
    sort: str = "unsure"
    page: int = 1
    per_page: int = PER_PAGE
    notices: list[str] = field(default_factory=list)
    categories: dict[str, Category] = field(default_factory=dict)
    # Builds the queue's URL from query arguments (the view passes url_for for review.queue).
    link: Callable[..., str] = field(default=lambda **args: "?", repr=False)

    @classmethod
    def from_args(
        cls, args, categories: dict[str, Category], link: Callable[..., str]
    ) -> QueueQuery:
        """Parse query arguments; unknown values are ignored with a notice, never an error."""
        q = cls(categories=categories, link=link)

        def pick(name, allowed, default=None):
            value = (args.get(name) or "").strip()
            if not value:
                return default
            if value in allowed:
                return value
            q.notices.append(f"Ignored unknown {name} '{value[:40]}'.")
            return default

        q.q = " ".join((args.get("q") or "").split())[:200]
        q.provider = (args.get("provider") or "").strip()[:64] or None
        areas = {s for s, c in categories.items() if c.kind == "area"}
        topics = {s for s, c in categories.items() if c.kind == "topic"}
        q.area = pick("area", areas)
        q.topic = pick("topic", topics)
        q.band = pick("band", BANDS)
        q.status = pick("status", STATUSES, "pending")
        q.sort = pick("sort", SORTS, "unsure")
        for name, low, high, default in (
            ("catalog", 1, 2**31 - 1, None),
            ("page", 1, 100000, 1),
            ("per_page", 1, MAX_PER_PAGE, PER_PAGE),
        ):
            raw = (args.get(name) or "").strip()
            if not raw:
                setattr(q, name, default)
                continue
            try:
                value = int(raw)
            except ValueError:
                q.notices.append(f"Ignored {name} '{raw[:20]}': not a whole number.")
                setattr(q, name, default)
                continue
            setattr(q, name, min(max(value, low), high))
        return q

    def args(self, **changes) -> dict:
        """Current filters as query arguments, with `changes` applied (None removes)."""
        current = {
            "q": self.q or None,
            "provider": self.provider,
            "catalog": self.catalog,
            "area": self.area,
            "topic": self.topic,
            "band": self.band,
            "status": None if self.status == "pending" else self.status,
            "sort": None if self.sort == "unsure" else self.sort,
            "per_page": None if self.per_page == PER_PAGE else self.per_page,
        }
        current.update(changes)
        return {k: v for k, v in current.items() if v is not None}

    def url(self, **changes) -> str:
        """The queue's URL with the current filters and `changes` applied."""
        return self.link(**self.args(**changes))

    def _has_category(self, slug: str):
        category = self.categories[slug]
        row = aliased(CourseCategory)  # the facet queries join CourseCategory themselves
        return (
            exists()
            .where(
                row.course_id == Course.id,
                row.category_id == category.id,
                row.source.in_(("suggested", "decided")),
            )
            .correlate(Course)
        )

    def conditions(self, without: str | None = None) -> list:
        """WHERE conditions of the filters in use, leaving out the facet `without`."""
        conds = []
        text = text_condition(self.q) if self.q else None
        if text is not None:
            conds.append(text)
        if self.provider and without != "provider":
            conds.append(
                Course.provider_id.in_(
                    select(ProviderModel.id).where(ProviderModel.slug == self.provider)
                )
            )
        if self.catalog and without != "catalog":
            conds.append(Course.catalog_id == self.catalog)
        if self.area and without != "area":
            conds.append(self._has_category(self.area))
        if self.topic and without != "topic":
            conds.append(self._has_category(self.topic))
        if self.band and without != "band":
            _, low, high = BANDS[self.band]
            conds.append(Course.suggestion_score.between(low, high))
        if self.status == "changes" and without != "status":
            conds.append(Course.revision_at.is_not(None))
        elif self.status != "all" and without != "status":
            conds.append(Course.status == self.status)
        return conds

    def order(self, session=None, jurisdiction=None) -> tuple:
        """ORDER BY of the chosen sort, ids last so pages and bulk sets are stable ("useful"
        needs the session and the jurisdiction: the teach-me order is computed from the
        engine, see teaching.py)."""
        order = {
            "unsure": (Course.suggestion_confident, Course.suggestion_score, Course.id),
            "sure": (
                Course.suggestion_confident.desc(),
                Course.suggestion_score.desc(),
                Course.id,
            ),
            "title": (Course.normalised_title, Course.id),
            "provider": (Course.provider_id, Course.normalised_title),
            "newest": (Course.created_at.desc(), Course.id.desc()),
            "useful": (Course.suggestion_confident, Course.suggestion_score, Course.id),
        }[self.sort]
        if self.sort == "useful" and session is not None and jurisdiction is not None:
            from catalog.services.reviewing.teaching import useful_order

            ids = useful_order(session, jurisdiction, self.conditions())
            if ids:
                place = case({cid: i for i, cid in enumerate(ids)}, value=Course.id, else_=len(ids))
                order = (place, *order)
        return order

    def select(self, session=None, jurisdiction=None):
        """The filtered courses, in the chosen order, with what a queue row shows loaded."""
        return (
            select(Course)
            .where(*self.conditions())
            .options(
                joinedload(Course.provider),
                selectinload(Course.categories).selectinload(CourseCategory.category),
            )
            .order_by(*self.order(session, jurisdiction))
        )

    def pending_items(self, session, jurisdiction=None) -> list[tuple[int, int]]:
        """(id, version) of every pending course the filters select, on every page, in queue
        order: the set a bulk approval considers."""
        rows = session.execute(
            select(Course.id, Course.version)
            .where(*self.conditions(), Course.status == "pending")
            .order_by(*self.order(session, jurisdiction))
        )
        return [(cid, version) for cid, version in rows]

    def pending_count(self, session) -> int:
        """How many pending courses the filters select (all pages)."""
        return session.scalar(
            select(func.count(Course.id)).where(*self.conditions(), Course.status == "pending")
        )

    def facets(self, session) -> dict[str, list[dict]]:
        """Counts per filter value under the other filters, with a toggle URL for each."""
        facets: dict[str, list[dict]] = {}
        rows = session.execute(
            select(ProviderModel.slug, ProviderModel.name, func.count(Course.id))
            .join(Course, Course.provider_id == ProviderModel.id)
            .where(*self.conditions("provider"))
            .group_by(ProviderModel.id, ProviderModel.slug, ProviderModel.name)
            .order_by(ProviderModel.name)
        ).all()
        facets["provider"] = [
            self._value("provider", slug, name, n, self.provider) for slug, name, n in rows
        ]
        if self.provider or self.catalog:
            rows = session.execute(
                select(
                    CatalogSubmission.id,
                    CatalogSubmission.filename,
                    CatalogSubmission.created_at,
                    func.count(Course.id),
                )
                .join(Course, Course.catalog_id == CatalogSubmission.id)
                .where(*self.conditions("catalog"))
                .group_by(
                    CatalogSubmission.id, CatalogSubmission.filename, CatalogSubmission.created_at
                )
                .order_by(CatalogSubmission.created_at.desc())
                .limit(20)
            ).all()
            facets["catalog"] = [
                self._value(
                    "catalog",
                    cid,
                    f"#{cid} {name or 'catalog'} ({created:%Y-%m-%d})",
                    n,
                    self.catalog,
                )
                for cid, name, created, n in rows
            ]
        for kind in ("area", "topic"):
            rows = session.execute(
                select(Category.slug, Category.name, func.count(func.distinct(Course.id)))
                .join(CourseCategory, CourseCategory.category_id == Category.id)
                .join(Course, Course.id == CourseCategory.course_id)
                .where(
                    Category.kind == kind,
                    CourseCategory.source.in_(("suggested", "decided")),
                    *self.conditions(kind),
                )
                .group_by(Category.id, Category.slug, Category.name, Category.sort_order)
                .order_by(Category.sort_order)
            ).all()
            facets[kind] = [
                self._value(kind, slug, name, n, getattr(self, kind)) for slug, name, n in rows
            ]
        band = _band_expr()
        counts = dict(
            session.execute(
                select(band, func.count(Course.id)).where(*self.conditions("band")).group_by(band)
            ).all()
        )
        facets["band"] = [
            self._value("band", key, label, counts.get(key, 0), self.band)
            for key, (label, _, _) in BANDS.items()
        ]
        counts = dict(
            session.execute(
                select(Course.status, func.count(Course.id))
                .where(*self.conditions("status"))
                .group_by(Course.status)
            ).all()
        )
        facets["status"] = [
            {
                "value": s,
                "label": s.title(),
                "count": counts.get(s, 0),
                "selected": self.status == s,
                "url": self.url(status=None if s == "pending" else s, page=None),
            }
            for s in COURSE_STATUSES
        ] + [
            {
                "value": "changes",
                "label": "Changes to approved",
                "count": session.scalar(
                    select(func.count(Course.id)).where(
                        *self.conditions("status"), Course.revision_at.is_not(None)
                    )
                )
                or 0,
                "selected": self.status == "changes",
                "url": self.url(status="changes", page=None),
            },
            {
                "value": "all",
                "label": "All",
                "count": sum(counts.values()),
                "selected": self.status == "all",
                "url": self.url(status="all"),
            },
        ]
        return facets

    def _value(self, name, value, label, count, current) -> dict:
        selected = str(current) == str(value) if current is not None else False
        return {
            "value": value,
            "label": label,
            "count": count,
            "selected": selected,
            "url": self.url(**{name: None if selected else value}),
        }

    @property
    def active_filters(self) -> list[tuple[str, str, str]]:
        """(label, value, URL removing it) for each filter in use."""
        active = []
        if self.q:
            active.append(("search", self.q, self.url(q=None)))
        for name in ("provider", "catalog", "area", "topic", "band"):
            value = getattr(self, name)
            if value is not None:
                shown = value
                if name in ("area", "topic") and value in self.categories:
                    shown = self.categories[value].name
                if name == "band":
                    shown = BANDS[value][0]
                active.append((name, str(shown), self.url(**{name: None})))
        return active


def next_pending_id(session, after_id: int) -> int | None:
    """The next course a reviewer should open: engine-unsure first, like the queue."""
    return session.scalar(
        select(Course.id)
        .where(Course.status == "pending", Course.id != after_id)
        .order_by(Course.suggestion_confident, Course.suggestion_score, Course.id)
        .limit(1)
    )
