"""The compliance planner: what each officer still needs this period, and the fewest hours of
approved courses that close it (issue 17). No flask here; views and the API call
`plan_officers` and render its plain dicts."""

from catalog.services.planning.offers import provider_choices
from catalog.services.planning.planner import Report, deadline, plan_officers
from catalog.services.planning.records import (
    Officer,
    Options,
    Record,
    officers_from_json,
    options_from_json,
    read_officers,
)
from catalog.services.planning.rules import APPROVED, TOTAL, period_names

__all__ = [
    "APPROVED",
    "TOTAL",
    "Officer",
    "Options",
    "Record",
    "Report",
    "deadline",
    "officers_from_json",
    "options_from_json",
    "period_names",
    "plan_officers",
    "provider_choices",
    "read_officers",
]
