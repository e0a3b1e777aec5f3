"""One input-cleaning rule for every way text enters, and the formula guard for what leaves.

Text arrives through forms, query strings, JSON (API), uploads (CSV, XLSX, JSON) and the CLI.
All of it goes through `clean_text`: C0/C1 control characters (tab and line breaks kept), DEL,
lone surrogates and the XML non-characters U+FFFE/U+FFFF are removed. PostgreSQL refuses NUL,
XML 1.0 (the Atom feed) refuses the rest, and a control character in front of `=` used to slip a
formula past the spreadsheet guard. Exports call `spreadsheet_cell` on the exact value written.
"""

from __future__ import annotations

import re

_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def clean_text(value: str) -> str:
    """`value` without control characters, surrogates or XML non-characters (tab, CR, LF kept)."""
    return _UNWANTED.sub("", value)


def has_unwanted(value: str) -> bool:
    """Whether `clean_text` would change `value`."""
    return _UNWANTED.search(value) is not None


def clean_payload(value, _depth: int = 0):
    """A decoded JSON value with every string (keys too) passed through `clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_payload(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {
            (clean_text(k) if isinstance(k, str) else k): clean_payload(v, _depth + 1)
            for k, v in value.items()
        }
    return value


def would_run_as_formula(text: str) -> bool:
    """True when a spreadsheet opening this cell's text would evaluate it (it starts with
    = + - @, a tab or a line break, and is not simply a signed number such as -1.5)."""
    return text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text)


def spreadsheet_cell(value):
    """The value a CSV or XLSX cell gets: cleaned, then a leading apostrophe when a spreadsheet
    would run it as a formula. Non-text values pass unchanged."""
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    return "'" + text if would_run_as_formula(text) else text


def web_address(value: str | None) -> str | None:
    """`value` when it is an absolute http(s) address with a host, else None. The only URLs
    the app stores or links: no `javascript:`, `data:` or scheme-relative tricks."""
    from urllib.parse import urlsplit

    text = (value or "").strip()
    if not text or any(c.isspace() for c in text) or has_unwanted(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text
