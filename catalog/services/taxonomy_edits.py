"""Taxonomy edits by staff: preview their effect on pending suggestions, apply, re-suggest.

A change is a small dict ({"op": "add-keyword", "category", "weight", "phrase"} and friends;
"add-category" and "remove-category" add or delete a whole area or topic). The preview runs the
engine over the pending courses with the current taxonomy and with the edited one and lists the
courses whose top area or topics would change. Functions flush, never commit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from catalog.models import Abbreviation, Category, Course, CourseCategory, Jurisdiction, Keyword
from catalog.services import audit, category_edits
from catalog.services.errors import Invalid
from catalog.services.suggesting import (
    course_input,
    get_engine,
    headline,
    load_examples,
    suggest_courses,
    suggested_labels,
    taxonomy_dict,
)
from mapping import Engine, Taxonomy

WEIGHT_KEYS = {
    "strong": "strong",
    "weak": "weak",
    "exclusion": "exclusions",
    "identifier": "identifiers",
    "qualifier": "qualifiers",
}
RESUGGEST_BATCH = 500


def describe(change: dict) -> str:
    """A change in words, for the preview, the flash message and the audit entry."""
    op = change["op"]
    if op == "add-category":
        return f"Add {change['kind']} “{change['name']}” ({change['slug']})"
    if op == "remove-category":
        return f"Delete {change['kind']} “{change['name']}” ({change['category']})"
    if op in ("add-keyword", "remove-keyword"):
        verb = "Add" if op == "add-keyword" else "Remove"
        return f"{verb} {change['weight']} phrase “{change['phrase']}” of {change['category']}"
    verb = "Add" if op == "add-abbreviation" else "Remove"
    return f"{verb} abbreviation {change['abbreviation']} = “{change.get('expansion', '')}”"


def apply_to_dict(tax: dict, change: dict) -> dict:
    """The taxonomy dict with the change applied (the input is not modified)."""
    tax = copy.deepcopy(tax)
    op = change["op"]
    if op in ("add-keyword", "remove-keyword"):
        key = WEIGHT_KEYS[change["weight"]]
        for cat in tax["categories"]:
            if cat["slug"] == change["category"]:
                phrases = cat.setdefault(key, [])
                if op == "add-keyword" and change["phrase"] not in phrases:
                    phrases.append(change["phrase"])
                elif op == "remove-keyword" and change["phrase"] in phrases:
                    phrases.remove(change["phrase"])
    elif op == "add-category":
        tax["categories"].append(category_edits.as_engine_dict(change))
    elif op == "remove-category":
        tax["categories"] = [c for c in tax["categories"] if c["slug"] != change["category"]]
    elif op == "add-abbreviation":
        tax["abbreviations"][change["abbreviation"]] = change["expansion"]
    elif op == "remove-abbreviation":
        tax["abbreviations"].pop(change["abbreviation"], None)
    return tax


@dataclass
class PreviewRow:
    course: Course
    before_area: str | None
    after_area: str | None
    before_topics: list[str]
    after_topics: list[str]
    before_score: tuple[int, bool] = (0, False)
    after_score: tuple[int, bool] = (0, False)


def _headline(suggestion: dict) -> tuple[str | None, list[str]]:
    areas, topics = suggested_labels(suggestion)
    top = suggestion["areas"][0]["slug"] if suggestion.get("areas") else None
    return top, sorted(topics)


def pending_courses(session, jurisdiction: Jurisdiction) -> list[Course]:
    """The jurisdiction's courses waiting for a decision (the ones a change re-suggests)."""
    return list(
        session.scalars(
            select(Course)
            .where(Course.jurisdiction_id == jurisdiction.id, Course.status == "pending")
            .options(selectinload(Course.provider))
            .order_by(Course.id)
        )
    )


def _same_phrase(session, category: Category, weight: str, phrase: str) -> Keyword | None:
    """A phrase of the category's kind `weight` equal to `phrase` up to case and spacing."""
    folded = " ".join(phrase.split()).casefold()
    for keyword in session.scalars(
        select(Keyword).where(Keyword.category_id == category.id, Keyword.weight == weight)
    ):
        if " ".join(keyword.phrase.split()).casefold() == folded:
            return keyword
    return None


def refuse_duplicate(session, jurisdiction: Jurisdiction, change: dict) -> None:
    """Refuse adding a phrase the category already has in another case ("De-escalation" when
    "de-escalation" is there): the engine matches phrases without case, so it would be counted
    twice. Other changes pass."""
    if change["op"] != "add-keyword":
        return
    category = session.scalar(
        select(Category).where(
            Category.jurisdiction_id == jurisdiction.id, Category.slug == change["category"]
        )
    )
    same = (
        _same_phrase(session, category, change["weight"], change["phrase"])
        if category is not None
        else None
    )
    if same is not None:
        raise Invalid(
            f"“{change['phrase']}” is already a {same.weight} phrase of {category.name} "
            f"(as “{same.phrase}”; phrases match without regard to case). Nothing was added.",
            [{"field": "phrase", "message": "already there in another case"}],
        )


def warnings(session, jurisdiction: Jurisdiction, change: dict) -> list[str]:
    """Things the admin should know before saving that do not stop the change: an abbreviation
    that exists in another case ("cit" when "CIT" is there)."""
    if change["op"] != "add-abbreviation":
        return []
    wanted = change["abbreviation"]
    others = session.scalars(
        select(Abbreviation).where(
            Abbreviation.jurisdiction_id == jurisdiction.id,
            func.lower(Abbreviation.abbreviation) == wanted.lower(),
            Abbreviation.abbreviation != wanted,
        )
    ).all()
    return [
        f"{o.abbreviation} already exists (for “{o.expansion}”) and differs from {wanted} only "
        "in case. Titles are matched without regard to case, so the two would compete for the "
        f"same word and only one expansion would be used. Delete {o.abbreviation} first if you "
        "mean to replace it."
        for o in others
    ]


def preview(session, jurisdiction: Jurisdiction, change: dict) -> list[PreviewRow]:
    """Pending courses whose suggested top area, topics or confidence the change would alter."""
    refuse_duplicate(session, jurisdiction, change)
    if change["op"] == "remove-category":
        category_edits.refuse_if_used(session, jurisdiction, change["category"])
    courses = pending_courses(session, jurisdiction)
    if not courses:
        return []
    tax = taxonomy_dict(session, jurisdiction)
    try:
        after_engine = Engine(
            Taxonomy.from_dict(apply_to_dict(tax, change)),
            examples=load_examples(session, jurisdiction),
        )
    except Exception as exc:  # the engine refuses the edited taxonomy: say why, save nothing
        raise Invalid(
            f"The engine cannot use this change: {exc}", [{"field": "phrase", "message": str(exc)}]
        ) from exc
    before_engine = get_engine(session, jurisdiction)
    inputs = [course_input(c) for c in courses]
    before = before_engine.suggest_many(inputs)
    after = after_engine.suggest_many(inputs)
    rows = []
    for course, b, a in zip(courses, before, after, strict=True):
        b_dict, a_dict = b.to_dict(), a.to_dict()
        b_area, b_topics = _headline(b_dict)
        a_area, a_topics = _headline(a_dict)
        b_score, a_score = headline(b_dict), headline(a_dict)
        if (b_area, b_topics, b_score[1]) != (a_area, a_topics, a_score[1]):
            rows.append(PreviewRow(course, b_area, a_area, b_topics, a_topics, b_score, a_score))
    return rows


def apply_change(session, jurisdiction: Jurisdiction, change: dict, user) -> None:
    """Write the change, audit it; the caller re-suggests and commits."""
    op = change["op"]
    if op == "add-category":
        category_edits.add_category(session, jurisdiction, change, user, describe(change))
    elif op == "remove-category":
        category_edits.remove_category(
            session, jurisdiction, change["category"], user, describe(change)
        )
    else:
        _apply_phrase_change(session, jurisdiction, change, user)
    session.flush()
    session.expire_all()


def _apply_phrase_change(session, jurisdiction: Jurisdiction, change: dict, user) -> None:
    op = change["op"]
    if op in ("add-keyword", "remove-keyword"):
        category = session.scalar(
            select(Category).where(
                Category.jurisdiction_id == jurisdiction.id, Category.slug == change["category"]
            )
        )
        if category is None:
            raise Invalid(f"Unknown category {change['category']}.")
        existing = session.scalar(
            select(Keyword).where(
                Keyword.category_id == category.id,
                Keyword.weight == change["weight"],
                Keyword.phrase == change["phrase"],
            )
        )
        if op == "add-keyword":
            refuse_duplicate(session, jurisdiction, change)
            if existing is not None:
                raise Invalid(f"“{change['phrase']}” is already a {change['weight']} phrase.")
            session.add(
                Keyword(category=category, weight=change["weight"], phrase=change["phrase"])
            )
        else:
            if existing is None:
                raise Invalid("That phrase was already removed.")
            session.delete(existing)
        entity_type, entity_id = "category", category.id
    else:
        existing = session.scalar(
            select(Abbreviation).where(
                Abbreviation.jurisdiction_id == jurisdiction.id,
                Abbreviation.abbreviation == change["abbreviation"],
            )
        )
        if op == "add-abbreviation":
            if existing is not None:
                raise Invalid(f"{change['abbreviation']} is already an abbreviation.")
            session.add(
                Abbreviation(
                    jurisdiction=jurisdiction,
                    abbreviation=change["abbreviation"],
                    expansion=change["expansion"],
                )
            )
        else:
            if existing is None:
                raise Invalid("That abbreviation was already removed.")
            session.delete(existing)
        entity_type, entity_id = "jurisdiction", jurisdiction.id
    audit.record(
        session,
        action=op,
        entity_type=entity_type,
        entity_id=entity_id,
        user=user,
        after=dict(change),
        note=describe(change),
    )


def resuggest_pending(session, jurisdiction: Jurisdiction) -> int:
    """Re-run the engine on every pending course, in batches, so the queue reflects the edit."""
    ids = list(
        session.scalars(
            select(Course.id)
            .where(Course.jurisdiction_id == jurisdiction.id, Course.status == "pending")
            .order_by(Course.id)
        )
    )
    for start in range(0, len(ids), RESUGGEST_BATCH):
        batch = ids[start : start + RESUGGEST_BATCH]
        # Old suggested rows go first: the unique (course, source, category) index would refuse
        # the new rows while the old ones still exist.
        session.execute(
            delete(CourseCategory).where(
                CourseCategory.course_id.in_(batch), CourseCategory.source == "suggested"
            )
        )
        session.expire_all()
        courses = session.scalars(
            select(Course)
            .where(Course.id.in_(batch))
            .options(selectinload(Course.categories).selectinload(CourseCategory.category))
        ).all()
        suggest_courses(session, jurisdiction, courses)
        session.flush()
    return len(ids)
