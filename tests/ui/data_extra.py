"""Fixed Angor and webhook data for the UI tests: every project status and every delivery verdict.

Everything is relative to :data:`NOW` so the tests freeze the clock there and
the screens come out the same on every run.
"""

from __future__ import annotations

import json

from data import NOW  # the frozen clock of every UI test (tests/ui/conftest.py)

from cftui.config import Config, from_dict
from cftui.store.angor_models import AngorInvestment, AngorProfile, AngorProject, AngorStage
from cftui.store.models import database
from cftui.store.webhook_models import (
    BAD_SIGNATURE,
    DUPLICATE,
    MALFORMED,
    RATE_LIMITED,
    TOO_LARGE,
    UNKNOWN_STORE,
    VERIFIED,
    WebhookDelivery,
)

DAY = 86_400
BTC = 100_000_000
API_KEY = "k3yZ9qWvT4sLmN8pXrB2cD7fGhJ5aE1u"  # a realistic 32-char key: must never appear on screen


def sample_config(**sections) -> Config:
    """Two stores (one key in the file, one from an env var) plus any other sections given."""
    stores = [
        {
            "name": "main",
            "url": "https://btcpay.example.com",
            "store_id": "9CiNzKoANXxmk5ayZngSXrHTiVvvgCrwrpFQd4m2K776",
            "api_key": API_KEY,
        },
        {"name": "shop", "url": "https://shop.example.org", "store_id": "Fq2yTzW1", "api_key_env": "SHOP_KEY"},
    ]
    return from_dict({"btcpay": stores, **sections})


# (name, status, target sats, raised sats, investors, start offset days, end offset days, verified, flags)
PROJECTS = [
    ("Solar Cooperative", "upcoming", 2 * BTC, 0, 0, 5, 40, True, ""),
    ("Open Seed Library", "funding", 1 * BTC, 37_500_000, 4, -10, 20, True, ""),
    ("Lightning Library", "funded", 50_000_000, 61_000_000, 6, -60, -5, True, ""),
    ("Mesh Radio Network", "failed", 3 * BTC, 40_000_000, 3, -90, -30, True, ""),
    ("Bitcoin School Accra", "active", 80_000_000, 95_000_000, 7, -120, -80, True, ""),
    ("Node Box Kit", "completed", 20_000_000, 20_000_000, 2, -400, -370, True, ""),
    (None, "funding", 10_000_000, 1_000_000, 1, -3, 10, False, "bad_signature,id_mismatch"),
]


def project_id(index: int) -> str:
    return f"angor1qproject{index:02d}xyzxyzxyzxyzxyzxyzxyz"


def fill_angor() -> list[str]:
    """Seven projects (every status, one unverified with flags); returns their ids in insertion order."""
    ids = []
    with database.atomic():
        for i, (name, status, target, raised, investors, start_d, end_d, verified, flags) in enumerate(PROJECTS):
            pid = project_id(i)
            ids.append(pid)
            pubkey = f"{i:02d}" + "ab" * 31
            start, end = NOW + start_d * DAY, NOW + end_d * DAY
            AngorProject.create(
                project_id=pid,
                network="Main",
                name=name,
                founder_key="02" + f"{i:02d}" * 32,
                nostr_pubkey=pubkey,
                event_id=f"{i:02d}" + "ee" * 31,
                event_pubkey=pubkey,
                event_kind=3030,
                event_created=start - 10 * DAY,
                creation_txid=f"{i:02d}" + "c0" * 31,
                target_sats=target,
                start_time=start,
                end_time=end,
                expiry_time=end + 180 * DAY,
                penalty_days=90,
                penalty_threshold_sats=10_000_000 if i == 1 else None,
                raised_sats=raised,
                raised_source="indexer" if i % 2 == 0 else "esplora",
                investor_count=investors,
                founder_spent_sats=raised // 3 if status in ("active", "completed") else 0,
                penalties_count=1 if status == "active" else 0,
                penalties_sats=2_500_000 if status == "active" else 0,
                # The indexer cannot tell refunds from penalties; on the chain the failed project has two.
                refunds_count=None if i % 2 == 0 else (2 if status == "failed" else 0),
                refunds_sats=None if i % 2 == 0 else (raised // 2 if status == "failed" else 0),
                status=status,
                verified=verified,
                flags=flags,
                content=json.dumps({"targetAmount": target, "startDate": start}),
                stats_time=NOW - 120,
                synced_time=NOW - 120,
            )
            for s, pct in enumerate(("25", "25", "50")):
                release = end + (s + 1) * 30 * DAY
                AngorStage.create(
                    project=pid,
                    index=s,
                    release_time=release,
                    percent=pct,
                    amount_sats=raised * int(pct) // 100,
                    released=release <= NOW,
                    spent_sats=raised * int(pct) // 100 if status == "completed" else 0,
                )
            for n in range(investors):
                AngorInvestment.create(
                    project=pid,
                    investor_key="03" + f"{i:02d}{n:02d}" * 16,
                    txid=f"{i:02d}{n:02d}" + "f1" * 30,
                    amount_sats=raised // investors,
                    is_seeder=n == 0,
                    block_height=900_000 + i * 100 + n,
                    time=start + (n + 1) * 3600,
                )
            if name:
                slug = name.lower().replace(" ", "")
                AngorProfile.create(
                    pubkey=pubkey,
                    name=name,
                    display_name=name,
                    about=f"{name}: a community project funded on Angor.",
                    website=f"https://{slug}.example.org",
                    nip05=f"team@{slug}.example.org",
                    lud16=f"tips@{slug}.example.org",
                    description=f"{name} builds things for its neighbourhood. Funds are released in three stages.",
                    event_created=start - 9 * DAY,
                )
    return ids


# (seconds before NOW, verdict, event type, store, invoice id, redelivery)
DELIVERIES = [
    (3600, VERIFIED, "InvoiceCreated", "main", "Inv7tLcZZrKHAvxGYZcKY01", False),
    (3000, VERIFIED, "InvoiceReceivedPayment", "main", "Inv7tLcZZrKHAvxGYZcKY01", False),
    (2400, BAD_SIGNATURE, "InvoiceSettled", "main", "Inv7tLcZZrKHAvxGYZcKY02", False),
    (1800, VERIFIED, "InvoiceSettled", "main", "Inv7tLcZZrKHAvxGYZcKY01", False),
    (1500, DUPLICATE, "InvoiceSettled", "main", "Inv7tLcZZrKHAvxGYZcKY01", True),
    (1200, MALFORMED, None, "main", None, False),
    (900, UNKNOWN_STORE, None, None, None, False),
    (600, TOO_LARGE, None, "shop", None, False),
    (300, RATE_LIMITED, None, None, None, False),
    (120, VERIFIED, "InvoiceExpired", "shop", "Inv9QmWxYz3kLpRtUvAb03", False),
    (60, VERIFIED, "InvoiceProcessing", "shop", "Inv9QmWxYz3kLpRtUvAb04", False),
]

REASONS = {
    BAD_SIGNATURE: "BTCPay-Sig does not match the store's webhook secret",
    MALFORMED: "body is not JSON",
    UNKNOWN_STORE: "no store named 'nosuch'",
    TOO_LARGE: "body of 2000000 bytes is over max_body_bytes (1048576)",
    RATE_LIMITED: "more than 60 rejected requests a minute from 10.0.0.9",
    DUPLICATE: "originalDeliveryId already processed",
}


def delivery_body(index: int, event_type: str | None, invoice_id: str | None, redelivery: bool) -> bytes:
    if event_type is None:
        return b"this is not json"
    envelope = {
        "deliveryId": f"Dlv{index:04d}abcdefghijkmn",
        "webhookId": "Whk1abcdefghijkmnopq",
        "originalDeliveryId": f"Dlv{(index - 1 if redelivery else index):04d}abcdefghijkmn",
        "isRedelivery": redelivery,
        "type": event_type,
        "timestamp": NOW - 3600,
        "storeId": "9CiNzKoANXxmk5ayZngSXrHTiVvvgCrwrpFQd4m2K776",
        "invoiceId": invoice_id,
        "metadata": {"orderId": f"order-{index}"},
    }
    return json.dumps(envelope, indent=2).encode()


def fill_deliveries() -> list[int]:
    """Eleven deliveries: every verdict, several event types, a redelivery; returns their ids oldest first."""
    ids = []
    with database.atomic():
        for i, (ago, verdict, event_type, store, invoice_id, redelivery) in enumerate(DELIVERIES):
            body = delivery_body(i, event_type, invoice_id, redelivery)
            row = WebhookDelivery.create(
                received_ms=(NOW - ago) * 1000,
                remote="127.0.0.1",
                path=f"/webhook/{store or 'nosuch'}",
                store_name=store,
                signature="sha256=" + "ab" * 32,
                headers=json.dumps(
                    {
                        "Content-Type": "application/json",
                        "BTCPay-Sig": "sha256=" + "ab" * 32,
                        "User-Agent": "BTCPayServer",
                    }
                ),
                body=body,
                body_size=len(body),
                verdict=verdict,
                reason=REASONS.get(verdict),
                http_status={
                    VERIFIED: 200,
                    DUPLICATE: 200,
                    BAD_SIGNATURE: 401,
                    MALFORMED: 400,
                    UNKNOWN_STORE: 404,
                    TOO_LARGE: 413,
                    RATE_LIMITED: 429,
                }[verdict],
                delivery_id=f"Dlv{i:04d}abcdefghijkmn" if event_type else None,
                original_delivery_id=f"Dlv{(i - 1 if redelivery else i):04d}abcdefghijkmn" if event_type else None,
                webhook_id="Whk1abcdefghijkmnopq" if event_type else None,
                is_redelivery=redelivery,
                event_type=event_type,
                event_time=NOW - 3600 if event_type else None,
                invoice_id=invoice_id,
                processed=verdict == VERIFIED,
                process_result="invoice fetched and stored" if verdict == VERIFIED else None,
            )
            ids.append(row.id)
    return ids


def add_delivery(verdict: str = VERIFIED, event_type: str = "InvoiceSettled", seconds_after: int = 10) -> int:
    """One more verified delivery after the fixed ones (for live-update tests)."""
    body = delivery_body(99, event_type, "InvNewNewNewNewNewNew99", False)
    row = WebhookDelivery.create(
        received_ms=(NOW + seconds_after) * 1000,
        remote="127.0.0.1",
        path="/webhook/main",
        store_name="main",
        headers="{}",
        body=body,
        body_size=len(body),
        verdict=verdict,
        http_status=200,
        event_type=event_type,
        invoice_id="InvNewNewNewNewNewNew99",
    )
    return row.id


def set_took_back() -> None:
    """The failed project's investors (read on-chain), newest first: one refunded, one recovered part early
    into the penalty lock, one took nothing back."""
    failed = AngorProject.get_by_id(project_id(3))
    first, second, _ = (
        AngorInvestment.select().where(AngorInvestment.project == failed).order_by(AngorInvestment.time.desc())
    )
    AngorInvestment.update(recovered_sats=0, refunded_sats=0, penalty_sats=0).where(
        AngorInvestment.project == failed
    ).execute()
    AngorInvestment.update(recovered_sats=13_333_333, refunded_sats=13_333_333).where(
        AngorInvestment.id == first.id
    ).execute()
    AngorInvestment.update(recovered_sats=5_000_000, penalty_sats=8_333_333).where(
        AngorInvestment.id == second.id
    ).execute()
