"""POSTing a delivery the way BTCPay does (for `webhook send`/`replay` and the simulator)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from cftui import __version__
from cftui.webhooks.signing import HEADER

# BTCPay sends `BTCPayServer/<version>`; the suffix says who really sent it.
USER_AGENT = f"BTCPayServer/2.4.1 (cftui/{__version__})"


@dataclass(frozen=True, slots=True)
class SendResult:
    status: int | None  # None: no HTTP answer (network error or timeout)
    text: str  # the answer's body (cut short), or what went wrong

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def post_delivery(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    signature: str | None,
    *,
    timeout: float = 100,
    user_agent: str = USER_AGENT,
) -> SendResult:
    """POST ``body`` with its ``BTCPay-Sig`` header (omitted when None)."""
    headers = {"Content-Type": "application/json", "User-Agent": user_agent}
    if signature is not None:
        headers[HEADER] = signature
    try:
        async with session.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as response:
            text = (await response.content.read(500)).decode("utf-8", "replace")
            return SendResult(response.status, text)
    except TimeoutError:
        return SendResult(None, f"no answer within {timeout:g} s")
    except aiohttp.ClientError as exc:
        return SendResult(None, f"{type(exc).__name__}: {exc}")
