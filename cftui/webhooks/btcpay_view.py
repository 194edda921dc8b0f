"""BTCPay's own view of its deliveries beside ours.

``GET .../webhooks/{id}/deliveries`` says what BTCPay sent and what it got
back; joined with our recorded requests by delivery id, a delivery that
BTCPay marked failed and we never saw stands out (``missed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from cftui.btcpay.client import GreenfieldClient
from cftui.btcpay.webhooks_api import list_deliveries
from cftui.config import StoreConfig
from cftui.domain import Verdict
from cftui.errors import ConfigError
from cftui.store.webhook_models import WebhookDelivery


@dataclass(frozen=True, slots=True)
class DeliveryComparison:
    delivery_id: str
    btcpay_status: str  # HttpSuccess | HttpError | Failed
    http_code: int | None
    error_message: str | None
    timestamp: int | None  # when the event was created (unix s)
    delivery_time: int | None  # when BTCPay sent it (v2.3.4+)
    our_verdict: Verdict | None  # None: we have no record of it

    @property
    def missed(self) -> bool:
        return self.our_verdict is None

    @property
    def lag_s(self) -> int | None:
        """How long the delivery waited behind earlier ones (PR #7140)."""
        if self.timestamp is None or self.delivery_time is None:
            return None
        return self.delivery_time - self.timestamp


async def btcpay_deliveries(store: StoreConfig, *, count: int = 50) -> list[dict[str, Any]]:
    if not store.webhook_id:
        raise ConfigError(
            f"Store '{store.name}' has no webhook_id, so BTCPay's delivery list cannot be read.",
            hint="Run `cftui webhook register`, or set webhook_id under its [[btcpay]] table.",
        )
    async with GreenfieldClient.for_store(store) as client:
        return await list_deliveries(client, store.store_id, store.webhook_id, count=count)


def compare(store_name: str, deliveries: list[dict[str, Any]]) -> list[DeliveryComparison]:
    """Join BTCPay's deliveries (newest first) with our records of the same ids."""
    ids = [d["id"] for d in deliveries if isinstance(d, dict) and isinstance(d.get("id"), str)]
    ours: dict[str, Verdict] = {}
    if ids:
        query = WebhookDelivery.select(WebhookDelivery.delivery_id, WebhookDelivery.verdict).where(
            (WebhookDelivery.store_name == store_name) & WebhookDelivery.delivery_id.in_(ids)
        )
        # The stubs type .tuples() as the query itself; its rows are (delivery_id, verdict), both non-null here,
        # and the verdict column holds only what the receiver wrote, a Verdict.
        for delivery_id, verdict in cast("Iterable[tuple[str, Verdict]]", query.tuples()):
            ours.setdefault(delivery_id, verdict)
    return [
        DeliveryComparison(
            delivery_id=d["id"],
            btcpay_status=str(d.get("status") or "?"),
            http_code=_int(d.get("httpCode")),
            error_message=d.get("errorMessage") if isinstance(d.get("errorMessage"), str) else None,
            timestamp=_int(d.get("timestamp")),
            delivery_time=_int(d.get("deliveryTime")),
            our_verdict=ours.get(d["id"]),
        )
        for d in deliveries
        if isinstance(d, dict) and isinstance(d.get("id"), str)
    ]


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None
