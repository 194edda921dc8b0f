"""A project's funding figures, from either source, in one shape.

* ``indexer``: the Angor indexer API. On the mempool fork "raised" is gross
  (fee output × 100); on blockcore-indexer it is the stage sum (net of the
  1 % fee). Stage amounts are the net figure split by the stage
  percentages as the app splits an investment (remainder in the last stage);
  per-stage founder spends are unknown, and so are refunds: the indexer counts
  every recovery-path spend as a penalty.
* ``esplora``: read from the chain; raised is the sum of the stage outputs
  (net of the fee), stage amounts and founder spends are exact per stage, and
  refunds (unfunded releases) are told apart from penalties by their output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN
from typing import Any

from cftui.angor import esplora, indexer
from cftui.angor.projectinfo import ProjectInfo
from cftui.angor.status import status_raised
from cftui.domain import RaisedSource


@dataclass
class Funding:
    source: RaisedSource | None  # None: no funding read
    raised_sats: int = 0
    investor_count: int = 0
    founder_spent_sats: int = 0
    penalties_sats: int = 0
    penalties_count: int = 0
    refunds_sats: int | None = None  # None: not read, or the source cannot tell refunds from penalties
    refunds_count: int | None = None
    stage_sats: list[int] = field(default_factory=list)
    stage_spent_sats: list[int] = field(default_factory=list)
    investments: list[dict[str, Any]] = field(default_factory=list)  # AngorInvestment columns


def split_by_percent(total: int, info: ProjectInfo) -> list[int]:
    """``total`` sats shared by the stage percentages, the remainder to the last, as the app splits an
    investment (``InvestmentTransactionBuilder``: ``Convert.ToInt64(total * (percent / 100))``, which
    rounds to the nearest whole sat and a half to the even one)."""
    if not info.stages:
        return []
    parts = [int((total * (s.percent / 100)).to_integral_value(ROUND_HALF_EVEN)) for s in info.stages[:-1]]
    return [*parts, total - sum(parts)]


def from_indexer(
    stats: indexer.IndexerStats | None, investments: list[indexer.IndexedInvestment], info: ProjectInfo
) -> Funding:
    raised = stats.amount_invested_sats if stats else sum(i.amount_sats for i in investments)
    # [M] counts investment txs, not investors: count distinct keys when the list is there.
    investors = len({i.investor_key for i in investments}) if investments else (stats.investor_count if stats else 0)
    return Funding(
        source=indexer.RAISED_SOURCE,
        raised_sats=raised,
        investor_count=investors,
        founder_spent_sats=stats.founder_spent_sats if stats else 0,
        penalties_sats=stats.penalties_sats if stats else 0,
        penalties_count=stats.penalties_count if stats else 0,
        refunds_sats=None,  # counted among the penalties: the indexer does not look at a recovery's outputs
        refunds_count=None,
        # The stage outputs hold the net: a gross figure less the 1% fee (cftui.angor.status).
        stage_sats=split_by_percent(status_raised(raised, indexer.RAISED_SOURCE), info),
        stage_spent_sats=[0] * len(info.stages),
        investments=[
            {"investor_key": i.investor_key, "txid": i.txid, "amount_sats": i.amount_sats, "is_seeder": i.is_seeder,
             "block_height": None, "time": None, "schedule_start": None, "pattern_id": None, "stage_count": None,
             # The indexer does not say which investment a recovery came from.
             "recovered_sats": None, "refunded_sats": None, "penalty_sats": None}
            for i in investments
        ],
    )


def from_esplora(chain: esplora.OnchainProject, info: ProjectInfo) -> Funding:
    return Funding(
        source=esplora.RAISED_SOURCE,
        raised_sats=chain.raised_sats,
        investor_count=chain.investor_count,
        founder_spent_sats=chain.founder_spent_sats,
        penalties_sats=chain.penalties_sats,
        penalties_count=chain.penalties_count,
        refunds_sats=chain.refunds_sats,
        refunds_count=chain.refunds_count,
        stage_sats=[chain.stage_sats(i) for i in range(len(info.stages))],
        stage_spent_sats=[chain.stage_spent_sats.get(i, 0) for i in range(len(info.stages))],
        investments=[
            {
                "investor_key": i.investor_key,
                "txid": i.txid,
                "amount_sats": i.amount_sats,
                "is_seeder": i.is_seeder,
                "block_height": i.block_height,
                "time": i.time,
                "schedule_start": i.dynamic.start_time if i.dynamic else None,
                "pattern_id": i.dynamic.pattern_id if i.dynamic else None,
                "stage_count": i.dynamic.stage_count if i.dynamic else None,
                "recovered_sats": i.recovered_sats,
                "refunded_sats": i.refunded_sats,
                "penalty_sats": i.penalty_sats,
            }
            for i in chain.investments
        ],
    )
