"""Full-text search behind one function, `match()`: SQLite FTS5 or PostgreSQL tsvector + pg_trgm.

The user's text never reaches the search engine's query syntax: it is cut into words and quoted
phrases here, and each becomes a quoted FTS5 phrase or a bound `websearch_to_tsquery` argument.

Hyphen and space are the same: "use-of-force" and "use of force" are the same three words (the
index's tokenizers split on hyphens too). Known compounds are the exception that keeps its
spellings together: the index keeps a folded copy of every text (lower case, hyphens removed,
FOLDS joined: "de escalation" -> "deescalation"), and a query word containing a folded compound
also matches the split phrase. So "De-Escalation", "de escalation" and "deescalation" find the same
courses, and the title highlight still marks them. The folding rules live in the migration's
triggers too (migrations/versions/0003_course_search_index.py).

A search reads the ids of every match in one pass (`Match.ids_sql`, one aggregated row), and for
"best match" also the ids of the courses whose title matches (`Match.title_ids_sql`): relevance
is title matches first, shorter titles first, then the course id, the same on both databases.
`correct()` proposes a corrected query (one or two letters off a word of the published courses)
for a search that finds nothing as typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from markupsafe import Markup, escape

# Applied after lower-casing and removing hyphens; keep in step with the migration's FOLDS.
FOLDS = (("de escalat", "deescalat"),)
HYPHEN_CHARS = "-\u2010\u2011\u2012\u2013\u2014"
MAX_TERMS = 12
MAX_QUERY_CHARS = 200
HL_START, HL_END = "\x01", "\x02"

_HYPHEN = f"[{re.escape(HYPHEN_CHARS)}]"
_WORD = r"[^\W_]+"
_TOKEN_RE = re.compile(rf'"([^"]*)"|({_WORD}(?:{_HYPHEN}{_WORD})*)')
_WORDS_RE = re.compile(_WORD)
_PLAIN = f"[^{HL_START}{HL_END}]*"
_WELL_MARKED = re.compile(f"{_PLAIN}(?:{HL_START}{_PLAIN}{HL_END}{_PLAIN})*")
_FOLD_RES = [
    (re.compile(r"\b" + rf"(?:\s|{_HYPHEN})*".join(map(re.escape, old.split()))), new)
    for old, new in FOLDS
]


@dataclass(frozen=True)
class TextQuery:
    """A parsed search: every term must match; a term matches if any of its alternatives does.
    Each alternative is a phrase: a tuple of lower-case words."""

    raw: str
    terms: tuple[tuple[tuple[str, ...], ...], ...]

    def fts5(self) -> str:
        """The FTS5 MATCH expression: quoted phrases only, so no user text is FTS syntax."""
        return " AND ".join(
            "(" + " OR ".join('"' + " ".join(alt) + '"' for alt in term) + ")"
            for term in self.terms
        )

    def fts5_prefix(self) -> str | None:
        """A looser query for the fallback: each long word as a 4-letter prefix (typos, endings)."""
        words = [w for term in self.terms for w in term[0]]
        parts = [f'"{w[:4]}"*' if len(w) >= 5 else f'"{w}"' for w in words]
        return " AND ".join(parts) if parts else None

    def websearch_args(self) -> list[list[str]]:
        """Per term, the websearch_to_tsquery argument of each alternative (phrases quoted)."""
        return [
            [" ".join(alt) if len(alt) == 1 else '"' + " ".join(alt) + '"' for alt in term]
            for term in self.terms
        ]

    def plain(self) -> str:
        """The query's words, folded, for similarity (pg_trgm) fallbacks."""
        return " ".join(" ".join(term[0]) for term in self.terms)


def fold(text: str) -> str:
    """Lower-case, NFKC and join the known compounds, the way the index does."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for pattern, new in _FOLD_RES:
        text = pattern.sub(new, text)
    return text


def parse(text: str | None) -> TextQuery | None:
    """Cut what a user typed into terms; None when nothing searchable is left. A hyphen separates
    words exactly as a space does."""
    text = fold((text or "")[:MAX_QUERY_CHARS])
    terms: list[tuple[tuple[str, ...], ...]] = []
    for phrase, word in _TOKEN_RE.findall(text):
        if phrase:
            words = tuple(_WORDS_RE.findall(phrase))
            if words:
                terms.append((words,))
            continue
        for part in re.split(_HYPHEN, word):
            alternatives: list[tuple[str, ...]] = [(part,)]
            for old, new in FOLDS:
                if new in part:
                    alternatives.append(tuple(part.replace(new, old).split()))
            terms.append(tuple(dict.fromkeys(alternatives)))
        if len(terms) >= MAX_TERMS:
            break
    if not terms:
        return None
    return TextQuery(raw=text, terms=tuple(terms[:MAX_TERMS]))


def words(text: str) -> list[str]:
    """The searchable words of a text, folded as the index folds them (for the vocabulary)."""
    return [w for w in _WORDS_RE.findall(fold(text))]


def correct(text: str, vocabulary: dict[str, int]) -> str | None:
    """The query with each word that no published course contains replaced by the closest one
    that some do (one edit, or two for words of eight letters or more; a swap of two neighbouring
    letters is one edit; the most frequent wins a tie). None when nothing could be corrected."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    folded = fold((text or "")[:MAX_QUERY_CHARS])
    changed = False
    out: list[str] = []
    last = 0
    for found in _WORDS_RE.finditer(folded):
        word = found.group()
        out.append(folded[last : found.start()])
        last = found.end()
        if len(word) < 4 or word in vocabulary or word.isdigit():
            out.append(word)
            continue
        limit = 1 if len(word) < 8 else 2
        candidates = process.extract(
            word, vocabulary.keys(), scorer=OSA.distance, score_cutoff=limit, limit=None
        )
        if not candidates:
            out.append(word)
            continue
        best = min(candidates, key=lambda c: (c[1], -vocabulary[c[0]], c[0]))[0]
        changed = changed or best != word
        out.append(best)
    out.append(folded[last:])
    return "".join(out).strip() if changed else None


@dataclass
class Match:
    """SQL of one search, for the published catalog (listing.py, sql.py).

    `ids_sql` returns one row, one column: the ids of every matching course, comma-separated (one
    pass; aggregating in the database avoids a Python object per match). `title_ids_sql` does the
    same for the courses whose title matches (relevance). The page's own rows start from its ids
    (`page.course_id`): `detail_join` follows them to `courses c` (and to the text index where
    highlighting needs it), with `detail_where` ANDed in; there `title_sql`/`snippet_sql` give
    marked-up text (HL_START/HL_END around matched words; render with `marked()`), so
    highlighting runs for the page's rows only. `params` are the bound values."""

    ids_sql: str
    title_ids_sql: str
    title_sql: str
    snippet_sql: str
    params: dict = field(default_factory=dict)
    # PostgreSQL: one primary-key lookup per page id whatever the statistics say (OFFSET 0 keeps
    # the subquery from being flattened into a join): right after a big import, before ANALYZE,
    # the planner took `courses` for 17 rows and hashed every approved course instead (18 ms at
    # 10,000 courses against 0.1 ms).
    detail_join: str = (
        "CROSS JOIN LATERAL (SELECT * FROM courses c WHERE c.id = page.course_id OFFSET 0) c"
    )
    detail_where: str = "TRUE"
    # PostgreSQL: the tsquery expressions of `ids_sql` and `title_ids_sql`, so both passes can
    # run as one index scan (sql.match_ids); None where there is no such split.
    tsquery: str | None = None
    title_tsquery: str | None = None


def match(dialect: str, query: TextQuery, *, fuzzy: bool = False) -> Match | None:
    """The full-text (or, with fuzzy=True, the close-match fallback) search for a dialect.
    None when the fallback has nothing to try."""
    if dialect == "postgresql":
        return _match_postgresql(query, fuzzy)
    return _match_sqlite(query, fuzzy)


def _match_sqlite(query: TextQuery, fuzzy: bool) -> Match | None:
    expression = query.fts5_prefix() if fuzzy else query.fts5()
    if not expression:
        return None
    ids = "SELECT group_concat(rowid) FROM courses_fts WHERE courses_fts MATCH "
    return Match(
        ids_sql=ids + ":fts_query",
        title_ids_sql=ids + ":fts_title",
        title_sql="highlight(courses_fts, 0, char(1), char(2))",
        snippet_sql="snippet(courses_fts, 1, char(1), char(2), '…', 28)",
        params={"fts_query": expression, "fts_title": "{title} : (" + expression + ")"},
        # highlight() needs the MATCH; with the page's rowid as an equality on the inner side of
        # the join, FTS5 looks each of the page's rows up (microseconds) instead of re-running the
        # whole match and testing every matching row against the page's ids.
        detail_join="CROSS JOIN courses_fts ON courses_fts.rowid = page.course_id "
        "CROSS JOIN courses c ON c.id = page.course_id",
        detail_where="courses_fts MATCH :fts_query",
    )


# websearch_to_tsquery's lexemes restricted to weight A (the title) by rewriting its text form:
# 'de' <-> 'escal'  ->  'de':A <-> 'escal':A
_TITLE_ONLY = r"regexp_replace({}::text, '(''(?:[^'']|'''')*'')', '\1:A', 'g')::tsquery"


def _match_postgresql(query: TextQuery, fuzzy: bool) -> Match:
    ids = "SELECT string_agg(s.course_id::text, ',') FROM search_courses s WHERE "
    if fuzzy:
        condition = ":trgm_query <% s.title"
        return Match(
            ids_sql=ids + condition,
            title_ids_sql=ids + condition,
            title_sql="c.title",
            snippet_sql="left(c.description, 200)",
            params={"trgm_query": query.plain()},
        )
    params: dict = {
        "hl_title": f"StartSel={HL_START}, StopSel={HL_END}, HighlightAll=true",
        "hl_snippet": f"StartSel={HL_START}, StopSel={HL_END}, MaxWords=30, MinWords=12, "
        "MaxFragments=1, FragmentDelimiter=…",
    }
    terms, title_terms = [], []
    for i, alternatives in enumerate(query.websearch_args()):
        alts, title_alts = [], []
        for j, arg in enumerate(alternatives):
            params[f"ts_{i}_{j}"] = arg
            one = f"websearch_to_tsquery('english', :ts_{i}_{j})"
            alts.append(one)
            title_alts.append(_TITLE_ONLY.format(one))
        terms.append("(" + " || ".join(alts) + ")")
        title_terms.append("(" + " || ".join(title_alts) + ")")
    tsq = "(" + " && ".join(terms) + ")"
    title_tsq = f"({' && '.join(title_terms)})"
    return Match(
        ids_sql=ids + f"s.doc @@ {tsq}",
        title_ids_sql=ids + f"s.doc @@ {title_tsq}",
        tsquery=tsq,
        title_tsquery=title_tsq,
        title_sql=f"ts_headline('english', c.title, {tsq}, :hl_title)",
        snippet_sql=f"ts_headline('english', c.description, {tsq}, :hl_snippet)",
        params=params,
    )


def marked(text: str | None) -> Markup:
    """Escape text from the search engine and turn its match markers into <mark> elements."""
    if not text:
        return Markup("")
    if _WELL_MARKED.fullmatch(text):  # no marker, or start/end pairs in turn: the usual case
        return Markup(str(escape(text)).replace(HL_START, "<mark>").replace(HL_END, "</mark>"))
    out = []
    open_ = False
    for piece in re.split(f"([{HL_START}{HL_END}])", text):
        if piece == HL_START:
            if not open_:
                out.append("<mark>")
                open_ = True
        elif piece == HL_END:
            if open_:
                out.append("</mark>")
                open_ = False
        else:
            out.append(str(escape(piece)))
    if open_:
        out.append("</mark>")
    return Markup("".join(out))


def unmarked(text: str | None) -> str:
    """The text without the highlight markers."""
    return (text or "").replace(HL_START, "").replace(HL_END, "")
