"""The relay client against hostile relays (review D3, D4, D7): every session ends by its deadline,
whatever the peer does; a bad frame is one relay error, never a traceback; memory stays bounded."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest
from angor_relay import publish
from hostile_relays import hostile_relay

from cftui.angor import nostr
from cftui.angor.nostr import RelayPool
from cftui.sim.angor import AngorSimulator

TIMEOUT = 0.3  # so the session deadline (timeout x 10) is 3 s


async def fetch_within(pool: RelayPool, seconds: float):
    started = time.monotonic()
    report = await asyncio.wait_for(pool.fetch([{"kinds": [3030]}]), seconds)
    return report, time.monotonic() - started


async def test_a_relay_flooding_without_eose_ends_at_the_deadline(nostr_relays):
    (good,) = nostr_relays(1)
    sim = AngorSimulator(seed=11, now=1_800_000_000)
    await publish(good, sim.events)
    async with hostile_relay("flood") as bad:
        report, elapsed = await fetch_within(RelayPool([bad, good], timeout=TIMEOUT, retries=0), 20)
    assert elapsed < TIMEOUT * 10 + nostr.CLOSE_TIMEOUT + 1.5
    assert report.relay_errors[bad] == "timed out"
    assert good in report.relays_ok and {p.event.id for p in sim.world.projects} <= set(report.events)
    assert report.invalid["wrong event id"] > 1000  # it did flood
    assert len(report.rejected) <= nostr.MAX_REJECTED  # memory stays bounded


async def test_a_relay_that_never_completes_the_close_handshake_cannot_hold_the_fetch():
    async with hostile_relay("eose_then_chatter") as relay:
        report, elapsed = await fetch_within(RelayPool([relay], timeout=TIMEOUT, retries=0), 20)
    assert report.relays_ok == [relay]
    assert elapsed < nostr.CLOSE_TIMEOUT + 1.5


async def test_deeply_nested_json_is_a_relay_error_not_a_traceback(caplog):
    loop = asyncio.get_running_loop()
    unhandled: list = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    async with hostile_relay("deep_json") as relay:
        report, _ = await fetch_within(RelayPool([relay], timeout=TIMEOUT, retries=0), 20)
    gc.collect()  # a task that died with an exception reports it when collected
    await asyncio.sleep(0)
    assert report.relay_errors == {relay: "sent a message nested too deeply"}
    assert report.all_failed
    assert not unhandled and "Traceback" not in caplog.text


async def test_a_frame_over_the_size_cap_is_refused_unread():
    async with hostile_relay("huge_frame") as relay:
        report, _ = await fetch_within(RelayPool([relay], timeout=TIMEOUT, retries=0), 20)
    assert report.relay_errors == {relay: f"sent a message over the {nostr.MAX_FRAME_BYTES >> 20} MiB limit"}


@pytest.mark.parametrize("cap", [5])
def test_the_rejected_ids_set_is_bounded(cap, monkeypatch):
    monkeypatch.setattr(nostr, "MAX_REJECTED", cap)
    report = nostr.FetchReport()
    sub = nostr._Subscription({"kinds": [3030]}, paged=True)
    pool = RelayPool(["ws://unused"])
    for i in range(20):
        event = {"id": f"{i:064x}", "pubkey": "ab" * 32, "created_at": 1_800_000_000, "kind": 3030, "tags": [],
                 "content": "{}", "sig": "00" * 64}
        pool._accept(event, sub, report)
    assert report.invalid["wrong event id"] == 20 and len(report.rejected) == cap
