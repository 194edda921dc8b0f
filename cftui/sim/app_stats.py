"""``GET /api/v1/apps/{appId}/top-items``: what each crowdfund perk sold (contract §4).

BTCPay counts an app's Processing and Settled invoices by their ``itemCode``
and sums their price; the answer is ``[{itemCode, title, salesCount, total,
totalFormatted}]``, best seller first, ``offset``/``count`` paged (the code's
default count is 10). Like every app statistic it needs
``canmodifystoresettings`` on the app's store.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from cftui.sim.auth import CAN_MODIFY_STORE
from cftui.sim.config import SimCrowdfund
from cftui.sim.jsontypes import JsonObject
from cftui.sim.query import InvoiceQuery, select
from cftui.sim.state import StoreState

if TYPE_CHECKING:
    from cftui.sim.server import Simulator

PAID = frozenset({"Processing", "Settled"})
DEFAULT_COUNT = 10


def top_items(store: StoreState, app: SimCrowdfund) -> list[JsonObject]:
    """Every perk sold through ``app``, best seller first (ties by total, then code)."""
    counts: dict[str, int] = defaultdict(int)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    query = InvoiceQuery(text=f"crowdfund-app_{app.app_id}", include_archived=True)
    for invoice in select(store, query):
        code = invoice.metadata.get("itemCode")
        if invoice.status in PAID and isinstance(code, str):
            counts[code] += 1
            totals[code] += Decimal(invoice.amount)
    titles = {perk.id: perk.title for perk in app.perks}
    ranked = sorted(counts, key=lambda code: (-counts[code], -totals[code], code))
    return [
        {
            "itemCode": code,
            "title": titles.get(code, code),
            "salesCount": counts[code],
            "total": str(totals[code]),
            "totalFormatted": f"{totals[code]:,} {app.target_currency}",
        }
        for code in ranked
    ]


def _page_param(request: web.Request, name: str, default: int) -> int:
    try:
        return max(0, int(request.query.get(name, default)))
    except ValueError:
        return default


def add_routes(sim: Simulator) -> None:
    async def handler(request: web.Request) -> web.Response:
        from cftui.sim.server import json_response, not_found

        app_id = request.match_info["appId"]
        for store_state in sim.state.stores.values():
            app = store_state.gen.app(app_id)
            if app is not None:
                sim.require(request, CAN_MODIFY_STORE, store_state.store.store_id)
                offset = _page_param(request, "offset", 0)
                count = _page_param(request, "count", DEFAULT_COUNT)
                return json_response(top_items(store_state, app)[offset : offset + count])
        sim.authenticate(request)
        raise not_found("app-not-found", "The app was not found")

    sim.app.router.add_get("/api/v1/apps/{appId}/top-items", handler)
