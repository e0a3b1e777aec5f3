"""Full-text search behind one function, `match()`: SQLite FTS5 or PostgreSQL tsvector + pg_trgm.

The user's text never reaches the search engine's query syntax: it is cut into words and quoted
phrases here, and each becomes a quoted FTS5 phrase or a bound `websearch_to_tsquery` argument.

Hyphen pitfall: unicode61 and PostgreSQL both split "De-escalation" into "de" + "escalation", and
"deescalation" is one word. The index keeps a folded copy of every text (lower case, hyphens removed,
FOLDS joined: "de escalation" -> "deescalation"), and each query word gets alternatives: a hyphenated
word or a known compound matches as one folded word OR as the split phrase. So "De-Escalation",
"de escalation" and "deescalation" find the same courses, and the title highlight still marks them.
The folding rules live in the migration's triggers too (migrations/versions/0003_course_search_index.py).
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
_FOLD_RES = [
    (re.compile(r"\b" + rf"(?:\s|{_HYPHEN})*".join(map(re.escape, old.split()))), new)
    for old, new in FOLDS
]

# bm25 weights per FTS5 column: title, description, objectives, categories, folded copy.
_BM25 = "bm25(courses_fts, 10.0, 2.0, 2.0, 4.0, 1.0)"


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
    """Cut what a user typed into terms; None when nothing searchable is left."""
    text = fold((text or "")[:MAX_QUERY_CHARS])
    terms: list[tuple[tuple[str, ...], ...]] = []
    for phrase, word in _TOKEN_RE.findall(text):
        if phrase:
            words = tuple(_WORDS_RE.findall(phrase))
            if words:
                terms.append((words,))
            continue
        parts = tuple(re.split(_HYPHEN, word))
        joined = "".join(parts)
        alternatives: list[tuple[str, ...]] = [(joined,)]
        if len(parts) > 1:
            alternatives.append(parts)
        for old, new in FOLDS:
            if new in joined and len(parts) == 1:
                split = joined.replace(new, old)
                alternatives.append(tuple(split.split()))
        terms.append(tuple(dict.fromkeys(alternatives)))
        if len(terms) >= MAX_TERMS:
            break
    if not terms:
        return None
    return TextQuery(raw=text, terms=tuple(terms[:MAX_TERMS]))


@dataclass
class Match:
    """SQL fragments for one search, to splice into the published-catalog queries.

    Filtering and counting run over `search_published sp` (publishing_sql.py): `from_sql` replaces
    it in the FROM clause and `where_sql` must be ANDed in. `rank_sql` sorts best first when
    ascending. The page's own rows start from its ids (`page.course_id`, already chosen and
    ordered): `detail_join` follows them to `courses c` (and to the text index where highlighting
    needs it), with `detail_where` ANDed in; there `title_sql`/`snippet_sql` give marked-up text
    (HL_START/HL_END around matched words; render with `marked()`), so highlighting runs for the
    page's rows only. `params` are the bound values."""

    from_sql: str
    where_sql: str
    rank_sql: str
    title_sql: str
    snippet_sql: str
    params: dict = field(default_factory=dict)
    detail_join: str = "JOIN courses c ON c.id = page.course_id"
    detail_where: str = "TRUE"


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
    # CROSS JOIN keeps the FTS match set as the outer loop (SQLite's planner would rather scan).
    return Match(
        from_sql="courses_fts CROSS JOIN search_published sp ON sp.course_id = courses_fts.rowid",
        where_sql="courses_fts MATCH :fts_query",
        rank_sql=_BM25,
        title_sql="highlight(courses_fts, 0, char(1), char(2))",
        snippet_sql="snippet(courses_fts, 1, char(1), char(2), '…', 28)",
        params={"fts_query": expression},
        # highlight() needs the MATCH; with the page's rowid as an equality on the inner side of
        # the join, FTS5 looks each of the page's rows up (microseconds) instead of re-running the
        # whole match and testing every matching row against the page's ids.
        detail_join="CROSS JOIN courses_fts ON courses_fts.rowid = page.course_id "
        "CROSS JOIN courses c ON c.id = page.course_id",
        detail_where="courses_fts MATCH :fts_query",
    )


def _match_postgresql(query: TextQuery, fuzzy: bool) -> Match:
    from_sql = "search_courses s JOIN search_published sp ON sp.course_id = s.course_id"
    if fuzzy:
        return Match(
            from_sql=from_sql,
            where_sql=":trgm_query <% s.title",
            rank_sql="(1 - word_similarity(:trgm_query, s.title))",
            title_sql="c.title",
            snippet_sql="left(c.description, 200)",
            params={"trgm_query": query.plain()},
        )
    params: dict = {
        "hl_title": f"StartSel={HL_START}, StopSel={HL_END}, HighlightAll=true",
        "hl_snippet": f"StartSel={HL_START}, StopSel={HL_END}, MaxWords=30, MinWords=12, "
        "MaxFragments=1, FragmentDelimiter=…",
    }
    terms = []
    for i, alternatives in enumerate(query.websearch_args()):
        alts = []
        for j, arg in enumerate(alternatives):
            params[f"ts_{i}_{j}"] = arg
            alts.append(f"websearch_to_tsquery('english', :ts_{i}_{j})")
        terms.append("(" + " || ".join(alts) + ")")
    tsq = "(" + " && ".join(terms) + ")"
    return Match(
        from_sql=from_sql,
        where_sql=f"s.doc @@ {tsq}",
        rank_sql=f"(-ts_rank(s.doc, {tsq}))",
        title_sql=f"ts_headline('english', c.title, {tsq}, :hl_title)",
        snippet_sql=f"ts_headline('english', c.description, {tsq}, :hl_snippet)",
        params=params,
    )


def marked(text: str | None) -> Markup:
    """Escape text from the search engine and turn its match markers into <mark> elements."""
    if not text:
        return Markup("")
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
    return (text or "").replace(HL_START, "").replace(HL_END, "")
