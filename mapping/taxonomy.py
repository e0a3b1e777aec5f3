"""The taxonomy as data: jurisdiction, abbreviations, settings and categories.

A taxonomy comes from a TOML file (`Taxonomy.load`) or from the plain dict the app rebuilds from its
database (`Taxonomy.from_dict`); `to_dict()` gives the same dict back.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

__all__ = ["Category", "Taxonomy", "TaxonomyError", "DEFAULT_SETTINGS", "default_taxonomy_path"]

KINDS = ("area", "topic")

# Engine knobs; a taxonomy's [settings] table overrides any of them.
DEFAULT_SETTINGS: dict[str, Any] = {
    "strong_score": 100,  # whole-word strong keyword (or identifier) in the title
    "weak_score": 40,  # weak keyword in the title
    "description_strong_score": 60,  # strong keyword in description/objectives
    "description_weak_score": 20,  # weak keyword in description/objectives
    "default_area_score": 75,  # a topic implies its default_area at most this much
    "fuzzy_cutoff": 80,  # token_set_ratio below this is ignored
    "fuzzy_weight": 0.6,  # fuzzy title similarity x weight = evidence score (areas)
    "fuzzy_topic_cutoff": 92,  # fuzzy evidence counts for topics only above this
    "token_fix_cutoff": 85,  # spelling fix of one title word against the vocabulary
    "token_fix_min_length": 5,
    "example_cutoff": 75,  # honest similarity (similarity.py) of the nearest decided course
    "example_weight": 0.5,  # a similar decided course adds evidence; it does not outweigh a rule
    "topic_threshold": 70,  # topics at or above this score are suggested
    # `confident` ("safe to approve without reading"): every rule must agree (a strong, non-fuzzy
    # title hit; no competing strong evidence for another area; the topic is the main subject),
    # and once staff decisions train the learned layer, its calibrated probability must clear the
    # threshold at which out-of-fold decisions were at least this precise.
    "confident_precision": 0.995,
    # the learned layer overrides an area the rules agree on only where, out of fold, such
    # overrides were at least this often right (staff deciding a class of titles against the rules)
    "override_precision": 0.9,
    "learn_min_examples": 20,  # fewer staff decisions than this: rules only, no learned layer
    "learn_weight": 10.0,  # inverse regularisation (C) of the learned layer's logistic regressions
    # where the rules are not sure of the area, a title-words model (no rule features) is the
    # second expert beside them: its inverse regularisation, and how far its likelihood ratio
    # counts against the rules' measured accuracy (an exponent: 1 = naive Bayes, smaller tempers
    # a model fitted on few decisions, whose probabilities are not calibrated)
    "learn_words_weight": 3.0,
    "learn_words_trust": 0.5,
    "split_min_score": 90,  # areas at or above this share the course hours
    "fallback_area": "technical-studies",  # gets fallback_score when nothing else fires
    "fallback_score": 5,
    "hours_step": "0.25",
    "abbreviations_upper_only": [],
    "tie_break_areas": [],
    # per-keyword score overrides for title hits, keyed "slug:keyword" (e.g. a weak word that
    # should suggest a topic for review on its own, without making it confident)
    "phrase_scores": {},  # areas preferred when two areas tie (before title position)  # abbreviations that are also English words: expand only in CAPS
}


class TaxonomyError(ValueError):
    """The taxonomy data is invalid (unknown kind, duplicate slug, dangling parent...)."""


@dataclass(frozen=True, slots=True)
class Category:
    """An area (hours partition the course) or a topic (designation counted inside the hours)."""

    slug: str
    kind: str
    name: str
    description: str = ""
    sort_order: int = 0
    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    qualifiers: tuple[str, ...] = ()  # "words" or "words ~ keyword": the keyword is a modifier
    parent: str | None = None
    default_area: str | None = None
    live_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain dict in the shape `Taxonomy.from_dict` accepts."""
        return {
            "slug": self.slug,
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "sort_order": self.sort_order,
            "strong": list(self.strong),
            "weak": list(self.weak),
            "exclusions": list(self.exclusions),
            "identifiers": list(self.identifiers),
            "qualifiers": list(self.qualifiers),
            "parent": self.parent,
            "default_area": self.default_area,
            "live_only": self.live_only,
        }


@dataclass(frozen=True)
class Taxonomy:
    """A jurisdiction's categories, abbreviations and engine settings."""

    jurisdiction: dict[str, Any]
    abbreviations: dict[str, str]
    settings: dict[str, Any]
    categories: tuple[Category, ...]
    _by_slug: dict[str, Category] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_slug.update({c.slug: c for c in self.categories})

    @cached_property
    def areas(self) -> tuple[Category, ...]:
        """Areas ordered by sort_order."""
        return tuple(sorted((c for c in self.categories if c.kind == "area"), key=_order))

    @cached_property
    def topics(self) -> tuple[Category, ...]:
        """Topics ordered by sort_order."""
        return tuple(sorted((c for c in self.categories if c.kind == "topic"), key=_order))

    def get(self, slug: str) -> Category:
        """The category with this slug (KeyError if unknown)."""
        return self._by_slug[slug]

    def setting(self, name: str) -> Any:
        """A setting from the taxonomy, else the engine default."""
        return self.settings.get(name, DEFAULT_SETTINGS[name])

    @classmethod
    def load(cls, path: str | Path) -> Taxonomy:
        """Read a taxonomy TOML file (format in seed_data/README.md)."""
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise TaxonomyError(f"cannot read taxonomy {path}: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Taxonomy:
        """Build and validate a taxonomy from a plain dict."""
        if not isinstance(data, dict):
            raise TaxonomyError("taxonomy must be a mapping")
        cats = []
        for i, raw in enumerate(data.get("categories") or []):
            cats.append(_category(raw, i))
        abbreviations = data.get("abbreviations") or {}
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in abbreviations.items()):
            raise TaxonomyError("abbreviations must map strings to strings")
        settings = dict(data.get("settings") or {})
        unknown = set(settings) - set(DEFAULT_SETTINGS)
        if unknown:
            raise TaxonomyError(f"unknown settings: {', '.join(sorted(unknown))}")
        tax = cls(
            jurisdiction=dict(data.get("jurisdiction") or {}),
            abbreviations=dict(abbreviations),
            settings=settings,
            categories=tuple(cats),
        )
        _validate(tax)
        return tax

    def to_dict(self) -> dict[str, Any]:
        """The plain dict this taxonomy was built from (defaults filled in)."""
        return {
            "jurisdiction": dict(self.jurisdiction),
            "abbreviations": dict(self.abbreviations),
            "settings": dict(self.settings),
            "categories": [c.to_dict() for c in self.categories],
        }


def _order(c: Category) -> tuple[int, str]:
    return (c.sort_order, c.slug)


def _strings(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TaxonomyError(f"{where}: '{key}' must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _category(raw: Any, index: int) -> Category:
    if not isinstance(raw, dict):
        raise TaxonomyError(f"category #{index + 1} must be a table")
    slug = raw.get("slug")
    where = f"category '{slug}'" if slug else f"category #{index + 1}"
    if not isinstance(slug, str) or not slug:
        raise TaxonomyError(f"{where}: missing slug")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise TaxonomyError(f"{where}: kind must be 'area' or 'topic', not {kind!r}")
    return Category(
        slug=slug,
        kind=kind,
        name=str(raw.get("name") or slug),
        description=str(raw.get("description") or ""),
        sort_order=int(raw.get("sort_order") or 0),
        strong=_strings(raw, "strong", where),
        weak=_strings(raw, "weak", where),
        exclusions=_strings(raw, "exclusions", where),
        identifiers=tuple(i.lower() for i in _strings(raw, "identifiers", where)),
        qualifiers=_qualifiers(raw, where),
        parent=raw.get("parent") or None,
        default_area=raw.get("default_area") or None,
        live_only=bool(raw.get("live_only", False)),
    )


def _qualifiers(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    out = _strings(raw, "qualifiers", where)
    for q in out:
        head, _, kw = q.partition("~~" if "~~" in q else "~")
        if not head.strip() or (_ and not kw.strip()) or "~" in kw:
            raise TaxonomyError(
                f"{where}: qualifier {q!r} must be 'words', 'words ~ keyword' or 'words ~~ keyword'"
            )
    return out


def _validate(tax: Taxonomy) -> None:
    seen: set[str] = set()
    for c in tax.categories:
        if c.slug in seen:
            raise TaxonomyError(f"duplicate category slug '{c.slug}'")
        seen.add(c.slug)
    areas = {c.slug for c in tax.categories if c.kind == "area"}
    if not areas:
        raise TaxonomyError("a taxonomy needs at least one area")
    for c in tax.categories:
        for attr in ("parent", "default_area"):
            ref = getattr(c, attr)
            if ref is not None and ref not in areas:
                raise TaxonomyError(f"category '{c.slug}': {attr} '{ref}' is not an area")
    fallback = tax.setting("fallback_area")
    if fallback and fallback not in areas:
        raise TaxonomyError(f"settings.fallback_area '{fallback}' is not an area")


def default_taxonomy_path() -> Path:
    """seed_data/mo/taxonomy.toml next to the package (the repository checkout)."""
    return Path(__file__).resolve().parent.parent / "seed_data" / "mo" / "taxonomy.toml"
