"""A project's funding figures from the indexer: the stage split and what the indexer cannot tell."""

from __future__ import annotations

import json
from decimal import Decimal

from cftui.angor import funding, indexer, projectinfo

INFO = {
    "founderKey": "02070d174561688500aac733116dbe70c5ab7480559d25e1c040f480491870c8ba",
    "projectIdentifier": "angor1quc59k4kt0nv62xhj72xtqfmzk55cexxmf6pkz7",
    "nostrPubKey": "ab" * 32,
    "networkName": "Angornet",
    "stages": [],
}


def info_with(percents: list[str]) -> projectinfo.ProjectInfo:
    stages = [{"amountToRelease": Decimal(p), "releaseDate": 1_800_000_000 + n} for n, p in enumerate(percents)]
    return projectinfo.parse(json.dumps({**INFO, "stages": stages}, default=float), network="Angornet")


def test_each_stage_but_the_last_rounds_to_nearest_as_convert_toint64_does():
    # InvestmentTransactionBuilder.cs: Convert.ToInt64(total * (percent / 100)), the last stage the remainder.
    assert funding.split_by_percent(1000, info_with(["66.67", "33.33"])) == [667, 333]  # 666.7 -> 667 (not floor)
    # Convert.ToInt64(decimal) rounds a half to the even neighbour.
    assert funding.split_by_percent(1001, info_with(["50", "50"])) == [500, 501]  # 500.5 -> 500
    assert funding.split_by_percent(1003, info_with(["50", "50"])) == [502, 501]  # 501.5 -> 502
    assert funding.split_by_percent(999, info_with(["25", "25", "50"])) == [250, 250, 499]  # 249.75 -> 250
    assert funding.split_by_percent(5, info_with([])) == []


def test_the_indexer_cannot_tell_refunds_from_penalties():
    stats = indexer.IndexerStats(investor_count=2, amount_invested_sats=2_000_000, founder_spent_sats=0,
                                 penalties_sats=990_000, penalties_count=1)
    money = funding.from_indexer(stats, [], info_with(["100"]))
    assert (money.penalties_sats, money.penalties_count) == (990_000, 1)
    assert money.refunds_sats is None and money.refunds_count is None


def test_the_indexers_stages_hold_the_net_amount_not_the_gross_with_the_fee():
    # The mempool indexer's "raised" is gross (fee output × 100); the stage outputs hold 99% of it. A stage
    # split of the gross would leave 1% "claimable" after the founder took every stage.
    stats = indexer.IndexerStats(investor_count=3, amount_invested_sats=3_003_300, founder_spent_sats=2_973_267,
                                 penalties_sats=0, penalties_count=0)
    money = funding.from_indexer(stats, [], info_with(["50", "50"]))
    assert money.raised_sats == 3_003_300  # the figure itself stays the indexer's (its source says gross)
    assert sum(money.stage_sats) == 2_973_267 == money.founder_spent_sats
