"""The matching engine: rules first, fuzzy second, staff decisions as evidence and as a model.

`Engine(taxonomy, examples).suggest_many(courses)` normalises every title, fixes misspelt words with
one batched `cdist` over the vocabulary, matches identifiers, exclusions, qualifiers and keyword
phrases, adds a batched title-level fuzzy signal and the most similar decided course (honest
similarity, `similarity.py`), then scores and ranks. With enough staff decisions (`examples`), a
learned layer (`learn.py`) trained on them decides where the rules are weak and calibrates when a
label the rules agree on is safe to approve unread.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz

from .decided import SameTitle, normalised_key
from .fuzzy import best_in_groups, best_per_group, covered_groups
from .normalise import STOPWORDS, Normalised, Token, normalise
from .results import CourseInput, Example, Suggestion
from .rules import Compiled, compile_taxonomy, content, segments
from .scoring import Evidence, Learned, build_suggestion
from .similarity import SimilarityIndex, content_keys
from .taxonomy import Taxonomy

__all__ = ["Engine"]


def _keys(tokens: Sequence[Token]) -> list[str]:
    """Content keys; an expanded abbreviation counts as the one word it was ("DUI", not the four
    words of "driving under the influence"), so it does not outweigh the rest of the title."""
    return content_keys(t.abbr.lower() if t.abbr else t.key for t in tokens)


def _covers(text: str, keyword: str) -> bool:
    """Every word of the keyword is (nearly) in the title: token-set similarity is 100 for a title
    that is a subset of the keyword ("traffic" vs "traffic law"), which is not a match."""
    words = text.split()
    return all(
        any(w == k or fuzz.ratio(w, k) >= _WORD_CUTOFF for w in words) for k in keyword.split()
    )


_WORD_CUTOFF = 80
_PAUSES = {"depth": 0, "resume": False}
_PAUSE_LOCK = threading.Lock()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a batch runs (nested and threaded batches
    included: it resumes when the last one ends, if it was running before the first).

    A batch builds millions of small containers (tokens, evidence dicts, suggestions) and no
    reference cycles; every full collection walked all of them again, ~20 % of suggest_many's CPU
    at 20k-100k titles. Reference counting still frees everything as it goes; only cycles made
    meanwhile, by any thread, wait for the collector until the batch ends."""
    with _PAUSE_LOCK:
        if _PAUSES["depth"] == 0:
            _PAUSES["resume"] = gc.isenabled()
            gc.disable()
        _PAUSES["depth"] += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSES["depth"] -= 1
            if _PAUSES["depth"] == 0 and _PAUSES["resume"]:
                gc.enable()


_BLOCK = 5000  # courses scored together after the rule pass (learned views, similar courses)


class Engine:
    """Suggests areas (with an hour split) and topics for courses, with evidence."""

    def __init__(
        self, taxonomy: Taxonomy, examples: Iterable[Example] = (), *, learner: Any = None
    ) -> None:
        """`learner`: a Learner fitted earlier on (most of) these decisions and this taxonomy,
        reused instead of fitting again (the app refits only when the decisions grew enough)."""
        self.taxonomy = taxonomy
        self.compiled: Compiled = compile_taxonomy(taxonomy)
        self.examples: tuple[Example, ...] = tuple(examples)
        comp = self.compiled
        self._choices = list(comp.choices)
        groups: dict[str, list[int]] = {}
        for idx, entries in enumerate(comp.choice_entries):
            for slug in {e[0] for e in entries}:
                groups.setdefault(slug, []).append(idx)
        self._groups = groups
        self._vocab_list = list(comp.vocabulary)
        self.learner = None
        self._similar: SimilarityIndex | None = None
        if self.examples:
            keys = self.keys([e.title for e in self.examples])
            self._example_keys = keys
            self._same = SameTitle(taxonomy, self.examples, keys)
            self._similar = SimilarityIndex(keys, extra=[c.split() for c in comp.choices])
            if learner is not None:
                self.learner = learner
            elif len(self.examples) >= int(self.setting("learn_min_examples")):
                from .learn import Learner

                with _collector_paused():
                    self.learner = Learner.fit(self, self.examples, keys)

    def keys(self, titles: Sequence[str]) -> list[list[str]]:
        """Content keys of titles as the similarity and the learned layer see them."""
        norms = [normalise(t or "") for t in titles]
        fixes = self._spelling_fixes(norms)
        return [_keys(self.compiled.prepare(n, fixes)) for n in norms]

    def setting(self, name: str) -> Any:
        """A taxonomy setting or its default."""
        return self.taxonomy.setting(name)

    def suggest(self, course: CourseInput) -> Suggestion:
        """Suggestion for one course (same as `suggest_many([course])[0]`)."""
        return self.suggest_many([course])[0]

    def suggest_many(self, courses: Sequence[CourseInput]) -> list[Suggestion]:
        """Suggestions for many courses; the fuzzy work is batched over all titles at once."""
        with _collector_paused():
            return self._suggest(courses)

    def rule_pass(
        self, courses: Sequence[CourseInput]
    ) -> tuple[list[CourseInput], list[dict[str, list[Evidence]]], list[list[str]]]:
        """Distinct courses, their rule evidence (no decided-course evidence) and content keys."""
        distinct, evidence_list, keys, _titles = self._rule_pass(courses)
        return distinct, evidence_list, keys

    def _rule_pass(
        self, courses: Sequence[CourseInput]
    ) -> tuple[list[CourseInput], list[dict[str, list[Evidence]]], list[list[str]], list[str]]:
        """`rule_pass`, and each distinct course's title as the same-title lookup sees it."""
        comp = self.compiled
        distinct = list(dict.fromkeys(courses))  # identical rows (common in catalogs) share one
        cache: dict[str, Normalised] = {}
        norms = [
            cache.get(c.title) or cache.setdefault(c.title, normalise(c.title or ""))
            for c in distinct
        ]
        fixes = self._spelling_fixes(norms)
        prepared = [comp.prepare(n, fixes) for n in norms]
        texts = [content(toks) for toks in prepared]
        evidence_list = [
            self._title_evidence(norm, toks) for norm, toks in zip(norms, prepared, strict=True)
        ]
        by_text = self._fuzzy_matches(texts, evidence_list)
        for course, evidence, text in zip(distinct, evidence_list, texts, strict=True):
            self._fuzzy_evidence(evidence, by_text.get(text, {}), text)
            for field in ("description", "objectives"):
                value = getattr(course, field)
                if value:
                    self._field_evidence(evidence, field, value)
        keys = [_keys(toks) for toks in prepared]
        return distinct, evidence_list, keys, [normalised_key(n) for n in norms]

    def _suggest(self, courses: Sequence[CourseInput], *, learned: bool = True) -> list[Suggestion]:
        distinct, evidence_list, keys, titles = self._rule_pass(courses)
        done: dict[CourseInput, Suggestion] = {}
        # in blocks: the learned views and the raw evidence of one block live at a time (at 100k
        # titles the views of all of them took ~100 MB next to the suggestions)
        for lo in range(0, len(distinct), _BLOCK):
            part = slice(lo, lo + _BLOCK)
            evs, ks = evidence_list[part], keys[part]
            views: Sequence[Learned | None] = [None] * len(evs)
            if learned and self.learner is not None:
                views = self.learner.predict(self, ks, evs)  # reads the rules' evidence only
            if self._similar is not None:
                self._example_evidence(evs, ks)
                self._same.add(distinct[part], evs, ks, titles[part])
            for course, ev, view in zip(distinct[part], evs, views, strict=True):
                done[course] = build_suggestion(self.taxonomy, course, ev, view)
            evidence_list[part] = [{}] * len(evs)  # built: the suggestions hold what they need
            del views, evs
        return [done[c] for c in courses]

    def rules_only(self, courses: Sequence[CourseInput]) -> list[Suggestion]:
        """Suggestions from the rules and the fuzzy signal alone (what the learned layer reads)."""
        distinct, evidence_list, _keys = self.rule_pass(courses)
        done = {
            c: build_suggestion(self.taxonomy, c, e)
            for c, e in zip(distinct, evidence_list, strict=True)
        }
        return [done[c] for c in courses]

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
        qualifier_hits = comp.qualifiers.find_all(toks) if comp.qualifiers.table else []
        segs = segments(title, toks) if qualifier_hits else []
        parts = segments(title, toks, split_and=False) if qualifier_hits else []
        for hit in comp.keywords.find(toks):
            s, e = hit.span
            written = title[s:e]
            for slug, role, phrase in hit.entries:
                is_strong = role == "strong"
                score = int(overrides.get(f"{slug}:{phrase}", strong if is_strong else weak))
                item: Evidence = {
                    "kind": "phrase",
                    "phrase": phrase,
                    "written": written,
                    "role": role,
                    "field": "title",
                    "span": [s, e],
                    "score": score,
                    "strong": is_strong,
                    "text": f"title contains '{written}' ({role} keyword)",
                }
                q = (
                    comp.qualified_by(slug, hit, qualifier_hits, segs, parts)
                    if qualifier_hits
                    else None
                )
                if q is not None:
                    qs, qe = q.span
                    item["qualified_by"] = title[qs:qe]
                    item["strong"] = False
                    item["score"] = min(score, weak)
                    item["text"] = (
                        f"title contains '{written}' ({role} keyword), but it qualifies "
                        f"'{title[qs:qe]}' here (not the main subject)"
                    )
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
                    item["score"] = round(item["score"] * 0.9)
                    item["strong"] = False
                    fixed = ", ".join(f"'{a}' ~ '{b}'" for a, b in hit.fixed)
                    item["text"] = f"title word {fixed} ({role} keyword '{phrase}')"
                ev.setdefault(slug, []).append(item)
        return ev

    def _fuzzy_matches(
        self, texts: Sequence[str], evidence_list: Sequence[dict[str, list[Evidence]]]
    ) -> dict[str, dict[str, tuple[int, int]]]:
        """Per content text: category -> (best token-set score, choice index), as
        `best_per_group` over all choices gives it, but only for the categories `_fuzzy_evidence`
        can use there: one a title with this text has no non-fuzzy title evidence for, and whose
        choices include one every word of which the text covers (`_covers`). The rest is never
        read, so it is not computed (about nine tenths of the full matrix)."""
        usable: dict[str, set[str]] = {}
        for text, ev in zip(texts, evidence_list, strict=True):
            if not text:
                continue
            wanted = usable.setdefault(text, set())
            for slug in self._groups:
                if slug in wanted:
                    continue
                items = ev.get(slug)
                if items and any(i["kind"] != "fuzzy" and i["field"] == "title" for i in items):
                    continue
                wanted.add(slug)
        unique = list(usable)
        covered = covered_groups(unique, self._choices, self._groups, _WORD_CUTOFF)
        wanted_list = [usable[t] & c for t, c in zip(unique, covered, strict=True)]
        found = best_in_groups(
            unique, self._choices, self._groups, int(self.setting("fuzzy_cutoff")), wanted_list
        )
        return dict(zip(unique, found, strict=True))

    def _fuzzy_evidence(
        self, ev: dict[str, list[Evidence]], found: dict[str, tuple[int, int]], text: str
    ) -> None:
        comp = self.compiled
        weight = float(self.setting("fuzzy_weight"))
        topic_cutoff = int(self.setting("fuzzy_topic_cutoff"))
        fuzzy_cutoff = int(self.setting("fuzzy_cutoff"))
        for slug, (score, idx) in found.items():
            items = ev.get(slug, ())
            if score < fuzzy_cutoff or any(
                i["kind"] != "fuzzy" and i["field"] == "title" for i in items
            ):
                continue
            if self.taxonomy.get(slug).kind == "topic" and score < topic_cutoff:
                continue
            if not _covers(text, self._choices[idx]):
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

    def similar(self, titles: Sequence[str], k: int = 5) -> list[list[tuple[int, Example]]]:
        """Per title, up to k decided courses by honest similarity (0-100), best first."""
        if self._similar is None:
            return [[] for _ in titles]
        found = self._similar.top(self.keys(titles), k)
        return [[(sim, self.examples[i]) for sim, i in row] for row in found]

    def _example_evidence(
        self, evidence_list: list[dict[str, list[Evidence]]], keys: list[list[str]]
    ) -> None:
        """Evidence from the most similar decided course (honest similarity >= example_cutoff)."""
        assert self._similar is not None
        cutoff = int(self.setting("example_cutoff"))
        weight = float(self.setting("example_weight"))
        # courses with the same content keys have the same nearest decided course: one query each
        unique = list(dict.fromkeys(tuple(k) for k in keys))
        nearest = dict(zip(unique, self._similar.top(unique, 1), strict=True))
        shares_of: dict[int, list[tuple[str, float]]] = {}
        for ev, k in zip(evidence_list, keys, strict=True):
            found = nearest[tuple(k)]
            if not found or found[0][0] < cutoff:
                continue
            sim, i = found[0]
            ex = self.examples[i]
            if i not in shares_of:
                shares_of[i] = self._shares(ex)
            for slug, share in shares_of[i]:
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
                        "text": f"similar to {ex.decision} course '{ex.title}' ({sim}% similar)",
                    }
                )

    def _shares(self, ex: Example) -> list[tuple[str, float]]:
        """A decided course's areas known to the taxonomy, each with its hours over the main
        area's (topics need their own words in the title, not a neighbour)."""
        top = max((Decimal(v) for v in ex.areas.values()), default=Decimal(0))
        shares = {s: (Decimal(h) / top if top else Decimal(1)) for s, h in ex.areas.items()}
        return [
            (slug, float(shares.get(slug, 1)))
            for slug in ex.areas
            if slug in self.taxonomy._by_slug
        ]

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
