"""Stage dates of a Fund or Subscribe investment (contract §4.1, §4.3).

Such projects publish no fixed stages. Each investment commits, in a 4-byte
push after the investor key, the day its schedule starts (days since
2025-01-01 UTC), the id of one of the project's ``dynamicStagePatterns`` and
a stage count (0: the pattern's own). Its stage dates follow the pattern
(the Angor app's ``DynamicStageCalculator``):

* ``FromStartDate``: start + (i+1) × {7, 14, 30, 60, 90} days by frequency;
* ``SpecificDayOfMonth``: the first ``payoutDay`` (clamped to the month's
  length) on or after the start, then + i × {1, 2, 3} months, on ``payoutDay``
  clamped to that month's length again (day 31 from February: Feb 28, Mar 31);
* ``SpecificDayOfWeek``: the first ``payoutDay`` weekday (0 = Sunday) on or
  after the start, then + i × {7, 14} days.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

EPOCH = date(2025, 1, 1)
DAY = 86_400
FROM_START, DAY_OF_MONTH, DAY_OF_WEEK = 0, 1, 2
# frequency: 0 Weekly, 1 Biweekly, 2 Monthly, 3 BiMonthly, 4 Quarterly
_DAYS_BY_FREQUENCY = {0: 7, 1: 14, 2: 30, 3: 60, 4: 90}
_MONTHS_BY_FREQUENCY = {2: 1, 3: 2, 4: 3}
_WEEKS_BY_FREQUENCY = {0: 7, 1: 14}


@dataclass(frozen=True, slots=True)
class DynamicInfo:
    """What a Fund/Subscribe investment commits on chain."""

    start_day: int  # days since 2025-01-01 UTC
    pattern_id: int
    stage_count: int  # 0: the pattern's own

    @property
    def start_time(self) -> int:
        return _unix(EPOCH + timedelta(days=self.start_day))


def read_dynamic_info(push: bytes) -> DynamicInfo | None:
    """The 4-byte push: uint16 LE start day, pattern id, stage count."""
    if len(push) != 4:
        return None
    return DynamicInfo(int.from_bytes(push[:2], "little"), push[2], push[3])


def stage_times(pattern: dict[str, Any], start_time: int, stage_count: int) -> list[int] | None:
    """Unix times (midnight UTC) of an investment's stages, or None if the pattern cannot be read."""
    count = stage_count or pattern.get("stageCount")
    frequency, day_type, payout_day = pattern.get("frequency"), pattern.get("payoutDayType"), pattern.get("payoutDay")
    if not isinstance(count, int) or count <= 0 or count > 1000:
        return None
    start = datetime.fromtimestamp(start_time, tz=UTC).date()
    if day_type == FROM_START and frequency in _DAYS_BY_FREQUENCY:
        step = _DAYS_BY_FREQUENCY[frequency]
        days = [start + timedelta(days=(i + 1) * step) for i in range(count)]
    elif day_type == DAY_OF_MONTH and frequency in _MONTHS_BY_FREQUENCY and isinstance(payout_day, int):
        first = _first_day_of_month_on_or_after(start, payout_day)
        days = [_add_months(first, i * _MONTHS_BY_FREQUENCY[frequency], payout_day) for i in range(count)]
    elif (
        day_type == DAY_OF_WEEK
        and frequency in _WEEKS_BY_FREQUENCY
        and isinstance(payout_day, int)
        and 0 <= payout_day <= 6
    ):
        first = start + timedelta(days=(payout_day - _sunday_based_weekday(start)) % 7)
        days = [first + timedelta(days=i * _WEEKS_BY_FREQUENCY[frequency]) for i in range(count)]
    else:
        return None
    return [_unix(d) for d in days]


def _first_day_of_month_on_or_after(start: date, payout_day: int) -> date:
    candidate = _clamped(start.year, start.month, payout_day)
    if candidate < start:
        candidate = _add_months(candidate, 1, payout_day)
    return candidate


def _add_months(day: date, months: int, payout_day: int) -> date:
    """``months`` later, on ``payout_day`` or the month's last day if it is shorter (DynamicStageCalculator
    re-clamps the pattern's day each time, not the day it had clamped to before)."""
    index = day.month - 1 + months
    return _clamped(day.year + index // 12, index % 12 + 1, payout_day)


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, max(1, min(day, calendar.monthrange(year, month)[1])))


def _sunday_based_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7  # Python: Monday 0; .NET DayOfWeek: Sunday 0


def _unix(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
