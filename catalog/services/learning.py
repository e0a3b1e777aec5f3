"""The learned layer of each worker's engines, kept current with the staff decisions.

Per taxonomy version (`scope`), the learner and the decisions version it was fitted on. A staff
decision gives a new decisions version (suggesting._examples_signature): the first engine built
after it refits the learned layer once in this worker, never per request. Up to SYNC_FIT_MAX
decisions that fit runs in the request (well under a second); above, it runs in a background
thread (at 2,000 decisions it takes 10-20 s) while the previous learner keeps serving, one fit
at a time per scope: decisions made during a fit are fitted by the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from mapping import Engine, Example, Taxonomy

SYNC_FIT_MAX = 500
_SIZE = 4
_LOCK = threading.Lock()
_THREADS: list[threading.Thread] = []


@dataclass
class _Fitted:
    version: str  # the decisions version it was fitted on
    learner: object | None  # None: too few decisions to learn from
    fitting: str | None = None  # the version a background fit is working on


_FITTED: dict[str, _Fitted] = {}


def fitted(scope: str, version: str) -> object | None:
    """The learner fitted on exactly this decisions version, if this worker has one."""
    with _LOCK:
        found = _FITTED.get(scope)
    return found.learner if found is not None and found.version == version else None


def learner_for(scope: str, version: str, n_examples: int) -> tuple[object | None, bool]:
    """(learner to build an engine of this version with, whether to refit in the background).
    (None, False): fit it now, with the engine, then `record` it."""
    with _LOCK:
        found = _FITTED.get(scope)
    if found is None:
        return None, False
    if found.version == version:
        return found.learner, False
    if found.learner is not None and n_examples > SYNC_FIT_MAX:
        return found.learner, True  # the previous one serves meanwhile
    return None, False


def record(scope: str, version: str, learner: object | None) -> None:
    """Remember the learner an engine fitted on this decisions version."""
    with _LOCK:
        _FITTED[scope] = _Fitted(version, learner)
        while len(_FITTED) > _SIZE:
            _FITTED.pop(next(iter(_FITTED)))


def stale(scope: str, version: str, learner: object | None) -> bool:
    """True when an engine of this version still serves the previous learner and no fit runs."""
    with _LOCK:
        found = _FITTED.get(scope)
    return (
        found is not None
        and found.version != version
        and found.fitting is None
        and found.learner is learner
    )


def refit_in_background(scope: str, version: str, tax: dict, examples: Sequence[Example]) -> None:
    """Fit the learned layer of this version in a thread, unless one is already fitting."""
    with _LOCK:
        found = _FITTED.get(scope)
        if found is None or found.fitting is not None:
            return
        found.fitting = version

    def fit() -> None:
        learner = None
        try:
            learner = Engine(Taxonomy.from_dict(tax), examples=examples).learner
        finally:
            with _LOCK:
                current = _FITTED.get(scope)
                if current is not None:
                    current.fitting = None
                    if learner is not None:
                        current.version, current.learner = version, learner

    thread = threading.Thread(target=fit, name="refit-learned-layer", daemon=True)
    with _LOCK:
        _THREADS[:] = [t for t in _THREADS if t.is_alive()]
        _THREADS.append(thread)
    thread.start()


def wait_for_fits(timeout: float | None = None) -> None:
    """Wait for the background fits this worker started (tests, CLI commands)."""
    while _THREADS:
        _THREADS.pop().join(timeout)
