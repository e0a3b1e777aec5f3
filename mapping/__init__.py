"""POST course category matcher: explained, multi-label suggestions from a taxonomy held as data.

Pure Python (stdlib + rapidfuzz); it knows nothing of Flask or the database.

    tax = Taxonomy.load(default_taxonomy_path())
    engine = Engine(tax, examples=[...])
    engine.suggest(CourseInput(title="Introduction to De-escalation (1 hour)"))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .engine import Engine
from .evaluate import EvaluationError, Report, evaluate, read_gold
from .normalise import Normalised, Token, normalise
from .results import (
    AreaSuggestion,
    CourseInput,
    Example,
    Flag,
    Suggestion,
    TopicSuggestion,
)
from .taxonomy import Category, Taxonomy, TaxonomyError, default_taxonomy_path

__all__ = [
    "AreaSuggestion",
    "Category",
    "CourseInput",
    "Engine",
    "EvaluationError",
    "Example",
    "Flag",
    "Normalised",
    "Report",
    "Suggestion",
    "Taxonomy",
    "TaxonomyError",
    "Token",
    "TopicSuggestion",
    "default_taxonomy_path",
    "evaluate",
    "normalise",
    "read_gold",
    "suggest",
    "suggest_many",
]


def suggest(
    taxonomy: Taxonomy, course: CourseInput, examples: Iterable[Example] = ()
) -> Suggestion:
    """One-off suggestion (builds an Engine; keep an Engine around for repeated use)."""
    return Engine(taxonomy, examples).suggest(course)


def suggest_many(
    taxonomy: Taxonomy, courses: Sequence[CourseInput], examples: Iterable[Example] = ()
) -> list[Suggestion]:
    """Batched suggestions for many courses."""
    return Engine(taxonomy, examples).suggest_many(courses)
