"""Angor discovery benchmark: 1,000 projects on a local relay.

Measured in the same run, on the same relay holding the same events:

* baseline: a bare websocket client that sends one REQ for kind 3030 and only
  receives (JSON-decodes) the events until EOSE;
* discovery: :class:`cftui.angor.nostr.RelayPool` fetching the same events,
  checking every id and BIP-340 signature;
* full sync: ``sync_angor`` from an empty store until all 1,000 projects are
  stored, verified (on-chain event id + identity derivation), with indexer
  stats, investments and profiles.

Run: ``pytest tests/benchmarks/bench_angor.py -s``
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).parents[1]))  # the relay helper lives beside the tests

from angor_relay import publish, start_relay  # noqa: E402

from cftui import clock  # noqa: E402
from cftui.angor.nostr import RelayPool  # noqa: E402
from cftui.config import AngorConfig  # noqa: E402
from cftui.sim.angor import AngorSimulator  # noqa: E402
from cftui.store.angor_models import AngorProject  # noqa: E402
from cftui.store.db import open_database  # noqa: E402
from cftui.sync.angor import sync_angor  # noqa: E402

PROJECTS = 1000
ROUNDS = 3
NOW = 1_800_000_000


async def bare_client(url: str) -> int:
    received = 0
    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
        await ws.send_str(json.dumps(["REQ", "bench", {"kinds": [3030], "limit": 5000}]))
        async for msg in ws:
            message = json.loads(msg.data)
            if message[0] == "EVENT":
                received += 1
            elif message[0] == "EOSE":
                break
    return received


def test_angor_discovery_benchmark(tmp_path):
    clock.freeze(NOW)
    catalogue = len(AngorSimulator(seed=1, now=NOW).world.projects)  # the default data's own projects
    sim = AngorSimulator(seed=1, now=NOW, extra_projects=PROJECTS - catalogue)
    assert len(sim.world.projects) == PROJECTS
    relay, proc = start_relay(tmp_path / "relay", "bench")
    try:
        asyncio.run(_run(sim, relay, tmp_path))
    finally:
        proc.terminate()
        proc.wait(10)
        clock.freeze(None)


async def _run(sim: AngorSimulator, relay: str, tmp_path: Path) -> None:
    started = time.monotonic()
    await publish(relay, sim.events)
    print(f"\nsetup: {len(sim.events)} events ({PROJECTS} projects + profiles + bad ones) published "
          f"in {time.monotonic() - started:.1f} s")
    _, indexer = await sim.start()
    config = AngorConfig(enabled=True, network="Angornet", relays=(relay,), indexer_url=indexer, timeout=30)
    bare, pool, full = [], [], []
    try:
        for n in range(ROUNDS):
            t = time.monotonic()
            received = await bare_client(relay)
            bare.append(time.monotonic() - t)

            t = time.monotonic()
            report = await RelayPool([relay], timeout=30).fetch([{"kinds": [3030]}])
            pool.append(time.monotonic() - t)

            db = open_database(tmp_path / f"store{n}.sqlite3")
            t = time.monotonic()
            result = await sync_angor(config)
            full.append(time.monotonic() - t)
            verified = AngorProject.select().where(AngorProject.verified == True).count()  # noqa: E712
            stored = AngorProject.select().count()
            db.close()
            assert result.ok, result.error
            assert stored == PROJECTS and verified == PROJECTS - 2  # the two deliberately bad ones are flagged
            assert received >= PROJECTS and len(report.events) >= PROJECTS
    finally:
        await sim.stop()
    base = statistics.median(bare)
    print(f"baseline  bare websocket client, receive {received} kind-3030 events: median {base * 1000:.0f} ms")
    print(f"discovery RelayPool, receive + verify id and signature:     median {statistics.median(pool) * 1000:.0f} ms "
          f"({statistics.median(pool) / base:.1f}x baseline)")
    print(
        f"full sync {PROJECTS} projects stored and verified, with stats: "
        f"median {statistics.median(full) * 1000:.0f} ms "
        f"({statistics.median(full) / base:.1f}x baseline)"
    )
    print(
        f"rounds: bare {[round(x, 3) for x in bare]}, discovery {[round(x, 3) for x in pool]}, "
        f"sync {[round(x, 3) for x in full]}"
    )
