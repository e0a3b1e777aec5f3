"""The matching engine: rules first, fuzzy second, examples as evidence, hours split.

`Engine(taxonomy, examples).suggest_many(courses)` normalises every title, fixes misspelt words with
one batched `cdist` over the vocabulary, matches identifiers, exclusions and keyword phrases, adds a
batched title-level fuzzy signal and the nearest approved example, then scores and ranks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz

from .fuzzy import best_per_group
from .normalise import STOPWORDS, Normalised, normalise
from .results import CourseInput, Example, Suggestion
from .rules import Compiled, compile_taxonomy, content
from .scoring import Evidence, build_suggestion
from .taxonomy import Taxonomy

__all__ = ["Engine"]

_EXAMPLE = "\x00example"


class Engine:
    """Suggests areas (with an hour split) and topics for courses, with evidence."""

    def __init__(self, taxonomy: Taxonomy, examples: Iterable[Example] = ()) -> None:
        self.taxonomy = taxonomy
        self.compiled: Compiled = compile_taxonomy(taxonomy)
        self.examples: tuple[Example, ...] = tuple(examples)
        comp = self.compiled
        example_texts = [content(comp.prepare(normalise(e.title))) for e in self.examples]
        self._example_sizes = [len(t.split()) for t in example_texts]
        self._choices = list(comp.choices) + example_texts
        groups: dict[str, list[int]] = {}
        for idx, entries in enumerate(comp.choice_entries):
            for slug in {e[0] for e in entries}:
                groups.setdefault(slug, []).append(idx)
        base = len(comp.choices)
        groups[_EXAMPLE] = [base + i for i in range(len(self.examples)) if example_texts[i]]
        self._groups = groups
        self._vocab_list = list(comp.vocabulary)

    def setting(self, name: str) -> Any:
        """A taxonomy setting or its default."""
        return self.taxonomy.setting(name)

    def suggest(self, course: CourseInput) -> Suggestion:
        """Suggestion for one course (same as `suggest_many([course])[0]`)."""
        return self.suggest_many([course])[0]

    def suggest_many(self, courses: Sequence[CourseInput]) -> list[Suggestion]:
        """Suggestions for many courses; the fuzzy work is batched over all titles at once."""
        comp = self.compiled
        cache: dict[str, Normalised] = {}
        norms = [
            cache.get(c.title) or cache.setdefault(c.title, normalise(c.title or ""))
            for c in courses
        ]
        fixes = self._spelling_fixes(norms)
        prepared = [comp.prepare(n, fixes) for n in norms]
        texts = [content(toks) for toks in prepared]
        unique = list(dict.fromkeys(t for t in texts if t))
        cutoff = min(int(self.setting("fuzzy_cutoff")), int(self.setting("example_cutoff")))
        found = best_per_group(unique, self._choices, self._groups, cutoff)
        by_text = dict(zip(unique, found, strict=True))
        out: list[Suggestion] = []
        done: dict[CourseInput, Suggestion] = {}
        for course, norm, toks, text in zip(courses, norms, prepared, texts, strict=True):
            if course in done:  # identical course rows (common in catalogs) share one result
                out.append(done[course])
                continue
            evidence = self._title_evidence(norm, toks)
            self._fuzzy_evidence(evidence, by_text.get(text, {}), len(text.split()))
            for field in ("description", "objectives"):
                value = getattr(course, field)
                if value:
                    self._field_evidence(evidence, field, value)
            done[course] = build_suggestion(self.taxonomy, course, evidence)
            out.append(done[course])
        return out

    def explain_change(
        self, other: Taxonomy, courses: Sequence[CourseInput]
    ) -> list[dict[str, Any]]:
        """Per course: top area and topics now and under `other` (e.g. with a new keyword)."""
        before = self.suggest_many(courses)
        after = Engine(other, self.examples).suggest_many(courses)
        rows = []
        for course, b, a in zip(courses, before, after, strict=True):
            old = {"area": b.top_area, "topics": b.topic_slugs}
            new = {"area": a.top_area, "topics": a.topic_slugs}
            rows.append({"title": course.title, "before": old, "after": new, "changed": old != new})
        return rows

    # -- evidence -------------------------------------------------------------------------------

    def _spelling_fixes(self, norms: Sequence[Normalised]) -> dict[str, tuple[str, ...]]:
        vocab = self.compiled.vocabulary
        min_len = int(self.setting("token_fix_min_length"))
        abbr_first = self.compiled.abbr_maxlen
        unknown = sorted(
            {
                t.key
                for n in norms
                for t in n.tokens
                if len(t.key) >= min_len
                and t.key not in vocab
                and t.key not in STOPWORDS
                and t.key not in abbr_first
                and t.key.isalpha()
            }
        )
        if not unknown:
            return {}
        found = best_per_group(
            unknown,
            self._vocab_list,
            {"v": list(range(len(self._vocab_list)))},
            int(self.setting("token_fix_cutoff")),
            scorer=fuzz.ratio,
        )
        fixes = {}
        for word, row in zip(unknown, found, strict=True):
            if "v" in row:
                target = self._vocab_list[row["v"][1]]
                if target[0] == word[0]:  # typos rarely hit the first letter
                    fixes[word] = vocab[target]
        return fixes

    def _title_evidence(self, norm: Normalised, toks: list) -> dict[str, list[Evidence]]:
        comp = self.compiled
        strong = int(self.setting("strong_score"))
        weak = int(self.setting("weak_score"))
        ev: dict[str, list[Evidence]] = {}
        title = norm.original
        for ident, s, e in norm.identifiers:
            exact = set(comp.identifiers.get(ident, ()))
            for slug in comp.identifier_slugs(ident):
                listed = slug in exact  # an exact course number decides; a pattern only suggests
                ev.setdefault(slug, []).append(
                    {
                        "kind": "identifier",
                        "identifier": ident,
                        "field": "title",
                        "span": [s, e],
                        "score": strong if listed else round(strong * 0.75),
                        "strong": listed,
                        "text": f"course number '{title[s:e].strip()}' ({ident}) "
                        + ("is listed for it" if listed else "matches a listed pattern"),
                    }
                )
        for hit in comp.exclusions.find_all(toks):
            s, e = hit.span
            for slug, _role, phrase in hit.entries:
                ev.setdefault(slug, []).append(
                    {
                        "kind": "exclusion",
                        "phrase": phrase,
                        "field": "title",
                        "span": [s, e],
                        "score": 0,
                        "strong": False,
                        "text": f"blocked: title contains '{title[s:e]}' (exclusion '{phrase}')",
                    }
                )
        overrides = self.setting("phrase_scores")
        for hit in comp.keywords.find(toks):
            s, e = hit.span
            written = title[s:e]
            for slug, role, phrase in hit.entries:
                is_strong = role == "strong"
                score = int(overrides.get(f"{slug}:{phrase}", strong if is_strong else weak))
                item: Evidence = {
                    "kind": "phrase",
                    "phrase": phrase,
                    "role": role,
                    "field": "title",
                    "span": [s, e],
                    "score": score,
                    "strong": is_strong,
                    "text": f"title contains '{written}' ({role} keyword)",
                }
                if hit.abbr:
                    item["kind"] = "abbreviation"
                    item["abbreviation"] = hit.abbr
                    item["text"] = (
                        f"title contains '{written}' = "
                        f"{comp.taxonomy.abbreviations.get(hit.abbr, phrase)}"
                        f" ({role} keyword '{phrase}')"
                    )
                if hit.fixed:
                    item["kind"] = "fuzzy"
                    item["score"] = round(score * 0.9)
                    item["strong"] = False
                    fixed = ", ".join(f"'{a}' ~ '{b}'" for a, b in hit.fixed)
                    item["text"] = f"title word {fixed} ({role} keyword '{phrase}')"
                ev.setdefault(slug, []).append(item)
        return ev

    def _fuzzy_evidence(
        self, ev: dict[str, list[Evidence]], found: dict[str, tuple[int, int]], size: int
    ) -> None:
        comp = self.compiled
        weight = float(self.setting("fuzzy_weight"))
        topic_cutoff = int(self.setting("fuzzy_topic_cutoff"))
        fuzzy_cutoff = int(self.setting("fuzzy_cutoff"))
        for slug, (score, idx) in found.items():
            if slug == _EXAMPLE:
                self._example_evidence(ev, score, idx - len(comp.choices), size)
                continue
            items = ev.get(slug, ())
            if score < fuzzy_cutoff or any(
                i["kind"] != "fuzzy" and i["field"] == "title" for i in items
            ):
                continue
            if self.taxonomy.get(slug).kind == "topic" and score < topic_cutoff:
                continue
            roles = {role: phrase for s, role, phrase in comp.choice_entries[idx] if s == slug}
            role = "strong" if "strong" in roles else "weak"
            factor = weight if role == "strong" else weight / 2
            ev.setdefault(slug, []).append(
                {
                    "kind": "fuzzy",
                    "phrase": roles[role],
                    "role": role,
                    "field": "title",
                    "similarity": score,
                    "score": round(score * factor),
                    "strong": False,
                    "text": f"title resembles '{roles[role]}' ({score}% token-set similarity)",
                }
            )

    def _example_evidence(self, ev: dict[str, list[Evidence]], sim: int, i: int, size: int) -> None:
        if sim < int(self.setting("example_cutoff")):
            return
        ex = self.examples[i]
        other = self._example_sizes[i]
        if min(size, other) * 2 < max(size, other):  # one title is a small subset of the other
            return
        weight = float(self.setting("example_weight"))
        top = max((Decimal(v) for v in ex.areas.values()), default=Decimal(0))
        shares = {s: (Decimal(h) / top if top else Decimal(1)) for s, h in ex.areas.items()}
        for slug in [*ex.areas, *ex.topics]:
            try:
                self.taxonomy.get(slug)
            except KeyError:
                continue
            share = float(shares.get(slug, 1))
            ev.setdefault(slug, []).append(
                {
                    "kind": "example",
                    "example": ex.title,
                    "course_id": ex.course_id,
                    "decision": ex.decision,
                    "similarity": sim,
                    "field": "title",
                    "score": round(sim * weight * share),
                    "strong": False,
                    "text": f"similar to {ex.decision} course '{ex.title}' ({sim}%)",
                }
            )

    def _field_evidence(self, ev: dict[str, list[Evidence]], field: str, text: str) -> None:
        comp = self.compiled
        strong = int(self.setting("description_strong_score"))
        weak = int(self.setting("description_weak_score"))
        norm = normalise(text)
        toks = comp.prepare(norm)
        excluded = {slug for hit in comp.exclusions.find_all(toks) for slug, _r, _p in hit.entries}
        best: dict[str, Evidence] = {}
        for hit in comp.keywords.find(toks):
            s, e = hit.span
            for slug, role, phrase in hit.entries:
                if slug in excluded:
                    continue
                score = strong if role == "strong" else weak
                if slug in best and best[slug]["score"] >= score:
                    continue
                best[slug] = {
                    "kind": "description",
                    "phrase": phrase,
                    "role": role,
                    "field": field,
                    "span": [s, e],
                    "score": score,
                    "strong": False,
                    "text": f"{field} mentions '{text[s:e]}' ({role} keyword)",
                }
        for slug, item in best.items():
            ev.setdefault(slug, []).append(item)
