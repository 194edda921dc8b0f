"""The campaign view's figures: each crowdfund app with settled and pending toward its goal.

Shape (app, currency, target, settled, pending, contributions, start, end):
the same as the typed crowdfund-progress query the BTCPay contract work adds
to ``kpi_queries``; until that is merged this is a thin function of its own,
and :func:`campaigns` is the one place to switch to it.

Figures follow the crowdfund page's rule (contract §4): an invoice counts
toward the goal in the app's target currency, Settled as raised, Processing
as pending. Sums are index-only (``app_id, store, status, currency,
amount_e8, btc_paid_sats``): an app with 10^5 invoices reads only its index
entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from peewee import fn

from cftui import clock
from cftui.store.models import CrowdfundApp, Invoice, Store
from cftui.store.perks import PerkSold, perks_sold

SETTLED = "Settled"
PROCESSING = "Processing"


@dataclass(frozen=True)
class Campaign:
    store_pk: int
    store_name: str
    app_id: str
    title: str
    currency: str | None  # the goal's currency (None: no goal set)
    target_e8: int | None
    settled_e8: int  # settled invoices in `currency`
    pending_e8: int  # processing invoices in `currency`
    contributions: int  # settled invoices, any currency
    pending_count: int  # processing invoices, any currency
    settled_sats: int  # BTC paid to settled invoices
    start_time: int | None
    end_time: int | None
    archived: bool
    enabled: bool

    def percent(self, *, with_pending: bool = False) -> Decimal | None:
        """Of the goal, to one decimal, exact; None without a goal."""
        if not self.target_e8:
            return None
        done = self.settled_e8 + (self.pending_e8 if with_pending else 0)
        return (Decimal(done) * 100 / Decimal(self.target_e8)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)

    def days_left(self, now: int) -> int | None:
        if self.end_time is None:
            return None
        return max(0, -(-(self.end_time - now) // 86_400))


@dataclass(frozen=True)
class CampaignDetail:
    campaign: Campaign
    perks: list[PerkSold]


def _sums(app: CrowdfundApp) -> dict[str, int]:
    rows = (
        Invoice.select(Invoice.status, Invoice.currency, fn.COUNT(Invoice.id), fn.SUM(Invoice.amount_e8),
                       fn.COALESCE(fn.SUM(Invoice.btc_paid_sats), 0))
        .where(Invoice.app_id == app.app_id, Invoice.store == app.store_id,
               Invoice.status.in_([SETTLED, PROCESSING]))
        .group_by(Invoice.status, Invoice.currency)
        .tuples()
    )  # fmt: skip
    out = dict.fromkeys(("settled_e8", "pending_e8", "contributions", "pending_count", "settled_sats"), 0)
    for status, currency, count, amount_e8, sats in rows:
        in_goal = currency == app.target_currency
        if status == SETTLED:
            out["contributions"] += count
            out["settled_sats"] += sats
            out["settled_e8"] += amount_e8 if in_goal else 0
        else:
            out["pending_count"] += count
            out["pending_e8"] += amount_e8 if in_goal else 0
    return out


def campaigns(stores: tuple[int, ...] = (), *, include_archived: bool = False) -> list[Campaign]:
    """Every crowdfund app: running ones first (by end date), then open-ended, then ended."""
    names = dict(Store.select(Store.id, Store.name).tuples())
    query = CrowdfundApp.select().where(CrowdfundApp.app_type == "Crowdfund")
    if stores:
        query = query.where(CrowdfundApp.store.in_(list(stores)))
    if not include_archived:
        query = query.where(CrowdfundApp.archived == False)  # noqa: E712
    result = [
        Campaign(
            store_pk=app.store_id, store_name=names.get(app.store_id, "?"), app_id=app.app_id,
            title=app.title or app.name, currency=app.target_currency, target_e8=app.target_e8,
            start_time=app.start_time, end_time=app.end_time, archived=bool(app.archived), enabled=bool(app.enabled),
            **_sums(app),
        )  # fmt: skip
        for app in query
    ]
    now = clock.now_s()
    return sorted(result, key=lambda c: _order(c, now))


def _order(campaign: Campaign, now: int) -> tuple:
    ended = campaign.end_time is not None and campaign.end_time <= now
    return (ended, campaign.end_time is None, campaign.end_time or 0, campaign.title.lower(), campaign.app_id)


def campaign_detail(campaign: Campaign) -> CampaignDetail:
    return CampaignDetail(campaign, perks_sold(campaign.store_pk, campaign.app_id))
