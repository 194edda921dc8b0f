"""The one clock cftui reads.

Everything that needs "now" calls :func:`now` so tests can freeze time
(``clock.freeze(ts)``) and the dashboard renders the same screen every run.
All times are UTC unix seconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

_frozen: float | None = None


def now() -> float:
    """Current UTC unix time in seconds (fractional)."""
    return _frozen if _frozen is not None else time.time()


def now_s() -> int:
    return int(now())


def freeze(ts: float | None) -> None:
    """Freeze the clock at ``ts`` (or unfreeze with ``None``). For tests and demos."""
    global _frozen
    _frozen = ts


def to_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def iso(ts: float | None) -> str | None:
    """Unix seconds to ISO-8601 UTC with a Z: 1700000000 -> '2023-11-14T22:13:20Z'."""
    if ts is None:
        return None
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(text: str) -> int:
    """'2026-01-31' or an ISO-8601 time (UTC unless it says otherwise) to unix seconds."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD or an ISO-8601 time)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def ago(ts: float | None, *, at: float | None = None) -> str:
    """A short relative time: 'just now', '2 min ago', '3 h ago', '4 d ago'."""
    if ts is None:
        return "never"
    delta = int((now() if at is None else at) - ts)
    if delta < 10:
        return "just now"
    if delta < 60:
        return f"{delta} s ago"
    if delta < 3600:
        return f"{delta // 60} min ago"
    if delta < 86400:
        return f"{delta // 3600} h ago"
    return f"{delta // 86400} d ago"
