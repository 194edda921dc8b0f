"""Hostile Nostr relays for the relay client's tests: small aiohttp websocket apps on loopback.

Each mode misbehaves in one way a real relay (or an attacker posing as one)
could: streams events without ever ending the subscription, never completes
the websocket close handshake, sends JSON nested thousands deep, or one
frame of megabytes.
"""

from __future__ import annotations

import asyncio
import json
import queue
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from aiohttp import web
from angor_relay import free_port

RUN_AT_MOST = 60.0  # seconds a misbehaving relay keeps going, so a test that fails cannot hang forever


def forged_event() -> str:
    """A kind-3030 event with a random id and signature: cheap to send, rejected as a wrong event id."""
    return json.dumps({
        "id": secrets.token_hex(32), "pubkey": secrets.token_hex(32), "created_at": 1_800_000_000, "kind": 3030,
        "tags": [], "content": "{}", "sig": secrets.token_hex(64),
    })


async def _first_req(ws: web.WebSocketResponse) -> str:
    async for msg in ws:
        message = json.loads(msg.data)
        if message[0] == "REQ":
            return message[1]
    return ""


async def flood(ws: web.WebSocketResponse) -> None:
    """Events without end and no EOSE; the client's CLOSE frames are never read."""
    sub = await _first_req(ws)
    loop = asyncio.get_running_loop()
    stop = loop.time() + RUN_AT_MOST
    while loop.time() < stop and not ws.closed:
        for _ in range(50):
            await ws.send_str(f'["EVENT","{sub}",{forged_event()}]')
        await asyncio.sleep(0)


async def eose_then_chatter(ws: web.WebSocketResponse) -> None:
    """Ends the subscription at once, then keeps talking and never answers the close handshake."""
    sub = await _first_req(ws)
    await ws.send_str(json.dumps(["EOSE", sub]))
    loop = asyncio.get_running_loop()
    stop = loop.time() + RUN_AT_MOST
    while loop.time() < stop and not ws.closed:
        await ws.send_str(json.dumps(["NOTICE", "still here"]))
        await asyncio.sleep(0.01)


async def deep_json(ws: web.WebSocketResponse) -> None:
    await _first_req(ws)
    await ws.send_str("[" * 5000 + "]" * 5000)
    await asyncio.sleep(RUN_AT_MOST)


async def huge_frame(ws: web.WebSocketResponse) -> None:
    sub = await _first_req(ws)
    await ws.send_str(f'["EVENT","{sub}",{{"content":"' + "x" * (8 << 20) + '"}]')
    await asyncio.sleep(RUN_AT_MOST)


MODES = {"flood": flood, "eose_then_chatter": eose_then_chatter, "deep_json": deep_json, "huge_frame": huge_frame}


@asynccontextmanager
async def hostile_relay(mode: str) -> AsyncIterator[str]:
    """A relay misbehaving as ``mode`` says, on loopback; yields its ws:// URL."""
    behave = MODES[mode]
    tasks: set[asyncio.Task] = set()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoclose=False, max_msg_size=0)
        await ws.prepare(request)
        task = asyncio.current_task()
        tasks.add(task)
        try:
            await behave(ws)
        except (ConnectionError, RuntimeError):  # the client went away mid-send
            pass
        finally:
            tasks.discard(task)
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"ws://127.0.0.1:{port}/"
    finally:
        for task in list(tasks):
            task.cancel()
        await runner.cleanup()


@contextmanager
def hostile_relay_thread(mode: str) -> Iterator[str]:
    """:func:`hostile_relay` on an event loop of its own thread, so its flood never slows the code under test."""
    ready: queue.Queue = queue.Queue()
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        stop = asyncio.Event()
        async with hostile_relay(mode) as url:
            ready.put((url, stop))
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name=f"relay-{mode}", daemon=True)
    thread.start()
    url, stop = ready.get(timeout=10)
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
