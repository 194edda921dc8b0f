"""Waiting for a state, never for a length of time: ``wait_for`` (threads) and ``wait_for_async`` (a loop).

Each polls ``condition()`` until it is true and returns its value; the timeout only bounds a failure
(an AssertionError naming what never came), so a slow machine makes a test slower, never red.
For the dashboard, tests/ui/conftest.py has the Pilot's own ``wait_for`` and ``settle``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

WAIT_SECONDS = 20.0  # a bound on a failure, not a pause
POLL_SECONDS = 0.01


Described = str | Callable[[], str]  # what is awaited; a callable is asked only on a timeout (the state then)


def wait_for(condition: Callable[[], T], what: Described = "", *, timeout: float = WAIT_SECONDS) -> T:
    """Poll ``condition`` from this thread until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, _timed_out(timeout, what, condition)
        time.sleep(POLL_SECONDS)
    return value


async def wait_for_async(condition: Callable[[], T], what: Described = "", *, timeout: float = WAIT_SECONDS) -> T:
    """Like :func:`wait_for`, letting the event loop run (the server, the sender) between polls."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, _timed_out(timeout, what, condition)
        await asyncio.sleep(POLL_SECONDS)
    return value


def _timed_out(timeout: float, what: Described, condition: Callable[[], object]) -> str:
    return f"timed out after {timeout:g} s waiting for {(what() if callable(what) else what) or condition}"
