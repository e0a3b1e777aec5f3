"""Heavy uploads at once per worker process (issue 14).

A catalog upload reads a file and runs the matching engine: seconds of CPU. Four hostile ones at
once used to hold every worker, and `/healthz` stopped answering. `@upload_slot("catalog")` lets
UPLOAD_SLOTS such requests per pool run at once in a worker, and UPLOAD_HOST_SLOTS in all the
workers of one instance folder together (lock files: half the cores by default, so uploads never
take the whole machine from the pages); another one waits up to UPLOAD_WAIT_SECONDS for a slot,
then gets a 503 with Retry-After (its body read first, so the client sees the answer instead of
a reset connection). Everything else (pages, the API's reads,
/healthz) never waits for a slot. Pools are separate: the planner's uploads do not take the
providers' slots.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from functools import wraps

from flask import current_app, make_response, request

from catalog.errors import error_response

RETRY_AFTER_SECONDS = 5
_POOLS: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_LOCK = threading.Lock()


def _pool(name: str, size: int) -> threading.BoundedSemaphore:
    with _LOCK:
        pool = _POOLS.get((name, size))
        if pool is None:
            pool = _POOLS[(name, size)] = threading.BoundedSemaphore(size)
        return pool


def _host_slot(name: str, size: int, until: float) -> int | None:
    """An open, exclusively locked slot file of the pool (all workers share them), or None when
    every slot stayed taken until `until` (monotonic). The lock goes with the file's close, and
    with the process if it dies."""
    folder = os.path.join(current_app.instance_path, "upload-slots")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    while True:
        for i in range(size):
            fd = os.open(os.path.join(folder, f"{name}-{i}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError:
                os.close(fd)
        if time.monotonic() >= until:
            return None
        time.sleep(0.05)


def _drain() -> None:
    """Read the unread body (bounded by MAX_CONTENT_LENGTH) so the answer is delivered."""
    stream = request.stream
    while stream.read(64 * 1024):
        pass


def busy_response():
    """The 503 of an upload that found no free slot."""
    response = make_response(
        error_response(
            503,
            "The server is busy with other uploads right now; nothing was read or saved. "
            f"Please send the file again in {RETRY_AFTER_SECONDS} seconds.",
            details=[f"Retry after {RETRY_AFTER_SECONDS} seconds."],
        )
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def upload_slot(name: str):
    """Decorate a view whose POST is a heavy upload: it runs only in one of the pool's slots."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            config = current_app.config
            size = int(config.get("UPLOAD_SLOTS", 1))
            if request.method != "POST" or size <= 0:
                return view(*args, **kwargs)
            wait = float(config.get("UPLOAD_WAIT_SECONDS", 2))
            until = time.monotonic() + wait
            pool = _pool(name, size)
            if not pool.acquire(timeout=wait):
                _drain()
                return busy_response()
            host = int(config.get("UPLOAD_HOST_SLOTS", 0))
            fd = None
            try:
                if host > 0:
                    fd = _host_slot(name, host, until)
                    if fd is None:
                        _drain()
                        return busy_response()
                return view(*args, **kwargs)
            finally:
                if fd is not None:
                    os.close(fd)
                pool.release()

        return wrapper

    return decorate
