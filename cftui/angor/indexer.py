"""The Angor indexer API (``/api/v1/query/Angor/...``, CONTRACT.md §1).

Two servers implement it with different paging (§1.4): the mempool fork [M]
counts ``offset`` from the newest project, blockcore-indexer [B] from the
oldest, and without an offset [B] answers the newest page. A first call
without ``offset`` tells them apart by its ``Pagination-Offset`` header.
``offset`` is never sent empty ([M] answers 400). Investments page
ascending from the oldest on both when ``limit`` and ``offset`` are given.

Amounts differ too: [M] reports gross (the 1 % fee output × 100), [B] the net
stage sum; callers say which with :data:`RAISED_SOURCE`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

from cftui.angor.http import get_json
from cftui.domain import INDEXER

PREFIX = "/api/v1/query/Angor"
PAGE = 50  # the servers' maximum limit
MAX_PAGES = 400  # a server that pages forever stops here
RAISED_SOURCE: Final = INDEXER


class IndexerDataError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class IndexedProject:
    project_id: str
    founder_key: str
    nostr_event_id: str  # "" when the server does not know it ([B], keyType != 1)
    created_block: int | None
    txid: str
    investment_count: int | None  # only on the single-project endpoint


@dataclass(frozen=True, slots=True)
class IndexerStats:
    investor_count: int
    amount_invested_sats: int
    founder_spent_sats: int
    penalties_sats: int
    penalties_count: int


@dataclass(frozen=True, slots=True)
class IndexedInvestment:
    investor_key: str
    amount_sats: int
    txid: str
    secret_hash: str
    is_seeder: bool


def _field(data: Any, key: str, kind: type, *, optional: bool = False) -> Any:
    if not isinstance(data, dict):
        raise IndexerDataError("expected a JSON object")
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise IndexerDataError(f"missing or bad field {key!r}")
    return value


def parse_project(data: Any) -> IndexedProject:
    return IndexedProject(
        project_id=_field(data, "projectIdentifier", str),
        founder_key=_field(data, "founderKey", str).lower(),
        nostr_event_id=(_field(data, "nostrEventId", str, optional=True) or "").lower(),
        created_block=_field(data, "createdOnBlock", int, optional=True),
        txid=_field(data, "trxId", str),
        investment_count=_field(data, "totalInvestmentsCount", int, optional=True),
    )


def parse_stats(data: Any) -> IndexerStats:
    return IndexerStats(
        investor_count=_field(data, "investorCount", int),
        amount_invested_sats=_field(data, "amountInvested", int),
        founder_spent_sats=_field(data, "amountSpentSoFarByFounder", int, optional=True) or 0,
        penalties_sats=_field(data, "amountInPenalties", int, optional=True) or 0,
        penalties_count=_field(data, "countInPenalties", int, optional=True) or 0,
    )


def parse_investment(data: Any) -> IndexedInvestment:
    return IndexedInvestment(
        investor_key=_field(data, "investorPublicKey", str).lower(),
        amount_sats=_field(data, "totalAmount", int),
        txid=_field(data, "transactionId", str),
        secret_hash=_field(data, "hashOfSecret", str, optional=True) or "",
        is_seeder=bool(_field(data, "isSeeder", bool, optional=True)),
    )


def _items(body: Any) -> list[Any]:
    # [B] wraps pages in {offset,limit,total,items} when asked with ?envelope.
    items = body.get("items") if isinstance(body, dict) else None
    if isinstance(items, list):
        return items
    if not isinstance(body, list):
        raise IndexerDataError("expected a JSON array")
    return body


class AngorIndexer:
    def __init__(self, base_url: str, client: aiohttp.ClientSession) -> None:
        self.base = base_url.rstrip("/") + PREFIX
        self.client = client

    async def project(self, project_id: str) -> IndexedProject | None:
        answer = await get_json(self.client, f"{self.base}/projects/{project_id}")
        return parse_project(answer[0]) if answer else None

    async def stats(self, project_id: str) -> IndexerStats | None:
        answer = await get_json(self.client, f"{self.base}/projects/{project_id}/stats")
        return parse_stats(answer[0]) if answer else None

    async def investments(self, project_id: str) -> list[IndexedInvestment]:
        """Every investment, oldest first."""
        found: dict[str, IndexedInvestment] = {}
        for page in range(MAX_PAGES):
            answer = await get_json(
                self.client, f"{self.base}/projects/{project_id}/investments", {"limit": PAGE, "offset": page * PAGE}
            )
            items = [parse_investment(item) for item in _items(answer[0])] if answer else []
            fresh = [item for item in items if item.txid not in found]
            found.update((item.txid, item) for item in fresh)
            if len(items) < PAGE or not fresh:
                break
        return list(found.values())

    async def projects(self) -> list[IndexedProject] | None:
        """Every indexed project, or ``None`` when the server has no Angor API."""
        answer = await get_json(self.client, f"{self.base}/projects", {"limit": PAGE})
        if answer is None:
            return None
        body, headers = answer
        first = [parse_project(item) for item in _items(body)]
        found = {p.project_id: p for p in first}
        newest_offset = _header_int(headers, "Pagination-Offset") or 0
        if newest_offset > 0:
            # [B]: that was the newest page of an oldest-first list; walk down to offset 0.
            for limit, offset in _oldest_based_offsets(newest_offset):
                answer = await get_json(self.client, f"{self.base}/projects", {"limit": limit, "offset": offset})
                found.update((p.project_id, p) for p in map(parse_project, _items(answer[0]) if answer else []))
            return list(found.values())
        # [M]: offsets count away from the newest; stop on a short page or one with nothing new.
        items = first
        for n in range(1, MAX_PAGES):
            if len(items) < PAGE:
                break
            answer = await get_json(self.client, f"{self.base}/projects", {"limit": PAGE, "offset": PAGE * n})
            items = [parse_project(item) for item in _items(answer[0])] if answer else []
            if all(p.project_id in found for p in items):
                break
            found.update((p.project_id, p) for p in items)
        return list(found.values())


def _oldest_based_offsets(newest_offset: int) -> Iterator[tuple[int, int]]:
    """(limit, offset) pairs below the newest page of a server counting from the oldest (the old hub's walk)."""
    offset = newest_offset - PAGE
    while offset > 0:
        yield PAGE, offset
        offset -= PAGE
    # The last page is the short one at offset 0: limit = what is left.
    yield PAGE + offset, 0


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers.get(name, ""))
    except ValueError:
        return None
