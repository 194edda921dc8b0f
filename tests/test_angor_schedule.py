"""Fund/Subscribe stage dates (contract §4.1, §4.3), from the 4-byte push to each stage's day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cftui.angor.schedule import DynamicInfo, read_dynamic_info, stage_times


def unix(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp())


def days(times: list[int] | None) -> list[date]:
    assert times is not None
    return [datetime.fromtimestamp(t, tz=UTC).date() for t in times]


def pattern(frequency: int, day_type: int, payout_day: int = 0, count: int = 3) -> dict:
    return {"patternId": 1, "frequency": frequency, "payoutDayType": day_type, "payoutDay": payout_day,
            "stageCount": count}


def test_the_push_is_start_day_pattern_and_count():
    info = read_dynamic_info(bytes([0x2E, 0x01, 7, 0]))  # 302 days after 2025-01-01
    assert info == DynamicInfo(start_day=302, pattern_id=7, stage_count=0)
    assert info.start_time == unix(2025, 10, 30)
    assert read_dynamic_info(b"\x00\x01\x02") is None


@pytest.mark.parametrize("frequency, step", [(0, 7), (1, 14), (2, 30), (3, 60), (4, 90)])
def test_from_start_date_adds_whole_steps_after_the_start(frequency, step):
    start = unix(2026, 1, 10)
    assert stage_times(pattern(frequency, 0), start, 0) == [start + (i + 1) * step * 86_400 for i in range(3)]


def test_day_of_month_is_clamped_and_counted_from_the_first_one_on_or_after_the_start():
    # Day 31 from mid-January: Jan 31, then +1 month from it (.NET AddMonths): Feb 28, Mar 31.
    assert days(stage_times(pattern(2, 1, 31), unix(2026, 1, 15), 0)) == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    # Day 10 when the start is the 20th: next month's 10th first; quarterly after that.
    assert days(stage_times(pattern(4, 1, 10), unix(2026, 11, 20), 0)) == [
        date(2026, 12, 10), date(2027, 3, 10), date(2027, 6, 10)]
    # The start day itself counts ("on or after").
    assert days(stage_times(pattern(2, 1, 5, count=1), unix(2026, 5, 5), 0)) == [date(2026, 5, 5)]


def test_a_late_payout_day_is_clamped_again_in_every_month_not_carried_from_a_short_one():
    # DynamicStageCalculator.CalculateMonthlyPayoutDate: add the months, then Math.Min(payoutDay, days in month).
    # From February the first payout is the 28th; the next ones are the 31st and the 30th, not the 28th.
    assert days(stage_times(pattern(2, 1, 31), unix(2026, 2, 1), 0)) == [
        date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert days(stage_times(pattern(3, 1, 30, count=2), unix(2027, 2, 3), 0)) == [date(2027, 2, 28), date(2027, 4, 30)]


def test_day_of_week_counts_sunday_as_zero():
    # 2026-01-01 is a Thursday; payout on Mondays (1), every 2 weeks.
    assert days(stage_times(pattern(1, 2, 1), unix(2026, 1, 1), 0)) == [
        date(2026, 1, 5), date(2026, 1, 19), date(2026, 2, 2)]
    # Sunday (0), weekly, from a Sunday: that Sunday first.
    assert days(stage_times(pattern(0, 2, 0, count=2), unix(2026, 1, 4), 0)) == [date(2026, 1, 4), date(2026, 1, 11)]


def test_the_investments_own_count_overrides_the_patterns_and_nonsense_is_refused():
    assert len(stage_times(pattern(0, 0), unix(2026, 1, 1), 5)) == 5
    assert stage_times(pattern(0, 1, 10), unix(2026, 1, 1), 0) is None  # weekly on a day of the month: not a pattern
    assert stage_times(pattern(2, 2, 9), unix(2026, 1, 1), 0) is None  # weekday 9
    assert stage_times({"patternId": 1}, unix(2026, 1, 1), 0) is None
