"""Crowdfund perks sold, as BTCPay reports them (``top-items``), kept per app.

Written by the sync after each app's details; read by the campaign view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cftui import clock
from cftui.store import sql
from cftui.store.models import CrowdfundPerk, Store, database
from cftui.store.records import PerkRecord
from cftui.store.writer import lock_store


@dataclass(frozen=True)
class PerkSold:
    item_code: str
    title: str
    sales_count: int
    total_e8: int  # in the app's target currency


def replace_perks(store: Store, app_id: str, perks: Iterable[PerkRecord], *, synced_time: int | None = None) -> None:
    """BTCPay's current answer for one app replaces what was stored (a perk no longer sold goes)."""
    at = clock.now_s() if synced_time is None else synced_time
    rows = [
        {"store": store.id, "app_id": app_id, "item_code": p.item_code, "title": p.title, "sales_count": p.sales_count,
         "total": p.total, "total_e8": p.total_e8, "rank": p.rank, "synced_time": at}
        for p in perks
    ]  # fmt: skip
    with database.atomic():
        # Two daemons syncing one store on PostgreSQL would otherwise both delete, then both insert (duplicate key).
        lock_store(store.id)
        CrowdfundPerk.delete().where((CrowdfundPerk.store == store.id) & (CrowdfundPerk.app_id == app_id)).execute()
        if rows:
            CrowdfundPerk.insert_many(rows).execute()


def perks_sold(store_pk: int, app_id: str) -> list[PerkSold]:
    """The app's perks, best seller first (BTCPay's order)."""
    query = (
        CrowdfundPerk.select(CrowdfundPerk.item_code, CrowdfundPerk.title, CrowdfundPerk.sales_count,
                             CrowdfundPerk.total_e8)
        .where((CrowdfundPerk.store == store_pk) & (CrowdfundPerk.app_id == app_id))
        .order_by(CrowdfundPerk.rank)
    )  # fmt: skip
    return [PerkSold(code, title or code, count, total) for code, title, count, total in sql.tuples(query)]
