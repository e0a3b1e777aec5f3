"""Rule matching compiled once per taxonomy: abbreviations, exclusions, keyword phrases, identifiers.

Phrases are matched on stemmed tokens, leftmost-longest and without overlap, so a longer phrase
("tactical communication", "firearms law") hides the shorter ones inside it ("tactical", "firearms").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .normalise import STOPWORDS, Normalised, Token, normalise
from .taxonomy import Taxonomy

__all__ = ["Hit", "Compiled", "compile_taxonomy", "content", "segments"]

Entry = tuple[str, str, str]  # (category slug, role "strong"|"weak"|"exclusion", phrase as written)


@dataclass(frozen=True, slots=True)
class Hit:
    """A phrase found in a text, with the categories it speaks for."""

    entries: tuple[Entry, ...]
    start: int  # token index
    end: int
    span: tuple[int, int]  # character span in the original text
    abbr: str | None  # abbreviation the matched tokens came from, if any
    fixed: tuple[tuple[str, str], ...]  # (written, corrected) spelling fixes inside the match


class _PhraseTable:
    """Longest-match lookup of token-key tuples."""

    def __init__(self) -> None:
        self.table: dict[tuple[str, ...], list[Entry]] = {}
        self.maxlen: dict[str, int] = {}

    def add(self, key: tuple[str, ...], entry: Entry) -> None:
        entries = self.table.setdefault(key, [])
        if entry not in entries:
            entries.append(entry)
        self.maxlen[key[0]] = max(self.maxlen.get(key[0], 0), len(key))

    def find(self, tokens: Sequence[Token]) -> list[Hit]:
        keys = [t.key for t in tokens]
        n = len(keys)
        hits: list[Hit] = []
        i = 0
        while i < n:
            longest = self.maxlen.get(keys[i], 0)
            step = 1
            for length in range(min(longest, n - i), 0, -1):
                entries = self.table.get(tuple(keys[i : i + length]))
                if entries:
                    hits.append(_hit(tokens, i, i + length, entries))
                    step = length
                    break
            i += step
        return hits

    def find_all(self, tokens: Sequence[Token]) -> list[Hit]:
        """Every match, overlapping ones included (used for exclusions)."""
        keys = [t.key for t in tokens]
        n = len(keys)
        hits: list[Hit] = []
        for i in range(n):
            for length in range(min(self.maxlen.get(keys[i], 0), n - i), 0, -1):
                entries = self.table.get(tuple(keys[i : i + length]))
                if entries:
                    hits.append(_hit(tokens, i, i + length, entries))
        return hits


def _hit(tokens: Sequence[Token], i: int, j: int, entries: list[Entry]) -> Hit:
    part = tokens[i:j]
    abbr = next((t.abbr for t in part if t.abbr), None)
    fixed = tuple((t.fixed_from, t.text) for t in part if t.fixed_from)
    return Hit(tuple(entries), i, j, (part[0].start, max(t.end for t in part)), abbr, fixed)


@dataclass
class Compiled:
    """Everything the engine needs from a taxonomy, built once."""

    taxonomy: Taxonomy
    abbreviations: dict[tuple[str, ...], tuple[str, tuple[tuple[str, str], ...]]]
    abbr_maxlen: dict[str, int]
    upper_only: frozenset[str]
    keywords: _PhraseTable
    exclusions: _PhraseTable
    qualifiers: _PhraseTable  # entries (slug, "qualifier", written); see `qualified_by`
    qualifier_scope: dict[tuple[str, str], tuple[str, ...] | None]  # (slug, written) -> keyword
    # (slug, written) of "words ~~ keyword" qualifiers: they name the keyword's sense and see the
    # whole coordinated subject ("Crisis Communications and Public Information"), not one half
    qualifier_across_and: set[tuple[str, str]]
    identifiers: dict[str, list[str]]  # exact identifier -> slugs
    identifier_prefixes: list[tuple[str, str]]  # ("bill:", slug) for "bill:*"
    vocabulary: dict[str, tuple[str, ...]]  # known token (or joined compound) -> token keys
    choices: list[str]  # fuzzy choice strings (content tokens of each phrase)
    choice_entries: list[list[Entry]]
    _phrase_keys: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def prepare(
        self, norm: Normalised, fixes: dict[str, tuple[str, ...]] | None = None
    ) -> list[Token]:
        """Apply spelling fixes, then expand abbreviations; returns the tokens to match on."""
        tokens: list[Token] = []
        for t in norm.tokens:
            fix = fixes.get(t.key) if fixes else None
            if fix:
                tokens.extend(Token(k, k, t.start, t.end, t.upper, None, t.text) for k in fix)
            else:
                tokens.append(t)
        return self._expand(tokens)

    def _expand(self, tokens: list[Token]) -> list[Token]:
        if not self.abbreviations:
            return tokens
        out: list[Token] = []
        i, n = 0, len(tokens)
        while i < n:
            longest = self.abbr_maxlen.get(tokens[i].key, 0)
            step = 0
            for length in range(min(longest, n - i), 0, -1):
                key = tuple(t.key for t in tokens[i : i + length])
                found = self.abbreviations.get(key)
                if found is None:
                    continue
                written, expansion = found
                part = tokens[i : i + length]
                if written in self.upper_only and not all(t.upper for t in part):
                    continue
                start, end = part[0].start, part[-1].end
                out.extend(Token(text, key2, start, end, True, written) for text, key2 in expansion)
                step = length
                break
            if step:
                i += step
            else:
                out.append(tokens[i])
                i += 1
        return out

    def qualified_by(
        self,
        slug: str,
        hit: Hit,
        qualifier_hits: Sequence[Hit],
        segments: Sequence[int],
        parts: Sequence[int] = (),
    ) -> Hit | None:
        """The qualifier hit that makes this keyword hit a modifier (same title segment), if any.

        A qualifier of a category ("policy", "evidence", "offender ~ profiling") found in the same
        segment of the title as one of the category's keywords means the keyword describes another
        subject ("firearms policy", "evidence recovery from firearms", "profiling of offenders").
        A sense qualifier ("media ~~ crisis communication") also looks across "and" (`parts`: the
        segments split at punctuation only), since subjects joined by "and" share one sense.
        """
        seg = segments[hit.start] if hit.start < len(segments) else -1
        part = parts[hit.start] if hit.start < len(parts) else -1
        hit_keys = None
        for q in qualifier_hits:
            if q.start < hit.end and hit.start < q.end:  # overlapping: the keyword itself
                continue
            if q.start >= len(segments):
                continue
            same_seg = segments[q.start] == seg
            same_part = q.start < len(parts) and parts[q.start] == part
            if not same_seg and not same_part:
                continue
            for qslug, _role, written in q.entries:
                if qslug != slug:
                    continue
                if not same_seg and (qslug, written) not in self.qualifier_across_and:
                    continue
                scope = self.qualifier_scope.get((qslug, written))
                if scope is None:
                    return q
                if hit_keys is None:
                    hit_keys = {self.phrase_key(p) for s, _r, p in hit.entries if s == slug}
                if scope in hit_keys:
                    return q
        return None

    def identifier_slugs(self, ident: str) -> list[str]:
        """Categories an identifier such as 'tcole:1849' or 'bill:sb-30' decides."""
        slugs = list(self.identifiers.get(ident, ()))
        slugs += [s for prefix, s in self.identifier_prefixes if ident.startswith(prefix)]
        return slugs

    def phrase_key(self, phrase: str) -> tuple[str, ...]:
        """Token keys of a keyword as the matcher sees it (normalised, abbreviations expanded)."""
        key = self._phrase_keys.get(phrase)
        if key is None:
            key = tuple(t.key for t in self._expand(list(normalise(phrase).tokens)))
            self._phrase_keys[phrase] = key
        return key


_AND = re.compile(r"\band\b|&", re.IGNORECASE)
_SEPARATORS = frozenset(":;/,|()[]{}\u2013\u2014")


def segments(original: str, tokens: Sequence[Token], *, split_and: bool = True) -> list[int]:
    """Segment number of each token: a new segment starts at ':', ';', '/', ',', a bracket, a dash
    between words (" - ") or "and"/"&" (unless `split_and` is False), so "Firearms Qualification
    and Policy Review" has two subjects while "Firearms Policy Review" has one."""
    out: list[int] = []
    seg = 0
    prev_end: int | None = None
    for t in tokens:
        if prev_end is not None and t.start > prev_end:
            gap = original[prev_end : t.start]
            if (
                any(c in _SEPARATORS for c in gap)
                or " - " in gap
                or gap.strip() == "-"
                or (split_and and _AND.search(gap))
            ):
                seg += 1
        out.append(seg)
        prev_end = max(prev_end or 0, t.end)
    return out


def content(tokens: Iterable[Token]) -> str:
    """The tokens the fuzzy signal compares: stemmed, without generic words."""
    return " ".join(t.key for t in tokens if t.key not in STOPWORDS)


def compile_taxonomy(tax: Taxonomy) -> Compiled:
    """Build the lookup tables for a taxonomy (abbreviations first: keywords use them)."""
    abbreviations: dict[tuple[str, ...], tuple[str, tuple[tuple[str, str], ...]]] = {}
    abbr_maxlen: dict[str, int] = {}
    for written, expansion in tax.abbreviations.items():
        key = tuple(t.key for t in normalise(written).tokens)
        exp = tuple((t.text, t.key) for t in normalise(expansion).tokens)
        if key and exp:
            abbreviations[key] = (written, exp)
            abbr_maxlen[key[0]] = max(abbr_maxlen.get(key[0], 0), len(key))
    upper_only = frozenset(str(a) for a in tax.setting("abbreviations_upper_only"))
    comp = Compiled(
        tax,
        abbreviations,
        abbr_maxlen,
        upper_only,
        _PhraseTable(),
        _PhraseTable(),
        _PhraseTable(),
        {},
        set(),
        {},
        [],
        {},
        [],
        [],
    )
    choice_index: dict[str, int] = {}
    for cat in tax.categories:
        for role, phrases in (
            ("strong", cat.strong),
            ("weak", cat.weak),
            ("exclusion", cat.exclusions),
        ):
            for phrase in phrases:
                key = comp.phrase_key(phrase)
                if not key:
                    continue
                entry = (cat.slug, role, phrase)
                (comp.exclusions if role == "exclusion" else comp.keywords).add(key, entry)
                if role == "exclusion":
                    continue
                for k in key:
                    comp.vocabulary.setdefault(k, (k,))
                if len(key) == 2:
                    comp.vocabulary.setdefault("".join(key), key)
                text = " ".join(k for k in key if k not in STOPWORDS)
                if text:
                    idx = choice_index.setdefault(text, len(comp.choices))
                    if idx == len(comp.choices):
                        comp.choices.append(text)
                        comp.choice_entries.append([])
                    comp.choice_entries[idx].append(entry)
        for written in cat.qualifiers:
            across = "~~" in written
            words, tilde, keyword = written.partition("~~" if across else "~")
            key = comp.phrase_key(words.strip())
            if not key:
                continue
            comp.qualifiers.add(key, (cat.slug, "qualifier", written))
            if across:
                comp.qualifier_across_and.add((cat.slug, written))
            comp.qualifier_scope[(cat.slug, written)] = (
                comp.phrase_key(keyword.strip()) if tilde else None
            )
        for ident in cat.identifiers:
            if ident.endswith("*"):
                comp.identifier_prefixes.append((ident[:-1], cat.slug))
            else:
                comp.identifiers.setdefault(ident, []).append(cat.slug)
    for _written, exp in abbreviations.values():
        for _text, k in exp:
            comp.vocabulary.setdefault(k, (k,))
    return comp
