"""Evaluate the engine on a gold CSV (title, area, topics[, ambiguous, hours, delivery, ...]).

Figures: area top-1/top-3 (also on rows not marked ambiguous), micro topic precision/recall/F1,
per-topic figures, and confident-but-wrong suggestions.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .results import DELIVERY_MODES, CourseInput, Example, Suggestion
from .taxonomy import Taxonomy

if TYPE_CHECKING:
    from .engine import Engine

__all__ = [
    "EvaluationError",
    "GoldRow",
    "Report",
    "evaluate",
    "read_courses",
    "read_examples",
    "read_gold",
    "score",
]


class EvaluationError(ValueError):
    """A bad input file; the message names the row or column."""


@dataclass(frozen=True, slots=True)
class GoldRow:
    """One labelled course."""

    row: int  # 1-based line number in the file (header is line 1)
    course: CourseInput
    area: str
    topics: frozenset[str]
    ambiguous: bool | None = None
    source: str = ""

    def example(self) -> Example:
        """This row as a staff decision (its area with weight 1, its topics)."""
        return Example(self.course.title, {self.area: Decimal(1)}, tuple(sorted(self.topics)))


def _rows(path: str | Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            if missing:
                raise EvaluationError(
                    f"{path}: missing column(s) {', '.join(missing)} "
                    f"(header has: {', '.join(header) or 'nothing'})"
                )
            reader.fieldnames = header
            for n, raw in enumerate(reader, start=2):
                yield n, {k: (v or "").strip() for k, v in raw.items() if k is not None}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvaluationError(f"{path}: cannot read the file: {exc}") from exc


def _course(path: str | Path, n: int, row: dict[str, str]) -> CourseInput:
    title = row.get("title", "")
    if not title:
        raise EvaluationError(f"{path}: row {n}, column 'title': empty title")
    hours = None
    if row.get("hours"):
        try:
            hours = Decimal(row["hours"])
        except InvalidOperation:
            raise EvaluationError(
                f"{path}: row {n}, column 'hours': not a number: {row['hours']!r}"
            ) from None
        if not hours.is_finite() or hours < 0:
            raise EvaluationError(f"{path}: row {n}, column 'hours': must be >= 0")
    delivery = (row.get("delivery") or "").lower().replace(" ", "-").replace("_", "-") or None
    if delivery is not None and delivery not in DELIVERY_MODES:
        raise EvaluationError(
            f"{path}: row {n}, column 'delivery': {row['delivery']!r} is not "
            f"one of {', '.join(DELIVERY_MODES)}"
        )
    return CourseInput(
        title, row.get("description") or None, row.get("objectives") or None, hours, delivery
    )


def read_courses(path: str | Path) -> list[CourseInput]:
    """Courses from a CSV with a `title` column (optional description, objectives, hours...)."""
    return [_course(path, n, row) for n, row in _rows(path, ["title"])]


def read_gold(path: str | Path, taxonomy: Taxonomy) -> list[GoldRow]:
    """Labelled rows from a gold CSV, checking every slug against the taxonomy."""
    areas = {c.slug for c in taxonomy.areas}
    topics = {c.slug for c in taxonomy.topics}
    out = []
    for n, row in _rows(path, ["title", "area", "topics"]):
        course = _course(path, n, row)
        if row["area"] not in areas:
            raise EvaluationError(
                f"{path}: row {n}, column 'area': unknown area slug "
                f"{row['area']!r} (expected one of {', '.join(sorted(areas))})"
            )
        tags = frozenset(t.strip() for t in row["topics"].split(";") if t.strip())
        bad = sorted(tags - topics)
        if bad:
            raise EvaluationError(
                f"{path}: row {n}, column 'topics': unknown topic slug(s) "
                f"{', '.join(bad)} (expected {', '.join(sorted(topics))})"
            )
        amb_raw = row.get("ambiguous", "").lower()
        ambiguous = None if "ambiguous" not in row else amb_raw in ("yes", "y", "true", "1")
        out.append(GoldRow(n, course, row["area"], tags, ambiguous, row.get("source", "")))
    return out


def _area_hours(path: str | Path, n: int, raw: str, areas: set[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for part in (p.strip() for p in raw.split(";")):
        if not part:
            continue
        slug, sep, hours = part.partition(":")
        slug = slug.strip()
        if slug not in areas:
            raise EvaluationError(
                f"{path}: row {n}, column 'area_hours': unknown area slug {slug!r} "
                f"(expected one of {', '.join(sorted(areas))})"
            )
        try:
            value = Decimal(hours.strip()) if sep else Decimal(1)
        except InvalidOperation:
            raise EvaluationError(
                f"{path}: row {n}, column 'area_hours': not a number of hours: {hours!r}"
            ) from None
        if not value.is_finite() or value < 0:
            raise EvaluationError(f"{path}: row {n}, column 'area_hours': hours must be >= 0")
        out[slug] = out.get(slug, Decimal(0)) + value
    return out


def read_examples(path: str | Path, taxonomy: Taxonomy) -> list[Example]:
    """Staff decisions from a CSV: `title`, `area` or `area_hours` ("slug:h;slug:h"), `topics`."""
    areas = {c.slug for c in taxonomy.areas}
    topics = {c.slug for c in taxonomy.topics}
    out = []
    for n, row in _rows(path, ["title"]):
        if not row.get("title"):
            raise EvaluationError(f"{path}: row {n}, column 'title': empty title")
        if row.get("area_hours"):
            decided = _area_hours(path, n, row["area_hours"], areas)
        elif row.get("area"):
            if row["area"] not in areas:
                raise EvaluationError(
                    f"{path}: row {n}, column 'area': unknown area slug {row['area']!r} "
                    f"(expected one of {', '.join(sorted(areas))})"
                )
            decided = {row["area"]: Decimal(1)}
        else:
            raise EvaluationError(f"{path}: row {n}: needs an 'area' or 'area_hours' value")
        tags = [t.strip() for t in (row.get("topics") or "").split(";") if t.strip()]
        bad = sorted(set(tags) - topics)
        if bad:
            raise EvaluationError(
                f"{path}: row {n}, column 'topics': unknown topic slug(s) {', '.join(bad)} "
                f"(expected {', '.join(sorted(topics))})"
            )
        out.append(Example(row["title"], decided, tuple(tags)))
    return out


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


@dataclass(frozen=True)
class Report:
    """Evaluation figures (see module docstring); `to_dict()` is the --json output."""

    figures: dict[str, Any]
    misses: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able figures plus the list of misses."""
        return {**self.figures, "misses": self.misses}

    def format(self) -> str:
        """Readable table."""
        f = self.figures
        lines = [f"{'rows':<28}{f['n']}"]
        for key in (
            "area_top1",
            "area_top1_unambiguous",
            "area_top3",
            "topic_precision",
            "topic_recall",
            "topic_f1",
            "confident_wrong",
            "confident_wrong_rate",
            "confident_area_share",
            "confident_area_precision",
            "confident_labels",
            "confident_label_precision",
            "seconds",
        ):
            if key in f:
                lines.append(f"{key:<28}{f[key]}")
        lines.append("")
        lines.append(f"{'topic':<22}{'precision':>10}{'recall':>10}{'support':>10}")
        for slug, t in f["per_topic"].items():
            lines.append(f"{slug:<22}{t['precision']:>10}{t['recall']:>10}{t['support']:>10}")
        if self.misses:
            lines.append("")
            lines.append(f"misses ({len(self.misses)}):")
            for m in self.misses:
                lines.append(
                    f"  row {m['row']}: {m['title']!r} gold {m['gold_area']} "
                    f"{sorted(m['gold_topics'])} -> {m['area']} {sorted(m['topics'])}"
                    f"{' CONFIDENT' if m['confident_wrong'] else ''}"
                )
        return "\n".join(lines)


def evaluate(
    gold: str | Path | Sequence[GoldRow],
    taxonomy: Taxonomy | None = None,
    *,
    engine: Engine | None = None,
) -> Report:
    """Run the engine over gold rows (or a gold CSV path) and compute the figures."""
    from .engine import Engine

    if engine is None:
        if taxonomy is None:
            raise ValueError("evaluate needs a taxonomy or an engine")
        engine = Engine(taxonomy)
    tax = engine.taxonomy
    rows = read_gold(gold, tax) if isinstance(gold, str | Path) else list(gold)
    started = time.perf_counter()
    suggestions = engine.suggest_many([r.course for r in rows])
    seconds = time.perf_counter() - started
    return score(rows, suggestions, tax, seconds)


def score(
    rows: Sequence[GoldRow], suggestions: Sequence[Suggestion], tax: Taxonomy, seconds: float = 0.0
) -> Report:
    """The figures of suggestions against their gold rows (same order)."""
    top1 = top3 = unamb = unamb_ok = conf_wrong = 0
    conf_rows = conf_rows_ok = conf_labels = conf_labels_ok = 0
    tp = fp = fn = 0
    per = {t.slug: {"tp": 0, "fp": 0, "fn": 0} for t in tax.topics}
    misses = []
    for row, s in zip(rows, suggestions, strict=True):
        ranked = [a.slug for a in s.areas]
        ok = bool(ranked) and ranked[0] == row.area
        top1 += ok
        top3 += row.area in ranked[:3]
        if row.ambiguous is False:
            unamb += 1
            unamb_ok += ok
        predicted = set(s.topic_slugs)
        for slug in predicted | row.topics:
            bucket = per.setdefault(slug, {"tp": 0, "fp": 0, "fn": 0})
            key = (
                "tp"
                if slug in predicted and slug in row.topics
                else ("fp" if slug in predicted else "fn")
            )
            bucket[key] += 1
        tp += len(predicted & row.topics)
        fp += len(predicted - row.topics)
        fn += len(row.topics - predicted)
        wrong = (not ok and s.areas[0].confident) or any(
            t.confident and t.slug not in row.topics for t in s.topics
        )
        conf_wrong += wrong
        if s.areas[0].confident:
            conf_rows += 1
            conf_rows_ok += ok
        sure = [ok for a in s.areas[:1] if a.confident]
        sure += [t.slug in row.topics for t in s.topics if t.confident]
        conf_labels += len(sure)
        conf_labels_ok += sum(sure)
        if not ok or predicted != row.topics:
            misses.append(
                {
                    "row": row.row,
                    "title": row.course.title,
                    "gold_area": row.area,
                    "gold_topics": sorted(row.topics),
                    "area": ranked[0],
                    "topics": sorted(predicted),
                    "ambiguous": row.ambiguous,
                    "confident_wrong": wrong,
                    "reason": s.reason,
                }
            )
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    n = len(rows)
    figures: dict[str, Any] = {
        "n": n,
        "area_top1": _ratio(top1, n),
        "area_top3": _ratio(top3, n),
        "topic_precision": precision,
        "topic_recall": recall,
        "topic_f1": round(2 * precision * recall / (precision + recall), 4)
        if precision + recall
        else 0.0,
        "confident_wrong": conf_wrong,
        "confident_wrong_rate": _ratio(conf_wrong, n),
        "confident_area_share": _ratio(conf_rows, n),
        "confident_area_precision": _ratio(conf_rows_ok, conf_rows),
        "confident_labels": conf_labels,
        "confident_label_precision": _ratio(conf_labels_ok, conf_labels),
        "per_topic": {
            slug: {
                "precision": _ratio(b["tp"], b["tp"] + b["fp"]),
                "recall": _ratio(b["tp"], b["tp"] + b["fn"]),
                "support": b["tp"] + b["fn"],
            }
            for slug, b in per.items()
        },
        "seconds": round(seconds, 4),
    }
    if any(r.ambiguous is not None for r in rows):
        figures["n_unambiguous"] = unamb
        figures["area_top1_unambiguous"] = _ratio(unamb_ok, unamb)
    return Report(figures, misses)
