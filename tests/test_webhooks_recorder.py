"""The recorder: within a mixed batch each request gets the id of its own row, and a claim is won once."""

from __future__ import annotations

import asyncio

import pytest
from webhook_helpers import STORE_ID

from cftui.domain import BAD_SIGNATURE, DUPLICATE, VERIFIED, Verdict
from cftui.store.webhook_models import WebhookDelivery
from cftui.webhooks import envelope
from cftui.webhooks.delivery_row import DeliveryRow
from cftui.webhooks.recorder import Recorder


@pytest.fixture
async def recorder(db):
    rec = Recorder(rejected_retention=100)
    rec.start()
    yield rec
    await rec.stop()


def row(delivery_id: str, original: str | None, verdict: Verdict = VERIFIED) -> DeliveryRow:
    body = envelope.build("PayoutCreated", store_id=STORE_ID, webhook_id="WH1", timestamp=1_700_000_000,
                          delivery_id=delivery_id, original_delivery_id=original)
    return DeliveryRow(
        received_ms=1_700_000_000_000,
        remote="127.0.0.1",
        method="POST",
        path="/webhook/main",
        headers="{}",
        signature=None,
        store_name="main",
        body=body,
        body_size=len(body),
        verdict=verdict,
        reason=None,
        http_status=200 if verdict == VERIFIED else 401,
        event=envelope.parse(body),
    )


async def record_in_one_batch(recorder: Recorder, rows: list[DeliveryRow]):
    # Submitted in one turn of the event loop, so the writer gets them as one batch.
    return await asyncio.gather(*(recorder.record(r) for r in rows))


async def test_a_mixed_batch_maps_every_request_to_its_own_row(recorder):
    (earlier,) = await record_in_one_batch(recorder, [row("d0", "held")])
    batch = [
        row("d1", "a"),
        row("d2", "held"),  # claimed by an earlier batch
        row("d3", None, BAD_SIGNATURE),
        row("d4", "a"),  # the same delivery twice in one batch: the first row holds the claim
        row("d5", "b"),
    ]
    results = await record_in_one_batch(recorder, batch)

    assert earlier.verdict == VERIFIED
    assert [r.verdict for r in results] == [VERIFIED, DUPLICATE, BAD_SIGNATURE, DUPLICATE, VERIFIED]
    assert len({r.id for r in results} | {earlier.id}) == 6
    stored = {d.id: d for d in WebhookDelivery.select()}
    for sent, result in zip(batch, results, strict=True):
        assert stored[result.id].delivery_id == sent.event.delivery_id
        assert stored[result.id].verdict == result.verdict
    assert results[1].row.reason == "originalDeliveryId held was already received"


async def test_a_batch_where_every_claim_wins_numbers_rows_in_order(recorder):
    batch = [row(f"d{i}", f"o{i}") for i in range(40)]
    results = await record_in_one_batch(recorder, batch)

    assert all(r.verdict == VERIFIED for r in results)
    stored = {d.id: d.delivery_id for d in WebhookDelivery.select()}
    assert [stored[r.id] for r in results] == [sent.event.delivery_id for sent in batch]
