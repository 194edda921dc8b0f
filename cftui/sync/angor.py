"""Angor sync: discover projects on Nostr, verify them, read their funding, store it all.

The Angor twin of :mod:`cftui.sync.engine` (BTCPay), run in the same frame
(:func:`cftui.sync.reported.run_reported`). It lives in ``cftui.sync``, not in
``cftui.angor``: the Angor package is the protocol, its rules and its rows, and
knows nothing of how a sync is run and reported.

One run:

1. Discovery: kind-3030 events from every relay at once, since the newest
   ``created_at`` already stored minus :data:`OVERLAP` (everything on the
   first run). Invalid events and ProjectInfo that does not parse or is for
   another network are skipped and counted by reason.
2. On-chain: the Angor indexer API if the server has it (its project list
   gives every committed ``nostrEventId``), else the esplora-style address
   history of each project. Fund and Subscribe projects always take their
   funding from the address history: the mempool-fork indexer does not index
   their investments at all (the 4-byte schedule push fails its check,
   contract §1.5), and blockcore-indexer misreads that push.
3. A second relay round: committed events not seen yet (older or legacy
   kind-30078 ProjectInfo, fetched by id) and the profiles (kind 0 and
   ``angor:*`` kind 30078) of every project's ``nostrPubKey``.
4. Each project: the authoritative ProjectInfo and its flags
   (:mod:`cftui.angor.verify`), its funding (:mod:`cftui.angor.funding`),
   status (:mod:`cftui.angor.status`), written in one transaction.

Nothing reachable? What is stored stays, statuses are recomputed for the
current time, and the result carries one sentence saying what failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from typing import Any, Literal

import aiohttp

from cftui import clock
from cftui.angor import esplora, http, identity, profiles, projectinfo
from cftui.angor import store as angor_store
from cftui.angor.events import NostrEvent
from cftui.angor.funding import Funding, from_esplora, from_indexer
from cftui.angor.indexer import AngorIndexer, IndexedProject, IndexerDataError
from cftui.angor.nostr import FetchReport, RelayPool, chunked_filters
from cftui.angor.projectinfo import ProjectInfo, ProjectInfoError
from cftui.angor.status import is_released, status_of
from cftui.angor.verify import Candidate, Onchain, choose
from cftui.config import AngorConfig
from cftui.domain import ANGOR_SOURCE
from cftui.errors import DataError, UnreachableError
from cftui.store.angor_models import AngorProject
from cftui.store.models import database
from cftui.sync.events import Reporter, SyncResult, ignore
from cftui.sync.reported import CancelFlag, SyncRun, begin_state, finish_state, keep_outcome, run_reported

log = logging.getLogger(__name__)

# The two rounds of reading the relays: projects first, then the profiles of their founders.
FetchStep = Literal["discovery", "profiles"]

OVERLAP = 3600  # seconds re-read behind the newest event kept: relays receive events late
CONCURRENCY = 16  # projects whose stats are read at once

# A project's funding once its authoritative ProjectInfo is known (stage amounts depend on it).
FundingOf = Callable[[ProjectInfo], Funding]


CANCELLED = "Angor sync was cancelled; what was read so far is stored."


async def sync_angor(
    config: AngorConfig, *, reporter: Reporter = ignore, cancel: CancelFlag | None = None
) -> SyncResult:
    """Sync the configured network's Angor projects into the open store; never raises for sync failures.

    ``cancel`` is anything with ``is_set()`` (a ``threading.Event``); it is
    checked between steps. The store must be open (``cftui.store.db.open_database``).
    """
    if database.obj is None:
        raise DataError("The store is not open.", hint="Open it with cftui.store.db.open_database first.")

    async def body(run: SyncRun) -> None:
        begin_state(ANGOR_SOURCE)
        since = angor_store.newest_event_time(config.network)
        run.started("incremental" if since else "backfill")
        try:
            await _Run(config, run).sync(since)
        except BaseException:
            with suppress(Exception):  # statuses follow the clock even when the run failed; best effort
                angor_store.refresh_statuses(clock.now_s())
            raise
        angor_store.refresh_statuses(clock.now_s())

    async def record_outcome(result: SyncResult) -> None:
        async def write() -> None:
            finish_state(ANGOR_SOURCE, result)

        await keep_outcome(result, write)

    return await run_reported(
        ANGOR_SOURCE, body, reporter=reporter, cancel=cancel, cancelled=CANCELLED, after=record_outcome,
        counted="projects",
    )


class _Run:
    def __init__(self, config: AngorConfig, run: SyncRun) -> None:
        self.config = config
        self.network = config.network
        self.run = run
        self.result = run.result
        self.pool = RelayPool(config.effective_relays, timeout=config.timeout)
        self.candidates: dict[str, dict[str, Candidate]] = defaultdict(dict)  # project id -> event id -> candidate
        self.errors: list[str] = []

    async def sync(self, since: int | None) -> None:
        flt: dict[str, Any] = {"kinds": [3030]}
        if since:
            flt["since"] = since - OVERLAP
        report = await self.pool.fetch([flt])
        self._absorb(report, "discovery")
        self.run.progress(f"{len(self.candidates)} projects on Nostr")
        self._load_stored()
        self.run.check_cancel()

        async with http.session(self.config.timeout) as client:
            onchain, funding = await self._onchain(client)
            self.run.check_cancel()
            await self._second_round(onchain)
            self.run.check_cancel()
            self._store(onchain, funding)
        if self.errors:
            self.result.error = " ".join(self.errors)

    # ------------------------------------------------------------ nostr

    def _absorb(self, report: FetchReport, step: FetchStep) -> None:
        # Every event read, valid or not: the skipped ones are among them.
        self.result.fetched += len(report.events) + sum(report.invalid.values())
        for reason, count in report.invalid.items():
            self.result.skipped[f"invalid event: {reason}"] += count
        for url, reason in report.relay_errors.items():
            log.info("angor %s: relay %s %s", step, url, reason)
        if report.all_failed and step == "discovery":
            answers = "; ".join(f"{url}: {reason}" for url, reason in report.relay_errors.items())
            self.errors.append(f"No Angor relay answered ({answers}).")
        for event in report.events.values():
            if event.kind in projectinfo.PROJECT_KINDS:
                self._add_candidate(event)

    def _add_candidate(self, event: NostrEvent) -> None:
        # Kind 30078 is also used for angor:* documents and by other apps; those are not ProjectInfo.
        if event.kind == 30078 and (event.tag("d") or "").startswith("angor:"):
            return
        try:
            info = projectinfo.parse(event.content, network=self.network)
        except ProjectInfoError as exc:
            self.result.skipped[exc.reason] += 1
            return
        self.candidates[info.project_id][event.id] = Candidate(event, info)

    def _load_stored(self) -> None:
        """Projects stored earlier take part too (their stats and checks are refreshed)."""
        for row in AngorProject.select().where(AngorProject.network == self.network):
            if row.event_id in self.candidates.get(row.project_id, {}):
                continue
            event = NostrEvent(row.event_id, row.event_pubkey, row.event_created, row.event_kind, [], row.content, "")
            try:
                info = projectinfo.parse(row.content, network=self.network)
            except ProjectInfoError:
                continue  # cannot happen for rows this code wrote; never fatal
            self.candidates[row.project_id][row.event_id] = Candidate(event, info)

    async def _second_round(self, onchain: dict[str, Onchain | None]) -> None:
        missing = [
            o.event_id
            for pid, o in onchain.items()
            if o and o.event_id and o.event_id not in self.candidates.get(pid, {})
        ]
        pubkeys = sorted({c.info.nostr_pubkey for cands in self.candidates.values() for c in cands.values()})
        filters = chunked_filters({}, "ids", missing)
        filters += chunked_filters({"kinds": [0]}, "authors", pubkeys)
        filters += chunked_filters({"kinds": [30078], "#d": list(profiles.DOCUMENTS)}, "authors", pubkeys)
        if not filters:
            return
        report = await self.pool.fetch(filters)
        self._absorb(report, "profiles")
        angor_store.upsert_profiles(profiles.merge(report.events.values()).values())

    # ------------------------------------------------------------ on-chain

    async def _onchain(self, client: aiohttp.ClientSession) -> tuple[dict[str, Onchain | None], dict[str, FundingOf]]:
        """On-chain identity and funding for every project; empty when the source is unreachable."""
        api = AngorIndexer(self.config.effective_indexer_url, client)
        try:
            listing = await api.projects()
            chain = esplora.Esplora(self.config.effective_esplora_url, client)
            if listing is not None:
                return await self._from_indexer(api, listing, chain)
            return await self._from_esplora(chain)
        except (UnreachableError, IndexerDataError) as exc:
            self.errors.append(f"On-chain data unavailable, stored figures kept: {exc}")
            return {}, {}

    async def _from_indexer(
        self, api: AngorIndexer, listing: list[IndexedProject], chain: esplora.Esplora
    ) -> tuple[dict[str, Onchain | None], dict[str, FundingOf]]:
        onchain: dict[str, Onchain | None] = {pid: None for pid in self.candidates}
        onchain.update(
            (p.project_id, Onchain(p.nostr_event_id or None, p.founder_key, p.txid, p.created_block)) for p in listing
        )
        limit = asyncio.Semaphore(CONCURRENCY)
        indexed = [pid for pid, o in onchain.items() if o is not None]

        async def read(pid: str) -> FundingOf:
            if self._is_dynamic(pid):  # not (or wrongly) indexed: read from the chain
                return partial(from_esplora, await chain.project(identity.project_address(pid, self.network)))
            async with limit:
                stats, investments = await asyncio.gather(api.stats(pid), api.investments(pid))
            return partial(from_indexer, stats, investments)

        readers = await asyncio.gather(*(read(pid) for pid in indexed))
        self.run.progress(f"funding of {len(indexed)} projects read from the indexer", len(indexed))
        return onchain, dict(zip(indexed, readers, strict=True))

    def _is_dynamic(self, pid: str) -> bool:
        """A Fund or Subscribe project (per any of its ProjectInfo events): each investment has its own schedule."""
        return any(c.info.project_type != 0 for c in self.candidates.get(pid, {}).values())

    async def _from_esplora(self, api: esplora.Esplora) -> tuple[dict[str, Onchain | None], dict[str, FundingOf]]:
        pids = list(self.candidates)
        chains = await asyncio.gather(*(api.project(identity.project_address(pid, self.network)) for pid in pids))
        self.run.progress(f"funding of {len(pids)} projects read from the chain", len(pids))
        onchain = {
            pid: Onchain(c.nostr_event_id, c.founder_key, c.creation_txid, c.created_block) if c.creation_txid else None
            for pid, c in zip(pids, chains, strict=True)
        }
        return onchain, {pid: partial(from_esplora, c) for pid, c in zip(pids, chains, strict=True)}

    # ------------------------------------------------------------ store

    def _store(self, onchain: dict[str, Onchain | None], funding: dict[str, FundingOf]) -> None:
        now = clock.now_s()
        checked = bool(onchain)
        stored = angor_store.stored_project_ids()
        names = angor_store.profile_names()
        for number, (pid, candidates) in enumerate(sorted(self.candidates.items()), 1):
            self.run.check_cancel()
            if not checked and pid in stored:
                continue  # nothing new to say about it without the chain
            chosen, flags = choose(list(candidates.values()), onchain.get(pid), self.network)
            if not checked:
                flags = ["unchecked"]
            money = funding[pid](chosen.info) if pid in funding else None
            record = self._record(chosen, flags, onchain.get(pid), money, names.get(chosen.info.nostr_pubkey), now)
            outcome = angor_store.upsert(record, known=pid in stored)
            setattr(self.result, outcome, getattr(self.result, outcome) + 1)
            if number % 100 == 0:
                self.run.progress(f"{number} projects stored", len(self.candidates))

    def _record(
        self,
        chosen: Candidate,
        flags: list[str],
        onchain: Onchain | None,
        funding: Funding | None,
        name: str | None,
        now: int,
    ) -> angor_store.ProjectRecord:
        money = funding or Funding(source=None)
        project = _project_row(self.network, chosen, onchain, money, name, flags, now, stats_read=funding is not None)
        return angor_store.ProjectRecord(project, _stage_rows(chosen.info, money, now), money.investments)


def _project_row(
    network: str,
    chosen: Candidate,
    onchain: Onchain | None,
    money: Funding,
    name: str | None,
    flags: list[str],
    now: int,
    *,
    stats_read: bool,
) -> angor_store.ProjectRow:
    info, event = chosen.info, chosen.event
    return angor_store.ProjectRow(
        project_id=info.project_id,
        network=network,
        name=name,
        founder_key=info.founder_key,
        founder_recovery_key=info.founder_recovery_key,
        nostr_pubkey=info.nostr_pubkey,
        event_id=event.id,
        event_pubkey=event.pubkey,
        event_kind=event.kind,
        event_created=event.created_at,
        onchain_event_id=onchain.event_id if onchain else None,
        creation_txid=onchain.txid if onchain else None,
        created_block=onchain.block if onchain else None,
        version=info.version,
        project_type=info.project_type,
        target_sats=info.target_sats,
        start_time=info.start_time,
        end_time=info.end_time,
        expiry_time=info.expiry_time,
        penalty_days=info.penalty_days,
        penalty_threshold_sats=info.penalty_threshold_sats,
        raised_sats=money.raised_sats,
        raised_source=money.source,
        investor_count=money.investor_count,
        founder_spent_sats=money.founder_spent_sats,
        penalties_count=money.penalties_count,
        penalties_sats=money.penalties_sats,
        refunds_count=money.refunds_count,
        refunds_sats=money.refunds_sats,
        status=status_of(
            info,
            raised_sats=money.raised_sats,
            raised_source=money.source,
            stage_release_times=[s.release_time for s in info.stages],
            now=now,
        ),
        verified=not flags,
        flags=",".join(flags),
        content=event.content,
        stats_time=now if stats_read else None,
        synced_time=now,
    )


def _stage_rows(info: ProjectInfo, money: Funding, now: int) -> list[angor_store.StageRow]:
    return [
        angor_store.StageRow(
            index=i,
            release_time=stage.release_time,
            percent=str(stage.percent),
            amount_sats=money.stage_sats[i] if i < len(money.stage_sats) else 0,
            released=is_released(stage.release_time, now),
            spent_sats=money.stage_spent_sats[i] if i < len(money.stage_spent_sats) else 0,
        )
        for i, stage in enumerate(info.stages)
    ]
