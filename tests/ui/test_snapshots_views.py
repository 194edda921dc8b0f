"""Snapshots of the operator's views: campaigns, the payments feed, the Overview's problems (80×24 and 120×40).

Fixed data (data.fill_invoices + fill_campaigns), frozen clock, no blink or
animation. Each was looked at as a PNG before it was accepted.
"""

from __future__ import annotations

import data
import pytest
from conftest import pressing

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def views(filled):
    data.fill_campaigns()


@pytest.mark.parametrize("size", SIZES)
def test_campaigns(snap_compare, make_app, views, size):
    """Three crowdfunds: the node fund 56.2% settled with a pending ▒ part, an open-ended EUR garden, an ended one
    without a goal; under them the node fund's goal, settled, pending, dates and three perks, all without scrolling."""
    assert snap_compare(make_app(), terminal_size=size, run_before=pressing("6"))


@pytest.mark.parametrize("size", SIZES)
def test_campaign_rules(snap_compare, make_app, views, size):
    """i on the node fund: how each of its figures is counted, one sentence each after BTCPay's code, framed
    over the tab with its store in the title; esc Back in the footer."""
    assert snap_compare(make_app(), terminal_size=size, run_before=pressing("6", "i"))


@pytest.mark.parametrize("size", SIZES)
def test_payments(snap_compare, make_app, views, size):
    """The feed newest first: time (UTC), BTC, value in the invoice's currency, campaign or store, Lightning or
    on-chain, ✓ settled / ○ confirming; the info line says notify is on."""
    assert snap_compare(make_app(), terminal_size=size, run_before=pressing("7"))


@pytest.mark.parametrize("size", SIZES)
def test_overview_problems(snap_compare, make_app, views, size):
    """The Overview with its Problems first: the failing sync of shop, the rejected deliveries, the paid-late,
    part-paid, overpaid and marked invoices of the range, each a line that opens its list; the key figures under."""
    from data_extra import fill_deliveries

    fill_deliveries()
    assert snap_compare(make_app(), terminal_size=size, run_before=pressing())
