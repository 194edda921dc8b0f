"""Shared setup for the webhook tests: a store, a config and a running receiver."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cftui.config import Config, Secret, StoreConfig, SyncConfig, WebhooksConfig
from cftui.webhooks import signing
from cftui.webhooks.sample import sample_delivery

STORE_ID = "9CiNzKoANXxmk5ayZngSXrHTiVvvgCrwrpFQd4m2K776"
SECRET = "3U9yDVf8QyxPZm3mqa8rQz"  # Base58 of 16 bytes, like a BTCPay-generated secret
# Upstream BTCPay files copied into the repository (tests/data/btcpay/SOURCE.txt names their commit and licence).
CONTRACTS = Path(__file__).resolve().parent / "data" / "btcpay"


def store_config(*, name: str = "main", url: str = "http://127.0.0.1:9", store_id: str = STORE_ID,
                 secret: str | None = SECRET, api_key: str = "test-key") -> StoreConfig:
    return StoreConfig(
        name=name,
        url=url,
        store_id=store_id,
        api_key=Secret(api_key),
        webhook_secret=Secret(secret) if secret else None,
        timeout=5,
    )


def make_config(*stores: StoreConfig, **webhooks) -> Config:
    settings = dataclasses.replace(WebhooksConfig(port=0, read_timeout=1), **webhooks)
    return Config(
        btcpay=stores or (store_config(),),
        webhooks=settings,
        sync=SyncConfig(retry_budget=1),
    )


def signed(event_type: str = "InvoiceSettled", *, invoice_id: str = "INV1", store_id: str = STORE_ID,
           secret: str = SECRET, timestamp: int = 1_760_000_000) -> tuple[bytes, str]:
    body = sample_delivery(event_type, store_id=store_id, webhook_id="WH1", timestamp=timestamp, invoice_id=invoice_id)
    return body, signing.sign(secret, body)


def write_receiver_config(path: Path, port: int, *, webhooks: str = "") -> Path:
    """A config file for a receiver subprocess (`listen`, `daemon`) of store `main`, whose API is down (port 9).

    Owner-only, as `cftui config init` writes it: it holds secrets, and a shared one is warned about on stderr."""
    path.write_text(
        f'[[btcpay]]\nname = "main"\nurl = "http://127.0.0.1:9"\nstore_id = "{STORE_ID}"\napi_key = "k"\n'
        f'webhook_secret = "{SECRET}"\n\n[sync]\nretry_budget = 1\n\n[webhooks]\nport = {port}\n{webhooks}'
    )
    path.chmod(0o600)
    return path
