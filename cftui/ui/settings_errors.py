"""A config error in the words of the Settings form (review M4).

The config checks speak of the file: ``/path/config.toml: 'btcpay[0].url' must
be an http(s) URL, not 'localhost:9'.`` The form speaks of fields: "Store
main-shop, URL: must be an http(s) URL, not 'localhost:9'." This module finds
the key in the message, the form field that holds it (to mark it and scroll to
it) and the store it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Config key (after btcpay[i]. for a store) -> (form field id, label).
STORE_FIELDS = {
    "name": ("store-name", "Name"),
    "url": ("store-url", "URL"),
    "store_id": ("store-id", "Store id"),
    "api_key": ("store-key", "API key"),
    "webhook_secret": ("store-secret", "Webhook secret"),
    "timeout": ("store-timeout", "Timeout (s)"),
    "verify_tls": ("store-tls", "Verify TLS"),
}
FIELDS = {
    "webhooks.enabled": ("hooks-enabled", "Webhook listener, Enabled"),
    "webhooks.host": ("hooks-host", "Webhook listener, Host"),
    "webhooks.port": ("hooks-port", "Webhook listener, Port"),
    "sync.interval": ("sync-interval", "Sync, Interval (s)"),
    "angor.enabled": ("angor-enabled", "Angor, Enabled"),
    "angor.network": ("angor-network", "Angor, Network"),
    "angor.relays": ("angor-relays", "Angor, Relays"),
    "angor.indexer_url": ("angor-indexer", "Angor, Indexer URL"),
    "angor.esplora_url": ("angor-esplora", "Angor, Esplora URL"),
    "ui.theme": ("ui-theme", "Appearance, Theme"),
    "ui.chart": ("ui-chart", "Appearance, Chart"),
}
_KEY = re.compile(r"'((?:btcpay\[(\d+)\]\.)?([a-z_]+(?:\.[a-z_]+)?))'")


@dataclass(frozen=True)
class FieldError:
    text: str  # one sentence, in the form's words
    field_id: str | None  # the form field to mark, None when the error is about no one field
    store_index: int | None  # the store whose field it is


def field_error(message: str, store_names: list[str]) -> FieldError:
    """Read a ConfigError message; never loses its reason, only the file-speak."""
    # Drop the "<file>: " prefix: the form is the file here.
    text = message.split(": ", 1)[1] if re.match(r"^(/|\(|[A-Za-z]:\\\\)", message) and ": " in message else message
    known = (m for m in _KEY.finditer(text) if m.group(2) is not None or m.group(1) in FIELDS)
    found = next(known, None)
    if found is None:
        return FieldError(text, None, None)
    full, index, key = found.group(1), found.group(2), found.group(3)
    reason = (text[: found.start()] + text[found.end():]).strip(" :") or "is not valid"
    if index is not None:
        field_id, label = STORE_FIELDS.get(key, (None, key))
        i = int(index)
        store = store_names[i] if i < len(store_names) and store_names[i] else f"#{i + 1}"
        return FieldError(f"Store {store}, {label}: {reason}", field_id, i)
    field_id, label = FIELDS.get(full, (None, full))
    return FieldError(f"{label}: {reason}", field_id, None)
