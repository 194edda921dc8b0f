"""Greenfield webhook management (contract §5.1), on top of the core client.

Store-scoped routes only: the store-less twins exist from v2.4.0 on. All of
these need ``btcpay.store.webhooks.canmodifywebhooks``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cftui.btcpay.client import GreenfieldClient
from cftui.btcpay.jsontypes import JsonObject, JsonValue
from cftui.errors import DataError


def _path(store_id: str, *parts: str) -> str:
    tail = "".join(f"/{quote(p, safe='')}" for p in parts)
    return f"/api/v1/stores/{quote(store_id, safe='')}/webhooks{tail}"


async def create_webhook(
    client: GreenfieldClient,
    store_id: str,
    url: str,
    *,
    events: list[str] | None = None,
    secret: str | None = None,
) -> JsonObject:
    """Create a webhook; the answer holds ``secret``, the only time BTCPay returns it.

    No ``events`` means every event (``authorizedEvents.everything``).
    """
    body: dict[str, Any] = {
        "enabled": True,
        "automaticRedelivery": True,
        "url": url,
        "authorizedEvents": {"everything": not events, "specificEvents": list(events or [])},
    }
    if secret:
        body["secret"] = secret
    created = await client._request("POST", _path(store_id), json=body, what="creating a webhook")
    if not isinstance(created, dict) or not created.get("id") or not created.get("secret"):
        raise DataError(f"BTCPay store '{client.store_name}' answered the webhook creation without an id or secret.")
    return created


def _objects(result: JsonValue) -> list[JsonObject]:
    """The objects of a JSON array; anything else in it, or an answer that is no array, is left out."""
    return [item for item in result if isinstance(item, dict)] if isinstance(result, list) else []


async def list_webhooks(client: GreenfieldClient, store_id: str) -> list[JsonObject]:
    return _objects(await client._request("GET", _path(store_id), what="listing webhooks"))


async def list_deliveries(
    client: GreenfieldClient, store_id: str, webhook_id: str, *, count: int | None = None
) -> list[JsonObject]:
    """BTCPay's own record of its deliveries, newest first (all of them unless ``count``)."""
    params = {"count": count} if count is not None else None
    result = await client._request(
        "GET", _path(store_id, webhook_id, "deliveries"), params=params, what="listing webhook deliveries"
    )
    return _objects(result)


async def delivery_request(client: GreenfieldClient, store_id: str, webhook_id: str, delivery_id: str) -> bytes:
    """The exact body bytes BTCPay POSTed for a delivery (409 once pruned after 60 days)."""
    response = await client._send(
        "GET",
        _path(store_id, webhook_id, "deliveries", delivery_id, "request"),
        params=None,
        json_body=None,
        what=f"reading the request of delivery {delivery_id}",
    )
    return response.content
