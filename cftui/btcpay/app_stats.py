"""Reading BTCPay's app statistics: what each crowdfund perk sold (``top-items``).

``GET /api/v1/apps/{appId}/top-items`` answers ``[{itemCode, title,
salesCount, total, totalFormatted}]`` (contract §4), best seller first; the
total is a decimal string in the app's currency. An item that does not fit is
skipped (and counted by the caller), the rest kept.
"""

from __future__ import annotations

from typing import Any

from cftui.money import AmountError, parse_decimal, to_e8
from cftui.store.records import PerkRecord


def parse_top_items(items: list[Any]) -> tuple[list[PerkRecord], int]:
    """The perks that fit, and how many items were skipped."""
    perks: list[PerkRecord] = []
    skipped = 0
    for rank, item in enumerate(items):
        perk = _perk(item, rank)
        if perk is None:
            skipped += 1
        else:
            perks.append(perk)
    return perks, skipped


def _perk(item: Any, rank: int) -> PerkRecord | None:
    if type(item) is not dict:
        return None
    code, count, title = item.get("itemCode"), item.get("salesCount"), item.get("title")
    if type(code) is not str or type(count) is not int or count < 0:
        return None
    try:
        total = parse_decimal(item.get("total"), field="total")
        total_e8 = to_e8(total, field="total")
    except AmountError:
        return None
    return PerkRecord(code, title if type(title) is str else None, count, str(item.get("total")), total_e8, rank)
