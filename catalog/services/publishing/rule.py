"""The one rule of publication: a course is on the public list when its status is 'approved', it has
an `approved_until` and that day is today or later (the approval holds through its last day).

The rule has two halves, kept here once each and used by every implementation:

- stored: approved with an end date. Which rows the read tables hold (`search_published`, and
  `search_courses` on PostgreSQL for the status). Triggers keep those tables in the transaction of
  every write (the ORM's, the bulk approve's UPDATE statements, the import's COPY), so the
  services need not know the tables exist: the trigger SQL of migrations 0004/0005/0007 states
  this half in SQL (`STORED_SQL`), and tests/integration/test_publication_rule.py runs the same
  course states through the triggers and through `is_published` and holds them together;
- dated: `approved_until >= today`, checked when the list is read (expiry needs no job), in SQL
  (`published_sql`), in SQLAlchemy (`published_clause`) and over the in-memory arrays
  (`still_current`).

A change to the rule is a change to this module and a migration that installs the new trigger SQL;
the test fails until both agree.
"""

from __future__ import annotations

import datetime as dt

PUBLISHED_STATUS = "approved"

# The stored half as the triggers state it over `courses c` (checked against the installed
# trigger definitions by the test).
STORED_SQL = f"c.status = '{PUBLISHED_STATUS}' AND c.approved_until IS NOT NULL"


def still_current(approved_until, today):
    """The dated half: the approval holds through its last day. Works on dates, on day ordinals
    and on numpy arrays of ordinals (the published copy's `until` column)."""
    return approved_until >= today


def is_stored(status: str, approved_until: dt.date | None) -> bool:
    """True when the read tables hold the course (the stored half of the rule)."""
    return status == PUBLISHED_STATUS and approved_until is not None


def is_published(status: str, approved_until: dt.date | None, today: dt.date) -> bool:
    """True when a course in this state is on the public list today."""
    return is_stored(status, approved_until) and bool(still_current(approved_until, today))


def published_sql(alias: str = "c") -> tuple[str, ...]:
    """The rule as SQL conditions over `courses <alias>` (needs the :today parameter)."""
    return (
        f"{alias}.status = '{PUBLISHED_STATUS}'",
        f"{alias}.approved_until IS NOT NULL",
        f"{alias}.approved_until >= :today",
    )


def published_clause(course, today: dt.date) -> tuple:
    """The rule as SQLAlchemy conditions over the Course entity (or an alias of it)."""
    return (
        course.status == PUBLISHED_STATUS,
        course.approved_until.is_not(None),
        still_current(course.approved_until, today),
    )
