"""A wall-clock bound on one upload's work (issue 14): reading, checking and suggesting stop at
the deadline with an Invalid that says what to do. Nothing is written before the work is done, so
stopping loses nothing. The clock is injectable (tests advance a fake one instead of waiting)."""

from __future__ import annotations

import time
from collections.abc import Callable

from catalog.services.errors import Invalid

# How often the loops look at the clock: every this many rows or cells.
CHECK_EVERY = 256


class TimeLimit(Invalid):
    """The upload took longer than its time limit; nothing was saved."""


class Deadline:
    """`seconds` from now on `clock` (None: no limit, the command line's imports)."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.at = None if seconds is None else clock() + seconds

    def expired(self) -> bool:
        """Whether the time is up (always False without a limit)."""
        return self.at is not None and self.clock() > self.at

    def check(self) -> None:
        """Raise TimeLimit when the time is up."""
        if self.expired():
            raise time_limit(self.seconds)

    def every(self, count: int) -> None:
        """check() on every CHECK_EVERY-th count of a loop (reading the clock is not free)."""
        if self.at is not None and not count % CHECK_EVERY:
            self.check()


def time_limit(seconds: float | None) -> TimeLimit:
    """The error of an upload stopped at its time limit."""
    message = (
        f"Reading and checking this file took longer than the {seconds:g} seconds an upload may "
        "take, so it was stopped; nothing was saved. Split the catalog into smaller files and "
        "upload them one by one (or ask staff to import it from the command line)."
    )
    return TimeLimit(message, [{"row": None, "field": "file", "message": message}])


NO_DEADLINE = Deadline(None)
