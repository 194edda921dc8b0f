"""Per-address limit on rejected requests (a flood is answered 429, cheaply).

Only rejections count, so a busy BTCPay sending valid deliveries is never
limited; 429 answers count too, so an address that keeps flooding stays
limited until it has been quiet for a full window.
"""

from __future__ import annotations

from collections import deque

WINDOW_S = 60.0
# Forget addresses idle for a window once this many are tracked (bounded memory).
_SWEEP_AT = 4096


class RejectionLimiter:
    def __init__(self, limit_per_minute: int) -> None:
        self._limit = limit_per_minute
        self._seen: dict[str, deque[float]] = {}

    def is_limited(self, remote: str, now: float) -> bool:
        times = self._seen.get(remote)
        if not times:
            return False
        self._expire(times, now)
        return len(times) >= self._limit

    def note_rejection(self, remote: str, now: float) -> None:
        times = self._seen.get(remote)
        if times is None:
            if len(self._seen) >= _SWEEP_AT:
                self._sweep(now)
            times = self._seen[remote] = deque(maxlen=self._limit)
        self._expire(times, now)
        times.append(now)

    @staticmethod
    def _expire(times: deque[float], now: float) -> None:
        while times and times[0] <= now - WINDOW_S:
            times.popleft()

    def _sweep(self, now: float) -> None:
        for remote in list(self._seen):
            times = self._seen[remote]
            self._expire(times, now)
            if not times:
                del self._seen[remote]
