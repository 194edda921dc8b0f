"""Project status, days left and stage release — one rule, stated here.

The rule is the Angor app's (Avalonia model, CONTRACT.md §4.4,
``FullProjectExtensions.cs``): compared by UTC calendar day,

* today < start            -> ``upcoming``
* start <= today < end     -> ``funding``
* today >= end, raised < target -> ``failed``
* today >= end, raised >= target -> the app's "Succeeded", which we split by
  the stage timeline (a stage is released once its release date has passed,
  the app's "withdrawable" test in ``ProjectStatistics.cs``):
  no stage released -> ``funded``; some -> ``active``; all -> ``completed``.

"Raised" here is what the app compares: the sum of the stage outputs, net of
the 1 % Angor fee (``HasReachedTarget`` over ``MempoolIndexerMappers``' taproot
sum). The mempool-fork indexer reports gross instead (each investment's fee
output × 100); :func:`status_raised` takes the fee off it first.

Fund/Subscribe projects have no end date (values <= 0 read as none) and no
fixed stages: their window stays open until the expiry date ("Open Ended" in
the app), and past it they are ``completed`` if anyone invested (a target of
0 means "no target") and ``failed`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cftui.domain import INDEXER as GROSS_SOURCE  # the indexer's "raised" is gross
from cftui.domain import PROJECT_STATUSES, ProjectStatus, RaisedSource

DAY = 86_400
STATUSES = PROJECT_STATUSES
FEE_PERCENT = 1  # the Angor fee on an investment (AngorInvestFeePercentage)


def _day(ts: int) -> int:
    return ts // DAY


def window_end(end_time: int | None, expiry_time: int | None) -> int | None:
    return end_time or expiry_time


def status_raised(raised_sats: int, raised_source: RaisedSource | str | None) -> int:
    """The net amount the status rule compares with the target.

    A gross figure is a sum of fee outputs × 100, so a hundredth of it is exactly the fees paid. Gross
    less the fees is the sum of the stage outputs to within 99 sats per investment (an investment of
    ``g`` sats pays ``g // 100`` in fee, and the indexer sees only the fee).
    """
    if raised_source == GROSS_SOURCE:
        return raised_sats - raised_sats * FEE_PERCENT // 100
    return raised_sats


def target_met(raised_sats: int, target_sats: int) -> bool:
    return raised_sats >= target_sats if target_sats > 0 else raised_sats > 0


def is_released(release_time: int, now: int) -> bool:
    return release_time <= now


def project_status(
    *,
    now: int,
    start_time: int | None,
    end_time: int | None,
    expiry_time: int | None,
    target_sats: int,
    raised_sats: int,
    stage_release_times: Sequence[int],
) -> ProjectStatus:
    today = _day(now)
    if start_time is not None and today < _day(start_time):
        return "upcoming"
    end = window_end(end_time, expiry_time)
    if end is None or today < _day(end):
        return "funding"
    if not target_met(raised_sats, target_sats):
        return "failed"
    released = sum(is_released(t, now) for t in stage_release_times)
    if not stage_release_times or released == len(stage_release_times):
        return "completed"
    return "active" if released else "funded"


class FundingWindow(Protocol):
    """A project's window and target, as a ProjectInfo or a stored project row has them."""

    @property
    def start_time(self) -> int | None: ...
    @property
    def end_time(self) -> int | None: ...
    @property
    def expiry_time(self) -> int | None: ...
    @property
    def target_sats(self) -> int: ...


def status_of(
    project: FundingWindow,
    *,
    raised_sats: int,
    raised_source: RaisedSource | str | None,  # a RaisedSource, read back from a text column
    stage_release_times: Sequence[int],
    now: int,
) -> ProjectStatus:
    """:func:`project_status` of ``project``, its raised figure as read (a gross one is made net first)."""
    return project_status(
        now=now,
        start_time=project.start_time,
        end_time=project.end_time,
        expiry_time=project.expiry_time,
        target_sats=project.target_sats,
        raised_sats=status_raised(raised_sats, raised_source),
        stage_release_times=stage_release_times,
    )


def days_left(*, now: int, end_time: int | None, expiry_time: int | None) -> int | None:
    """Whole days (rounded up) until the funding window closes; ``None`` once closed or when it has no end."""
    end = window_end(end_time, expiry_time)
    if end is None or now >= end:
        return None
    return -(-(end - now) // DAY)
