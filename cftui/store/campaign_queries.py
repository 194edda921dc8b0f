"""The campaign view's rows: each crowdfund app toward its goal, and the perks it sold.

Settled, pending, contributions and the rules behind them come from the one
crowdfund query, :func:`cftui.store.crowdfund.crowdfund_progress` (BTCPay's
own rule); this module only orders the campaigns for the view and adds the
perks BTCPay counted (``top-items``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cftui import clock
from cftui.store.crowdfund import CrowdfundProgress, crowdfund_progress
from cftui.store.perks import PerkSold, perks_sold


@dataclass(frozen=True)
class CampaignDetail:
    campaign: CrowdfundProgress
    perks: list[PerkSold]


def campaigns(stores: tuple[int, ...] = (), *, include_archived: bool = False) -> list[CrowdfundProgress]:
    """Every crowdfund app: running ones first (by end date), then open-ended, then ended."""
    now = clock.now_s()
    shown = [c for c in crowdfund_progress(stores) if include_archived or not c.archived]
    return sorted(shown, key=lambda c: _order(c, now))


def _order(campaign: CrowdfundProgress, now: int) -> tuple[bool, bool, int, str, str]:
    ended = campaign.end_time is not None and campaign.end_time <= now
    end = campaign.end_time or 0
    return ended, campaign.end_time is None, end, campaign.title_or_name.lower(), campaign.app_id


def campaign_detail(campaign: CrowdfundProgress) -> CampaignDetail:
    return CampaignDetail(campaign, perks_sold(campaign.store_pk, campaign.app_id))
