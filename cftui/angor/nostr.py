"""A read-only NIP-01 client that asks several relays at once.

Each relay runs in its own task with its own timeout, so a slow or dead relay
never holds up the others; a dropped connection is retried with exponential
backoff and picks up where it stopped. Every event is checked (id and BIP-340
signature, :mod:`cftui.angor.events`) before it is kept; invalid ones are
dropped and counted by reason. Events are de-duplicated by id across relays.

Relays cap how many events one REQ returns, so an open-ended filter is paged
backwards with ``until`` = the oldest ``created_at`` seen, until a page brings
nothing new (what the Angor hub does, CONTRACT.md §0).

A relay is untrusted, so each one is bounded whatever it does:

* time: a relay's sessions, retries and closing handshakes included, end by
  its deadline (``timeout`` × 10); a relay that never completes the close
  handshake is cut after :data:`CLOSE_TIMEOUT`;
* size: a websocket message over :data:`MAX_FRAME_BYTES` is refused from its
  header, unread, and ends the session;
* memory: at most :data:`MAX_REJECTED` invalid events are remembered (to
  count each once across pages) and :data:`MAX_EVENTS_PER_RELAY` events kept
  from one relay in one fetch;
* parsing: JSON nested too deeply is a relay error, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from cftui.angor import events as ev
from cftui.angor.events import EventError, NostrEvent

log = logging.getLogger(__name__)

PAGE_LIMIT = 500  # events asked per REQ page; relays often cap lower, paging copes
IDS_PER_FILTER = 200  # keep `ids`/`authors` lists short enough for any relay
# Relays themselves refuse events far smaller (strfry and nostr-rs-relay: 128 KiB by default).
MAX_FRAME_BYTES = 1 << 20
CLOSE_TIMEOUT = 1.0  # seconds a relay gets to answer our close before the connection is dropped
MAX_REJECTED = 10_000  # invalid events remembered; past that one re-sent may be counted twice
MAX_EVENTS_PER_RELAY = 100_000  # new events kept from one relay in one fetch (Angor has hundreds)


@dataclass
class FetchReport:
    events: dict[str, NostrEvent] = field(default_factory=dict)  # verified, by id
    invalid: Counter[str] = field(default_factory=Counter)  # reason -> count
    rejected: set[tuple[Any, Any]] = field(default_factory=set)  # (id, sig) of invalid events, counted once
    duplicates: int = 0
    relays_ok: list[str] = field(default_factory=list)
    relay_errors: dict[str, str] = field(default_factory=dict)  # relay -> one sentence
    notices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        return not self.relays_ok and bool(self.relay_errors)


@dataclass
class _Subscription:
    """One filter on one relay, with its paging state."""

    filter: dict[str, Any]
    paged: bool
    done: bool = False
    until: int | None = None
    new_in_page: int = 0
    seen: set[str] = field(default_factory=set)  # ids this relay sent for this filter


def chunked_filters(base: dict[str, Any], key: str, values: Sequence[str]) -> list[dict[str, Any]]:
    """Split a long ``ids``/``authors``/``#d`` list into several filters."""
    values = list(dict.fromkeys(values))
    return [{**base, key: values[i : i + IDS_PER_FILTER]} for i in range(0, len(values), IDS_PER_FILTER)]


class RelayPool:
    def __init__(
        self,
        relays: Sequence[str],
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.5,
        page_limit: int = PAGE_LIMIT,
    ) -> None:
        self.relays = list(dict.fromkeys(relays))
        self.timeout = timeout  # connect timeout, and the longest silence tolerated
        self.retries = retries
        self.backoff = backoff
        self.page_limit = page_limit
        self.dead: dict[str, str] = {}  # relay -> why it failed; skipped by later fetches of this pool

    async def fetch(self, filters: Sequence[dict[str, Any]]) -> FetchReport:
        """Run ``filters`` on every relay until each ends (EOSE/CLOSED), fails or times out.

        Relays that failed an earlier fetch of this pool are not asked again, and
        once one relay has answered, relays still waiting to reconnect are given up:
        neither may hold the others up.
        """
        report = FetchReport()
        relays = [url for url in self.relays if url not in self.dead]
        report.relay_errors.update((url, self.dead[url]) for url in self.relays if url in self.dead)
        if not filters or not relays:
            return report
        backing_off: set[str] = set()
        # A blackholed host must fail within the relay's timeout, not the OS's.
        connect = aiohttp.ClientTimeout(connect=self.timeout, sock_connect=self.timeout)
        async with aiohttp.ClientSession(timeout=connect) as session:
            tasks = {
                asyncio.create_task(self._fetch_relay(session, url, filters, report, backing_off)): url
                for url in relays
            }
            pending = set(tasks)
            while pending:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                waiting = {tasks[t] for t in pending}
                if report.relays_ok and waiting and waiting <= backing_off:
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                    gave_up = "unreachable (gave up after the others answered)"
                    report.relay_errors.update((url, gave_up) for url in waiting)
                    break
        self.dead.update((url, report.relay_errors[url]) for url in relays if url in report.relay_errors)
        return report

    async def _fetch_relay(
        self,
        session: aiohttp.ClientSession,
        url: str,
        filters: Sequence[dict[str, Any]],
        report: FetchReport,
        backing_off: set[str],
    ) -> None:
        # A filter with ids or its own limit is complete in one answer; others are paged.
        subs = {
            f"cftui-{i}": _Subscription(dict(f), paged="ids" not in f and "limit" not in f)
            for i, f in enumerate(filters)
        }
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout * 10
        for attempt in range(self.retries + 1):
            try:
                # Everything, the closing handshake included, ends by the deadline.
                async with asyncio.timeout_at(deadline):
                    await self._session(session, url, subs, report, deadline)
                report.relays_ok.append(url)
                return
            except (aiohttp.ClientError, OSError, TimeoutError, _RelayGone) as exc:
                reason = _describe(exc)
                log.info("relay %s: %s (attempt %d)", url, reason, attempt + 1)
            except Exception as exc:  # a bug, or a relay that found one: this relay failed, the others go on
                log.exception("relay %s: unexpected error", url)
                report.relay_errors[url] = f"unexpected error ({type(exc).__name__}); details are in the log"
                return
            remaining = deadline - loop.time()
            if attempt == self.retries or remaining <= 0:
                report.relay_errors[url] = reason
                return
            # Exponential backoff with jitter so relays restarting together are not hammered together.
            delay = self.backoff * (2**attempt) * (0.5 + random.random())
            backing_off.add(url)
            await asyncio.sleep(min(delay, remaining))
            backing_off.discard(url)

    async def _session(
        self,
        session: aiohttp.ClientSession,
        url: str,
        subs: dict[str, _Subscription],
        report: FetchReport,
        deadline: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        ws = await session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=CLOSE_TIMEOUT), autoping=True,
                                      max_msg_size=MAX_FRAME_BYTES, heartbeat=None)
        kept_before = len(report.events)
        try:
            for sub_id, sub in subs.items():
                if not sub.done:
                    await self._request(ws, sub_id, sub)
            while not all(s.done for s in subs.values()):
                wait = min(self.timeout, deadline - loop.time())
                if wait <= 0:
                    raise TimeoutError
                msg = await asyncio.wait_for(ws.receive(), wait)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise _RelayGone(_closed_reason(msg))
                await self._handle(ws, url, msg.data, subs, report)
                if len(report.events) - kept_before > MAX_EVENTS_PER_RELAY:
                    raise _RelayGone(f"sent more than {MAX_EVENTS_PER_RELAY:,} events in one fetch")
        finally:
            await _close(ws)

    async def _request(self, ws: aiohttp.ClientWebSocketResponse, sub_id: str, sub: _Subscription) -> None:
        flt = dict(sub.filter)
        if sub.paged:
            flt["limit"] = self.page_limit
            if sub.until is not None:
                flt["until"] = sub.until
        sub.new_in_page = 0
        await ws.send_str(json.dumps(["REQ", sub_id, flt]))

    async def _handle(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        url: str,
        data: str,
        subs: dict[str, _Subscription],
        report: FetchReport,
    ) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            report.invalid["malformed relay message"] += 1
            return
        except RecursionError:  # no relay sends that by mistake: stop reading this one
            raise _RelayGone("sent a message nested too deeply") from None
        if not isinstance(message, list) or not message:
            report.invalid["malformed relay message"] += 1
            return
        verb = message[0]
        sub = subs.get(message[1]) if len(message) > 1 and isinstance(message[1], str) else None
        if verb == "EVENT" and len(message) >= 3 and sub is not None:
            self._accept(message[2], sub, report)
        elif verb == "EOSE" and sub is not None:
            await ws.send_str(json.dumps(["CLOSE", message[1]]))
            # Page on while a page still brings events we had not seen.
            if sub.paged and sub.new_in_page > 0:
                await self._request(ws, message[1], sub)
            else:
                sub.done = True
        elif verb == "CLOSED" and sub is not None:
            sub.done = True
            report.notices.append((url, f"subscription closed: {message[2] if len(message) > 2 else ''}"))
        elif verb == "NOTICE":
            report.notices.append((url, str(message[1]) if len(message) > 1 else ""))
        # OK, AUTH, COUNT and unknown verbs are irrelevant to a read-only client.

    def _accept(self, raw: Any, sub: _Subscription, report: FetchReport) -> None:
        event_id = raw.get("id") if isinstance(raw, dict) else None
        known = report.events.get(event_id) if isinstance(event_id, str) else None
        if known is not None:
            # Same id and already verified: identical content by construction of the id.
            report.duplicates += 1
            event = known
        else:
            sig = raw.get("sig") if isinstance(raw, dict) else None
            claim = (event_id, sig) if isinstance(event_id, str) and isinstance(sig, str) else None
            if claim in report.rejected:
                return  # counted already (paging re-sends the page's edge)
            try:
                event = ev.verified(raw)
            except EventError as exc:
                report.invalid[exc.reason] += 1
                if claim is not None and len(report.rejected) < MAX_REJECTED:
                    report.rejected.add(claim)
                return
            report.events[event.id] = event
        # Paging is per relay: another relay having sent an event says nothing of this one's older pages.
        if event.id not in sub.seen:
            sub.seen.add(event.id)
            sub.new_in_page += 1
        created = event.created_at
        if sub.until is None or created < sub.until:
            sub.until = created


class _RelayGone(Exception):
    pass


async def _close(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Close politely, but drop the connection if the relay does not answer within CLOSE_TIMEOUT.

    aiohttp waits for the peer's CLOSE frame reading message after message,
    each with its own timeout: a relay that keeps sending would hold it forever.
    """
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await ws.close()
    except TimeoutError:  # aiohttp drops the connection when its close is cancelled
        pass


def _closed_reason(msg: aiohttp.WSMessage) -> str:
    if msg.type == aiohttp.WSMsgType.ERROR and isinstance(msg.data, aiohttp.WebSocketError):
        if msg.data.code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG:
            return f"sent a message over the {MAX_FRAME_BYTES >> 20} MiB limit"
    return f"connection closed ({msg.type.name.lower()})"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"refused the websocket (HTTP {exc.status})"
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return "unreachable"
    return str(exc) or type(exc).__name__
