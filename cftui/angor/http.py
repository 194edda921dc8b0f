"""GET JSON from the Angor indexer or an esplora-style API, with short retries.

Both APIs are public and read-only; a 404 is an answer (``None``), a server
that keeps failing becomes one :class:`~cftui.errors.UnreachableError`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from cftui.errors import UnreachableError

RETRIES = 2


async def get_json(client: httpx.AsyncClient, url: str, params: dict[str, Any] | None = None) -> tuple[Any, httpx.Headers] | None:
    """The decoded body and headers of ``GET url``; ``None`` on 404 or 204."""
    for attempt in range(RETRIES + 1):
        try:
            response = await client.get(url, params=params)
        except httpx.HTTPError as exc:
            if attempt == RETRIES:
                raise UnreachableError(f"Cannot reach {_origin(url)} ({type(exc).__name__}).",
                                       hint="Check [angor] indexer_url / esplora_url or the network.") from None
        else:
            if response.status_code in (404, 204):
                return None
            if response.status_code < 500 and response.status_code != 429:
                if response.status_code >= 400:
                    raise UnreachableError(f"{_origin(url)} answered HTTP {response.status_code} to {response.url.path}.")
                try:
                    return response.json(), response.headers
                except ValueError:
                    raise UnreachableError(f"{_origin(url)} sent a body that is not JSON for {response.url.path}.") from None
            if attempt == RETRIES:
                raise UnreachableError(f"{_origin(url)} kept answering HTTP {response.status_code}.")
        await asyncio.sleep(0.3 * 2**attempt)
    raise AssertionError("unreachable")


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
