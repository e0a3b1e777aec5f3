"""Reading the audit log: find entries by course (number, provider code, control number or title)
and say what an entry changed in words a reviewer reads (category names, hours, a word diff)
instead of the stored JSON and slugs."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_, select

from catalog.models import AuditEntry, Course

HIDDEN_KEYS = {"version", "suggested", "min_score", "note"}  # the note has its own column
LABELS = {
    "status": "Status",
    "areas": "Areas",
    "topics": "Topics",
    "approved_until": "Approved until",
    "control_number": "Control number",
    "note": "Note",
    "hours": "Hours",
    "title": "Title",
    "delivery": "Delivery",
    "catalog_id": "Catalog",
    "description": "Description",
}
LONG_TEXT = 60  # longer texts are shown as a word diff


@dataclass
class Part:
    """One piece of a change: text and whether it was kept, added or removed."""

    text: str
    state: str = "same"  # same | added | removed | changed


@dataclass
class Change:
    """One field an entry changed: the label, the old and new value, and for lists, hours and
    long texts the parts that changed."""

    key: str
    label: str
    before: str
    after: str
    parts: list[Part] = field(default_factory=list)
    sep: str = ""  # shown between parts: ", " for lists, nothing for a word diff


def course_condition(text: str):
    """Entries about the courses `text` names: a course number (also "#12"), or words found in
    the title, provider course code or control number. None when `text` is empty."""
    text = " ".join((text or "").split())[:200]
    if not text:
        return None
    number = text.lstrip("#")
    if number.isdigit() and len(number) < 10:
        return AuditEntry.course_id == int(number)
    words = [w[:60] for w in text.lower().split()[:8]]
    matching = select(Course.id).where(
        *[
            or_(
                func.lower(Course.title).contains(w, autoescape=True),
                func.lower(func.coalesce(Course.provider_code, "")).contains(w, autoescape=True),
                func.lower(Course.control_number).contains(w, autoescape=True),
            )
            for w in words
        ]
    )
    return AuditEntry.course_id.in_(matching)


def _hours(value) -> str:
    try:
        return format(Decimal(str(value)).normalize(), "f") + " h"
    except (InvalidOperation, ValueError):
        return str(value)


def _name(value, names: dict[str, str]) -> str:
    return names.get(value, value) if isinstance(value, str) else str(value)


def _plain(value, names: dict[str, str]) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_name(v, names) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{_name(k, names)}: {_plain(v, names)}" for k, v in value.items())
    return _name(value, names)


def _area_parts(before: dict, after: dict, names: dict[str, str]) -> list[Part]:
    parts = []
    for slug in list(dict.fromkeys([*after, *before])):
        name = names.get(slug, slug)
        if slug not in before:
            parts.append(Part(f"{name} {_hours(after[slug])}", "added"))
        elif slug not in after:
            parts.append(Part(f"{name} {_hours(before[slug])}", "removed"))
        elif _hours(before[slug]) != _hours(after[slug]):
            parts.append(Part(f"{name} {_hours(before[slug])} → {_hours(after[slug])}", "changed"))
        else:
            parts.append(Part(f"{name} {_hours(after[slug])}"))
    return parts


def _list_parts(before: list, after: list, names: dict[str, str]) -> list[Part]:
    parts = [Part(_name(v, names), "same" if v in before else "added") for v in after]
    parts += [Part(_name(v, names), "removed") for v in before if v not in after]
    return parts


def _word_parts(before: str, after: str) -> list[Part]:
    old, new = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if op in ("delete", "replace"):
            parts.append(Part("".join(old[i1:i2]), "removed"))
        if op in ("insert", "replace"):
            parts.append(Part("".join(new[j1:j2]), "added"))
        if op == "equal":
            parts.append(Part("".join(old[i1:i2])))
    return parts


def describe_changes(before: dict, after: dict, names: dict[str, str]) -> list[Change]:
    """What an audit entry changed, field by field, in readable words; `names` maps category
    slugs to their names. Unchanged fields and bookkeeping (version, stored suggestion) are left
    out; an entry that only records a state (a creation, a deletion) lists that state."""
    before, after = before or {}, after or {}
    changes = []
    for key in list(dict.fromkeys([*after, *before])):
        old, new = before.get(key), after.get(key)
        if key in HIDDEN_KEYS or old == new:
            continue
        label = LABELS.get(key, key.replace("_", " ").capitalize())
        if key == "hours":
            old_text = _hours(old) if old not in (None, "") else "—"
            new_text = _hours(new) if new not in (None, "") else "—"
            changes.append(Change(key, label, old_text, new_text))
            continue
        change = Change(key, label, _plain(old, names), _plain(new, names))
        if key == "areas" and isinstance(old or {}, dict) and isinstance(new or {}, dict):
            change.parts, change.sep = _area_parts(old or {}, new or {}, names), ", "
        elif isinstance(old or [], list) and isinstance(new or [], list) and (old or new):
            change.parts, change.sep = _list_parts(old or [], new or [], names), ", "
        elif (
            isinstance(old, str)
            and isinstance(new, str)
            and old
            and new
            and max(len(old), len(new)) > LONG_TEXT
        ):
            change.parts = _word_parts(old, new)
        changes.append(change)
    return changes
