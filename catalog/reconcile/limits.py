"""A per-address token bucket for the reconciliation endpoints.

Each address may spend `per_minute` units a minute (one per query of a batch, one per other
request), refilled continuously. The buckets live in the worker's memory: with N gunicorn workers
an address gets up to N times the budget (documented in the README); nothing here touches the
database, so a reconciliation run cannot slow down the catalog's writers.
"""

from __future__ import annotations

import math
import threading
import time

MAX_KEYS = 10_000


class RateLimiter:
    """Token buckets keyed by client address."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: int, per_minute: int, now: float | None = None) -> int:
        """Spend `cost` units of `key`'s bucket; 0 when allowed, else seconds to wait."""
        if per_minute <= 0:
            return 0
        now = time.monotonic() if now is None else now
        cost = min(cost, per_minute)
        rate = per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                return 0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > MAX_KEYS:  # forget the oldest half
                for old in sorted(self._buckets, key=lambda k: self._buckets[k][1])[
                    : MAX_KEYS // 2
                ]:
                    del self._buckets[old]
            return max(1, math.ceil((cost - tokens) / rate))

    def reset(self) -> None:
        """Forget every bucket (tests)."""
        with self._lock:
            self._buckets.clear()


limiter = RateLimiter()
