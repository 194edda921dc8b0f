"""The status rule (app rule, CONTRACT.md §4.4) and days left."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cftui.angor.status import days_left, project_status, status_of, status_raised

DAY = 86_400
NOW = 1_800_000_000 - 1_800_000_000 % DAY + 12 * 3600  # noon UTC


def status(start, end, stages, raised, target=1000, expiry=None):
    return project_status(
        now=NOW,
        start_time=NOW + start * DAY if start is not None else None,
        end_time=NOW + end * DAY if end is not None else None,
        expiry_time=NOW + expiry * DAY if expiry is not None else None,
        target_sats=target,
        raised_sats=raised,
        stage_release_times=[NOW + d * DAY for d in stages],
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((5, 30, (40,), 0), "upcoming"),
        ((-5, 30, (40,), 500), "funding"),
        ((-5, 30, (40,), 5000), "funding"),  # target met early: the window stays open
        ((-50, -5, (10, 40), 1000), "funded"),
        ((-50, -5, (10, 40), 999), "failed"),
        ((-90, -40, (-20, 20), 2000), "active"),
        ((-200, -150, (-100, -50), 2000), "completed"),
    ],
)
def test_invest_projects(args, expected):
    assert status(*args) == expected


def test_days_are_compared_by_utc_date():
    # Starts later today: the app already counts it as started.
    assert status(0.25, 30, (40,), 0) == "funding"


def test_fund_project_without_end_runs_until_expiry():
    assert status(-5, None, (), 0, target=0, expiry=170) == "funding"
    assert status(-200, None, (), 10, target=0, expiry=-10) == "completed"
    assert status(-200, None, (), 0, target=0, expiry=-10) == "failed"


def test_days_left_rounds_up_and_stops_at_the_end():
    assert days_left(now=NOW, end_time=NOW + DAY + 1, expiry_time=None) == 2
    assert days_left(now=NOW, end_time=NOW - 1, expiry_time=None) is None
    assert days_left(now=NOW, end_time=None, expiry_time=NOW + 3 * DAY) == 3
    assert days_left(now=NOW, end_time=None, expiry_time=None) is None


def test_the_target_is_compared_with_the_net_amount_as_the_app_does():
    # The mempool-fork indexer reports gross (each investment's 1 % fee output × 100); the app compares the sum
    # of the stage outputs, i.e. gross less the fee. 1,010,000 gross holds 999,900 net: short of 1,000,000.
    assert status_raised(1_010_000, "indexer") == 999_900
    assert status_raised(1_010_000, "esplora") == 1_010_000  # read from the chain: already net
    assert status_raised(1_010_000, None) == 1_010_000
    assert status(-50, -5, (10, 40), status_raised(1_010_000, "indexer"), target=1_000_000) == "failed"
    assert status(-50, -5, (10, 40), status_raised(1_010_200, "indexer"), target=1_000_000) == "funded"


def test_status_of_a_project_reads_its_window_and_nets_a_gross_figure():
    """The one call the sync (a ProjectInfo) and the status refresh (a stored row) both make."""
    project = SimpleNamespace(
        start_time=NOW - 50 * DAY, end_time=NOW - 5 * DAY, expiry_time=None, target_sats=1_000_000
    )
    stages = [NOW + 10 * DAY, NOW + 40 * DAY]

    def status_at(raised, source):
        return status_of(project, raised_sats=raised, raised_source=source, stage_release_times=stages, now=NOW)

    assert status_at(1_010_000, "indexer") == "failed"  # gross: 999,900 net
    assert status_at(1_010_000, "esplora") == "funded"
    assert status_at(1_010_200, "indexer") == "funded"
