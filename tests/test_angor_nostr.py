"""The relay client against real `nostr-relay` processes on loopback."""

from __future__ import annotations

import json
import time

import pytest
from aiohttp import web
from angor_relay import free_port, publish

from cftui.angor.nostr import RelayPool
from cftui.sim.angor import AngorSimulator

NOW = 1_800_000_000


@pytest.fixture
def sim():
    return AngorSimulator(seed=11, now=NOW)


def project_events(sim):
    return {p.event.id for p in sim.world.projects}


async def test_two_relays_with_the_same_events_and_a_dead_one(nostr_relays, sim):
    first, second = nostr_relays(2)
    await publish(first, sim.events)
    await publish(second, sim.events)
    dead = f"ws://127.0.0.1:{free_port()}/"
    started = time.monotonic()
    report = await RelayPool([dead, first, second], timeout=5).fetch([{"kinds": [3030]}])
    elapsed = time.monotonic() - started

    kind_3030 = {e.id for e in sim.events if e.kind == 3030}
    valid = project_events(sim) | {
        e.id for what, e in sim.world.bad_events if not what.startswith(("bad", "wrong event"))
    }
    assert set(report.events) == valid
    assert valid < kind_3030
    # Each invalid event is counted once, though both relays sent it.
    assert report.invalid == {"bad signature": 1, "wrong event id": 1}
    assert report.duplicates == len(valid)  # the second relay's copies
    assert sorted(report.relays_ok) == sorted([first, second])
    assert report.relay_errors[dead].startswith("unreachable")
    assert elapsed < 3  # the dead relay did not hold the others up


async def test_paging_with_until_reaches_every_event(nostr_relays, sim):
    (url,) = nostr_relays(1)
    await publish(url, sim.events)
    report = await RelayPool([url], page_limit=3).fetch([{"kinds": [3030]}])
    assert project_events(sim) <= set(report.events)


async def test_ids_and_profile_filters(nostr_relays, sim):
    (url,) = nostr_relays(1)
    await publish(url, sim.events)
    project = sim.world.projects[0]
    report = await RelayPool([url]).fetch(
        [{"ids": [project.event.id]}, {"kinds": [0], "authors": [project.event.pubkey]}]
    )
    assert {e.kind for e in report.events.values()} == {0, 3030}
    assert len(report.events) == 2


async def test_a_silent_relay_times_out_without_blocking(nostr_relays, sim):
    (url,) = nostr_relays(1)
    await publish(url, sim.events)

    async def silent(request):  # accepts the websocket, never answers
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/", silent)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        started = time.monotonic()
        report = await RelayPool([f"ws://127.0.0.1:{port}/", url], timeout=1, retries=0).fetch([{"kinds": [3030]}])
        assert time.monotonic() - started < 4
    finally:
        await runner.cleanup()
    assert project_events(sim) <= set(report.events)
    assert report.relay_errors == {f"ws://127.0.0.1:{port}/": "timed out"}


async def test_notice_and_closed_are_reported():
    async def closing(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            message = json.loads(msg.data)
            if message[0] == "REQ":
                await ws.send_str(json.dumps(["NOTICE", "rate limited"]))
                await ws.send_str(json.dumps(["CLOSED", message[1], "error: too many filters"]))
        return ws

    app = web.Application()
    app.router.add_get("/", closing)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        report = await RelayPool([f"ws://127.0.0.1:{port}/"], timeout=2).fetch([{"kinds": [3030]}])
    finally:
        await runner.cleanup()
    assert [n for _, n in report.notices] == ["rate limited", "subscription closed: error: too many filters"]
    assert report.relays_ok and not report.events
