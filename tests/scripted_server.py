"""A small aiohttp server that plays scripted answers, one per request, for the Greenfield client's tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


class Scripted:
    """Answers requests from a queue of (status, body, headers | 'drop' | ('slow', s))."""

    def __init__(self) -> None:
        self.script: list = []
        self.requests: list[web.Request] = []
        self.times: list[float] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        self.times.append(time.monotonic())
        step = self.script.pop(0) if self.script else (200, "[]", {})
        if step == "drop":
            response = web.StreamResponse(status=200, headers={"Content-Length": "1000"})
            await response.prepare(request)
            await response.write(b"[{")
            request.transport.close()
            return response
        if step[0] == "slow":
            await asyncio.sleep(step[1])
            return web.Response(text="[]", content_type="application/json")
        status, body, headers = step
        return web.Response(status=status, text=body, content_type="application/json", headers=headers)


@asynccontextmanager
async def scripted_server() -> AsyncIterator[Scripted]:
    """A :class:`Scripted` serving on a free loopback port (``.url``), stopped on exit."""
    scripted = Scripted()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", scripted.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    scripted.url = f"http://127.0.0.1:{port}"
    try:
        yield scripted
    finally:
        await runner.cleanup()
