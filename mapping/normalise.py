"""Title normalisation that keeps character spans into the original text.

The output is a list of tokens (lower-case, lightly stemmed) each carrying the (start, end) span of
the original characters it came from, plus the course identifiers found in the text (TCOLE numbers,
CA course control numbers, bill and statute numbers).  Noise such as "(1 hour)", "Part II", years,
"Online", "Refresher" and "Update" is dropped; de-escalation spelling variants fold to one token.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Token", "Normalised", "normalise", "stem", "NOISE_WORDS", "STOPWORDS"]

NOISE_WORDS = frozenset(
    {"online", "refresher", "update", "updates", "updated", "inservice", "tcole", "annual"}
)
# Generic words ignored by the fuzzy (title-level) signal; phrase matching still sees them.
STOPWORDS = frozenset(
    """a an and the of for in on to with by at from or vs versus le law enforcement officer officers
    police policing training train course class program programme session seminar workshop
    basic advanced intermediate introduction intro overview review general level department
    dept agency certification certificate certified recertification instructor instructors
    trainer school academy symposium conference module topics topic issues skills skill new
    understanding essentials fundamentals principles concepts""".split()
)

_IDENTIFIER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ca", re.compile(r"(?<![0-9])(\d{4})[- ]?(\d{5})[- ]?(\d{2})[- ]?(\d{3})(?![0-9])")),
    ("tcole", re.compile(r"tcole\s*(?:course\s*)?(?:#|no\.?|number|num\.?)?\s*:?\s*(\d{3,5})\b")),
    ("tcole", re.compile(r"(?:course\s*)?#\s*(\d{4,5})\b")),
    ("tcole", re.compile(r"\((\d{4,5})\)")),
    ("bill", re.compile(r"\b(sb|hb|ab|hcs|scs|hf|sf|lb|ld)\s*[-#]?\s*(\d{1,4})\b")),
    ("measure", re.compile(r"\b(?:ballot\s+)?measure\s+(\d{1,4})\b")),
    ("cfr", re.compile(r"\b(\d{1,2})\s*c\.?f\.?r\.?\s*(?:part\s*)?(\d{1,4})\b")),
    ("usc", re.compile(r"\b(\d{1,2})\s*u\.?s\.?c\.?\s*(?:§\s*)?(\d{1,5})\b")),
    ("rsmo", re.compile(r"\brsmo\s*(?:§\s*)?(\d{1,3}\.\d{1,4})\b")),
    ("pc", re.compile(r"\b(?:pc|penal code)\s*(?:§\s*)?(\d{2,5}(?:\.\d{1,3})?)\b")),
    ("dhs", re.compile(r"\b(per|awr|mgt)\s*-?\s*(\d{3})\b")),
)
_YEARS = re.compile(r"(?<![0-9])(?:19[5-9]\d|20\d\d)(?:-\d{1,2}(?![0-9]))?(?![0-9])")
_NOISE = re.compile(
    r"\(?\b\d+(?:\.\d+)?\s*-?\s*(?:hours?|hrs?|hr|h)\b\.?\)?"  # (1 hour), 2-HR, 8 hrs
    r"|\bpart\s+(?:[ivx]+|\d+|one|two|three|four)\b"  # Part II, Part 2
    r"|\b(?:in[\s-]?service|online|on-line)\b"
    r"|\blaw[\s-]+enforcement\b"  # generic ("... for Law Enforcement"), not a legal subject
)
_NOISE_WORDS = re.compile(
    r"\b(?:in[\s-]?service|online|on-line|part\s+(?:[ivx]+|one|two|three|four)"
    r"|law[\s-]+enforcement)\b"
)
_DIGIT = re.compile(r"\d")
_DEESC = re.compile(r"\bde[\s\-\u2010-\u2015]*e?s[ck]?[ae]?lat[a-z]*")
_TOKEN = re.compile(r"\b(?:[a-z]\.){2,}|[a-z0-9]+(?:'[a-z]+)?|&")
_ROMAN = {"ii": "2", "iii": "3", "iv": "4"}


@dataclass(frozen=True, slots=True)
class Token:
    """One normalised token and the span of original characters it came from."""

    text: str  # lower-case surface form
    key: str  # stemmed form used for matching
    start: int
    end: int
    upper: bool = False  # the original was written in capitals (for abbreviations)
    abbr: str | None = None  # set when the token came from an abbreviation expansion
    fixed_from: str | None = None  # set when a fuzzy spelling fix replaced the token


@dataclass(frozen=True, slots=True)
class Normalised:
    """A normalised title: tokens with spans, identifiers, and the text they came from."""

    original: str
    tokens: tuple[Token, ...]
    identifiers: tuple[tuple[str, int, int], ...]  # (identifier, start, end)

    @property
    def text(self) -> str:
        """Readable normalised text (lower-case surface tokens)."""
        return " ".join(t.text for t in self.tokens)

    @property
    def key(self) -> str:
        """Stemmed tokens joined by spaces: what phrase matching sees."""
        return " ".join(t.key for t in self.tokens)


def stem(word: str) -> str:
    """Very light English stemmer: plural endings only, so 'searches' == 'search'."""
    n = len(word)
    if n > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if n > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if n > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    return word


def _lower_same_length(text: str) -> str:
    """Lower-case and strip accents one character at a time, so offsets stay valid."""
    if text.isascii():
        return text.lower()
    out = []
    for ch in text:
        low = ch.lower()
        if len(low) != 1:
            low = ch
        if not low.isascii():
            base = unicodedata.normalize("NFKD", low)[:1]
            low = base if base.isascii() and base else low
        out.append(low)
    return "".join(out)


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        chars[i] = " "


def normalise(title: str) -> Normalised:
    """Normalise a title into tokens with spans and identifiers (see module docstring)."""
    title = title or ""
    low = _lower_same_length(title)
    chars = list(low)
    identifiers: list[tuple[str, int, int]] = []
    has_digit = _DIGIT.search(low) is not None  # every identifier, year and hour needs a digit
    work = low  # the text with what earlier patterns found blanked (joined again only then)
    for kind, pattern in _IDENTIFIER_PATTERNS if has_digit else ():
        blanked = False
        for m in pattern.finditer(work):
            if kind == "tcole" and m.re.pattern.startswith(r"\(") and _YEARS.fullmatch(m.group(1)):
                continue
            ident = _identifier(kind, m)
            identifiers.append((ident, m.start(), m.end()))
            _blank(chars, m.start(), m.end())
            blanked = True
        if blanked:
            work = "".join(chars)
    for pattern in (_YEARS, _NOISE) if has_digit else (_NOISE_WORDS,):
        for m in pattern.finditer(work):
            _blank(chars, m.start(), m.end())
        work = "".join(chars)
    tokens: list[Token] = []
    pos = 0
    for m in _DEESC.finditer(work):
        tokens.extend(_tokens(title, work, pos, m.start()))
        tokens.append(
            Token("deescalation", "deescalation", m.start(), m.end(), _is_upper(title, m))
        )
        pos = m.end()
    tokens.extend(_tokens(title, work, pos, len(work)))
    return Normalised(title, tuple(tokens), tuple(identifiers))


def _identifier(kind: str, m: re.Match[str]) -> str:
    if kind == "ca":
        return "ca:" + "".join(m.groups())
    if kind in ("bill", "dhs"):
        return f"{kind}:{m.group(1)}-{m.group(2)}"
    if kind in ("cfr", "usc"):
        return f"{kind}:{m.group(1)}-{m.group(2)}"
    return f"{kind}:{m.group(1)}"


def _is_upper(title: str, m: re.Match[str]) -> bool:
    frag = title[m.start() : m.end()]
    return frag.isupper()


def _word(raw: str) -> tuple[str, str] | tuple[()]:
    """A matched word as a token's (text, key), or () when it is dropped."""
    word = raw
    if word == "&" or word == "and":  # "&" and "and" are both dropped: "A & B" == "A and B"
        return ()
    if "." in word:  # dotted acronym such as "O.C."
        word = word.replace(".", "")
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    if not word or word in NOISE_WORDS:
        return ()
    word = _ROMAN.get(word, word)
    return word, stem(word)


_WORDS: dict[str, tuple[str, str] | tuple[()]] = {}  # `_word` of the words seen (bounded)
_WORDS_MAX = 200_000


def _tokens(title: str, work: str, start: int, end: int) -> list[Token]:
    out: list[Token] = []
    words = _WORDS
    for m in _TOKEN.finditer(work, start, end):
        raw = m.group(0)
        found = words.get(raw)
        if found is None:
            found = _word(raw)
            if len(words) < _WORDS_MAX:
                words[raw] = found
        if not found:
            continue
        word, key = found
        s, e = m.span()
        out.append(Token(word, key, s, e, title[s:e].isupper() and not word.isdigit()))
    return out
