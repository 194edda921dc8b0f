"""Date ranges shared by the Overview and Invoices tabs: 24h / 7d / 30d / 90d / all."""

from __future__ import annotations

from cftui import clock

DAY = 86_400
RANGES: tuple[str, ...] = ("24h", "7d", "30d", "90d", "all")
_SECONDS = {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY}


def since(range_key: str, now: int | None = None) -> int | None:
    """Start of the range (unix s), or None for all time."""
    seconds = _SECONDS.get(range_key)
    if seconds is None:
        return None
    return (clock.now_s() if now is None else now) - seconds


def step(range_key: str, by: int = 1) -> str:
    """The next (or previous, by=-1) range, wrapping around."""
    index = RANGES.index(range_key) if range_key in RANGES else len(RANGES) - 1
    return RANGES[(index + by) % len(RANGES)]
