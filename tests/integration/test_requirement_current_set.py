"""One rule for "the current requirement set", used by the public finder and the planner alike:
the set whose period contains today, else the latest that has started, else the first to come."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import RequirementSet
from catalog.services.planning.rules import load_rules
from catalog.services.requirements import current_set


def _sets(taxonomy) -> list[RequirementSet]:
    return list(
        db.session.scalars(
            select(RequirementSet)
            .where(RequirementSet.jurisdiction_id == taxonomy.id)
            .order_by(RequirementSet.starts_on)
        )
    )


@pytest.mark.parametrize("when", ["inside", "after", "before"])
def test_the_planner_reads_the_same_current_set_as_the_finder(taxonomy, when):
    sets = _sets(taxonomy)
    assert len(sets) >= 2, "the seed has several periods"
    first, last = sets[0], sets[-1]
    today = {
        "inside": first.starts_on + (first.ends_on - first.starts_on) / 2,
        "after": last.ends_on + dt.timedelta(days=400),
        "before": first.starts_on - dt.timedelta(days=400),
    }[when]
    expected = {"inside": first, "after": last, "before": first}[when]
    found = current_set(db.session, today, taxonomy.id)
    assert found.id == expected.id
    assert load_rules(db.session, taxonomy, None, today).id == expected.id


def test_between_two_periods_the_latest_started_one_is_current(taxonomy):
    sets = _sets(taxonomy)
    first, second = sets[0], sets[1]
    second.starts_on = first.ends_on + dt.timedelta(days=30)
    db.session.flush()
    today = first.ends_on + dt.timedelta(
        days=10
    )  # in no period: the first has started, not the 2nd
    assert current_set(db.session, today, taxonomy.id).id == first.id
    assert load_rules(db.session, taxonomy, None, today).id == first.id
