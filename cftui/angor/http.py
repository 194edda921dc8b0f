"""GET JSON from the Angor indexer or an esplora-style API, with short retries.

Both APIs are public and read-only; a 404 is an answer (``None``), a server
that keeps failing becomes one :class:`~cftui.errors.UnreachableError`.
aiohttp rather than httpx here: a sync makes thousands of small requests to
one host, and aiohttp's client costs far less CPU per request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from cftui.errors import UnreachableError

RETRIES = 2


def session(timeout: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))


async def get_json(
    client: aiohttp.ClientSession, url: str, params: dict[str, Any] | None = None
) -> tuple[Any, CIMultiDictProxy[str]] | None:
    """The decoded body and headers of ``GET url``; ``None`` on 404 or 204."""
    origin = _origin(url)
    for attempt in range(RETRIES + 1):
        try:
            async with client.get(url, params=params) as response:
                status = response.status
                if status in (404, 204):
                    return None
                if status < 500 and status != 429:
                    if status >= 400:
                        raise UnreachableError(f"{origin} answered HTTP {status} to {response.url.path}.")
                    try:
                        return await response.json(content_type=None), response.headers
                    except ValueError:
                        raise UnreachableError(
                            f"{origin} sent a body that is not JSON for {response.url.path}."
                        ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            if attempt == RETRIES:
                raise UnreachableError(
                    f"Cannot reach {origin} ({type(exc).__name__}).",
                    hint="Check [angor] indexer_url / esplora_url or the network.",
                ) from None
        else:
            if attempt == RETRIES:
                raise UnreachableError(f"{origin} kept answering HTTP {status}.")
        await asyncio.sleep(0.3 * 2**attempt)
    raise AssertionError("unreachable")


def _origin(url: str) -> str:
    parsed = URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.explicit_port else "")
