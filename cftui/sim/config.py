"""What a simulated BTCPay server holds: stores, crowdfund apps, API keys.

Everything is derived from a seed, so two simulators built from equal configs
serve the same bytes. :func:`default_config` builds the demo/benchmark setup.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cftui import clock

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
DAY = 86_400


def digest(*parts: object, size: int = 32) -> bytes:
    """A stable hash of ``parts`` (Python's own ``hash`` is salted per process)."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.blake2b(text.encode(), digest_size=size).digest()


def base58_like(raw: bytes, length: int) -> str:
    """``length`` Base58 characters drawn from ``raw`` (ids look like BTCPay's)."""
    value = int.from_bytes(raw, "big")
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 58)
        chars.append(BASE58_ALPHABET[rem])
    return "".join(chars)


def derived_store_id(seed: int, name: str) -> str:
    return base58_like(digest("store", seed, name, size=40), 44)


def derived_app_id(seed: int, store_id: str, number: int) -> str:
    return base58_like(digest("app", seed, store_id, number, size=32), 28)


@dataclass(frozen=True)
class SimPerk:
    id: str
    title: str
    price: str | None  # decimal text, None for a Topup perk
    price_type: str = "Fixed"  # Fixed | Topup | Minimum
    description: str | None = None
    inventory: int | None = None
    disabled: bool = False


@dataclass(frozen=True)
class SimCrowdfund:
    app_id: str
    title: str
    target_currency: str = "USD"
    target_amount: Decimal | None = Decimal("50000")
    created: int = 0
    start_date: int | None = None
    end_date: int | None = None
    archived: bool = False
    perks: tuple[SimPerk, ...] = ()
    # Greenfield shows these (CrowdfundAppData)...
    reset_every: str = "Never"  # Never | Hour | Day | Month | Year
    reset_every_amount: int = 1
    enforce_target: bool = False
    # ... but not this one (AppData.TagAllInvoices): the goal counts every invoice of the store.
    tag_all_invoices: bool = False


@dataclass(frozen=True)
class SimStore:
    """One store: its generated invoices are a pure function of (seed, store_id, index)."""

    name: str
    store_id: str
    invoice_count: int = 1000
    currencies: tuple[str, ...] = ("USD", "EUR", "JPY", "BTC")
    span_days: int = 400
    crowdfunds: tuple[SimCrowdfund, ...] = ()
    default_currency: str = "USD"


@dataclass(frozen=True)
class SimApiKey:
    key: str
    permissions: tuple[str, ...]
    label: str = "cftui"


@dataclass(frozen=True)
class LiveConfig:
    """Live mode: new invoices every ``interval`` seconds, lifecycles on a compressed clock."""

    interval: float = 3.0
    # Seconds of the compressed lifecycle clock per real second.
    speedup: int = 60


@dataclass(frozen=True)
class SimConfig:
    stores: tuple[SimStore, ...]
    api_keys: tuple[SimApiKey, ...]
    seed: int = 1
    # Generated invoices are created in the ``span_days`` before ``now``.
    now: int = field(default_factory=clock.now_s)
    version: str = "2.4.1"
    live: LiveConfig | None = None
    # The URL written into checkoutLink/orderUrl; None: the address the server bound.
    public_url: str | None = None

    def store(self, store_id: str) -> SimStore | None:
        for store in self.stores:
            if store.store_id == store_id:
                return store
        return None


FULL_PERMISSIONS = ("btcpay.store.canmodifystoresettings", "btcpay.store.webhooks.canmodifywebhooks")
STORE_NAMES = ("Main shop", "Hackerspace fund", "Conference", "Art collective", "Podcast", "Relay ops")


def demo_crowdfunds(seed: int, store_id: str, now: int, count: int) -> tuple[SimCrowdfund, ...]:
    """``count`` crowdfund apps with perks of every price type, and each goal setting BTCPay has.

    The first three (the default) are a plain goal, one that resets every month, and one with an
    enforced target that counts every invoice of the store.
    """
    campaigns: tuple[tuple[str, str, Decimal | None, dict[str, Any]], ...] = (
        ("Open source node", "USD", Decimal("150000"), {}),
        ("Community garden", "EUR", Decimal("1500"), {"reset_every": "Month"}),
        ("Lightning lab", "BTC", Decimal("5"), {"enforce_target": True, "tag_all_invoices": True}),
        ("Tokyo meetup", "JPY", Decimal("6000000"), {"reset_every": "Day", "reset_every_amount": 7}),
        ("No-target fund", "USD", None, {}),
    )
    apps = []
    for number in range(count):
        title, currency, target, goal = campaigns[number % len(campaigns)]
        places = {"JPY": 0, "BTC": 8}.get(currency, 2)
        unit = Decimal(1).scaleb(-places)
        base = {"JPY": Decimal(3000), "BTC": Decimal("0.0005")}.get(currency, Decimal(25))
        perks = (
            SimPerk("supporter", "Supporter", str(base.quantize(unit)), "Fixed", "A thank-you note"),
            SimPerk("sponsor", "Sponsor", str((base * 8).quantize(unit)), "Minimum", "Logo on the site", inventory=50),
            SimPerk("any-amount", "Any amount", None, "Topup", None),
        )
        apps.append(
            SimCrowdfund(
                app_id=derived_app_id(seed, store_id, number),
                title=title,
                target_currency=currency,
                target_amount=target,
                created=now - 420 * DAY + number * 7 * DAY,
                # The no-target fund also has no start date (a field Greenfield leaves null).
                start_date=None if target is None else now - 410 * DAY + number * 7 * DAY,
                end_date=None if number % 2 else now + 60 * DAY,
                archived=number == 4,
                perks=perks,
                **goal,
            )
        )
    return tuple(apps)


def default_config(
    *,
    invoices: int = 1000,
    stores: int = 1,
    seed: int = 1,
    now: int | None = None,
    version: str = "2.4.1",
    live: LiveConfig | None = None,
    crowdfunds_per_store: int = 3,
) -> SimConfig:
    """Stores of ``invoices`` invoices each and one API key with full rights on all of them."""
    at = clock.now_s() if now is None else now
    sim_stores = []
    for number in range(stores):
        name = STORE_NAMES[number % len(STORE_NAMES)] + ("" if number < len(STORE_NAMES) else f" {number}")
        store_id = derived_store_id(seed, name)
        sim_stores.append(
            SimStore(
                name=name,
                store_id=store_id,
                invoice_count=invoices,
                crowdfunds=demo_crowdfunds(seed, store_id, at, crowdfunds_per_store),
            )
        )
    key = SimApiKey(key=digest("key", seed, size=20).hex(), permissions=FULL_PERMISSIONS, label="cftui demo")
    return SimConfig(stores=tuple(sim_stores), api_keys=(key,), seed=seed, now=at, version=version, live=live)
