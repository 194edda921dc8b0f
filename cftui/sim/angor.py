"""The demo's Angor simulator: a Nostr relay, the Angor indexer API and an esplora API on loopback.

Usage (the demo / tests)::

    sim = AngorSimulator(seed=7, network="Angornet")
    relay_url, indexer_url = await sim.start()        # or: with AngorSimThread(sim) as (relay_url, indexer_url):
    config = AngorConfig(enabled=True, network="Angornet", relays=(relay_url,), indexer_url=indexer_url)
    ...
    await sim.stop()

or mount it in another aiohttp app with :meth:`AngorSimulator.add_routes`
(relay at ``/nostr``, APIs under ``/api/v1``).

The relay is a minimal NIP-01 relay: REQ (ids, authors, kinds, ``#x`` tags,
since, until, limit), EOSE, CLOSE; EVENT from clients is refused (read-only).
The indexer follows the mempool fork [M]: projects newest first with offset
from the newest (or ``pagination="B"`` for blockcore-indexer's walk), ``offset=``
empty is a 400, amounts gross (fee × 100). ``indexer_api=False`` serves only
the esplora endpoints, as most Angor hosts do today.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from aiohttp import WSMsgType, web

from cftui import clock
from cftui.angor.events import NostrEvent
from cftui.sim.angor_data import FOUNDER, PENALTY, REFUND, AngorWorld, SimInvestment, SimProject

RELAY_PATH = "/nostr"
ESPLORA_PAGE = 25  # esplora's chain page size
MAX_EVENTS_PER_REQ = 5000


def matches(event: NostrEvent, flt: dict[str, Any]) -> bool:
    if "ids" in flt and event.id not in flt["ids"]:
        return False
    if "authors" in flt and event.pubkey not in flt["authors"]:
        return False
    if "kinds" in flt and event.kind not in flt["kinds"]:
        return False
    if "since" in flt and event.created_at < flt["since"]:
        return False
    if "until" in flt and event.created_at > flt["until"]:
        return False
    for key, values in flt.items():
        if key.startswith("#") and not any(t[0] == key[1:] and t[1] in values for t in event.tags if len(t) > 1):
            return False
    return True


class AngorSimulator:
    def __init__(
        self,
        seed: int = 7,
        network: str = "Angornet",
        *,
        now: int | None = None,
        extra_projects: int = 0,
        indexer_api: bool = True,
        pagination: str = "M",
    ) -> None:
        self.world = AngorWorld(seed, network, now if now is not None else clock.now_s(), extra_projects)
        self.network = network
        self.indexer_api = indexer_api
        self.pagination = pagination
        self.events = sorted(self.world.relay_events(), key=lambda e: (-e.created_at, e.id))
        self.by_id = {p.project_id: p for p in self.world.projects}
        self.by_address = {self.world.address(p): p for p in self.world.projects}
        self.requests: list[str] = []  # path?query of every API request, for tests
        self.txs_of = {p.project_id: self._build_txs(p) for p in self.world.projects}  # newest first
        self.tx_index: dict[str, tuple[dict[str, Any], SimProject | None]] = {
            tx["txid"]: (tx, p) for p in self.world.projects for tx in self.txs_of[p.project_id]
        }
        self.tx_index.update((txid, (tx, None)) for txid, tx in self.world.spending_txs.items())
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------ lifecycle

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(RELAY_PATH, self._relay)
        app.router.add_get("/api/v1/query/Angor/projects", self._projects)
        app.router.add_get("/api/v1/query/Angor/projects/{pid}", self._project)
        app.router.add_get("/api/v1/query/Angor/projects/{pid}/stats", self._stats)
        app.router.add_get("/api/v1/query/Angor/projects/{pid}/investments", self._investments)
        app.router.add_get("/api/v1/address/{address}/txs", self._address_txs)
        app.router.add_get("/api/v1/tx/{txid}/outspends", self._outspends)
        app.router.add_get("/api/v1/tx/{txid}", self._tx)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, str]:
        """Serve on ``host:port`` (0 = a free port); return (relay_url, indexer_url)."""
        app = web.Application()
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        return f"ws://{host}:{bound}{RELAY_PATH}", f"http://{host}:{bound}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------ relay

    async def _relay(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            try:
                message = json.loads(msg.data)
                verb = message[0]
            except (ValueError, IndexError, KeyError, TypeError):
                await ws.send_str(json.dumps(["NOTICE", "error: could not parse the message"]))
                continue
            if verb == "REQ" and len(message) >= 3:
                await self._serve_req(ws, message[1], message[2:])
            elif verb == "EVENT":
                event_id = message[1].get("id", "") if len(message) > 1 and isinstance(message[1], dict) else ""
                await ws.send_str(json.dumps(["OK", event_id, False, "blocked: this simulator is read-only"]))
            elif verb != "CLOSE":
                await ws.send_str(json.dumps(["NOTICE", f"error: unknown message {verb!r}"]))
        return ws

    async def _serve_req(self, ws: web.WebSocketResponse, sub_id: str, filters: list[Any]) -> None:
        sent: set[str] = set()
        for flt in filters:
            if not isinstance(flt, dict):
                continue
            limit = min(int(flt.get("limit", MAX_EVENTS_PER_REQ)), MAX_EVENTS_PER_REQ)
            found = [e for e in self.events if matches(e, flt)][:limit]
            for event in found:
                if event.id not in sent:
                    sent.add(event.id)
                    await ws.send_str(json.dumps(["EVENT", sub_id, event.to_json()]))
        await ws.send_str(json.dumps(["EOSE", sub_id]))

    # ------------------------------------------------------------ indexer

    def _indexed(self) -> list[SimProject]:
        """Projects with a creation tx, newest block first."""
        return sorted(self.world.projects, key=lambda p: -p.created_block)

    def _project_json(self, project: SimProject, *, with_count: bool = False) -> dict[str, Any]:
        body = {
            "founderKey": project.founder_key,
            "nostrEventId": project.onchain_event_id,
            "projectIdentifier": project.project_id,
            "createdOnBlock": project.created_block,
            "trxId": project.creation_txid,
        }
        if with_count:
            body["totalInvestmentsCount"] = len(self._indexed_investments(project))
        return body

    def _paging(self, request: web.Request, default_limit: int = 10) -> tuple[int, int | None] | web.Response:
        if not self.indexer_api:
            raise web.HTTPNotFound()
        try:
            limit = int(request.query.get("limit", default_limit))
            offset = int(request.query["offset"]) if "offset" in request.query else None
        except ValueError:  # [M] on `offset=` (empty): parseInt('') is NaN, reported under `limit`
            return _validation_error("limit")
        if not 1 <= limit <= 50 or (offset is not None and offset < 0):
            return _validation_error("limit" if not 1 <= limit <= 50 else "offset")
        return limit, offset

    async def _projects(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        paging = self._paging(request)
        if isinstance(paging, web.Response):
            return paging
        limit, offset = paging
        projects = self._indexed()
        total = len(projects)
        if self.pagination == "B":  # oldest-first offsets; no offset = the newest page; each page newest first
            oldest_first = projects[::-1]
            skip = offset if offset is not None else max(total - limit, 0)
            page = oldest_first[skip : skip + limit][::-1]
        else:
            skip = offset or 0
            page = projects[skip : skip + limit]
        headers = {"Pagination-Total": str(total), "Pagination-Limit": str(limit), "Pagination-Offset": str(skip)}
        return web.json_response([self._project_json(p) for p in page], headers=headers)

    def _find(self, request: web.Request) -> SimProject:
        self.requests.append(request.path_qs)
        project = self.by_id.get(request.match_info["pid"])
        if not self.indexer_api or project is None:
            raise web.HTTPNotFound(text=json.dumps({"type": "about:blank", "title": "Not Found", "status": 404}),
                                   content_type="application/json")
        return project

    async def _project(self, request: web.Request) -> web.Response:
        return web.json_response(self._project_json(self._find(request), with_count=True))

    def _indexed_investments(self, project: SimProject) -> list[SimInvestment]:
        """[M] validates an investment's OP_RETURN as <33B>[<32B>]: the 4-byte schedule push of a
        Fund/Subscribe investment fails it, so none of theirs are indexed (contract §1.5)."""
        if self.pagination == "M" and project.is_dynamic:
            return []
        return project.investments

    async def _stats(self, request: web.Request) -> web.Response:
        project = self._find(request)
        investments = self._indexed_investments(project)
        # [M] counts every 4-item-witness spend as a penalty: refunds (unfunded releases) included.
        founder = sum(inv.spent_sats(FOUNDER) for inv in investments)
        penalty = sum(inv.spent_sats(PENALTY) + inv.spent_sats(REFUND) for inv in investments)
        penalty_txs = {txid for inv in investments for who, txid in inv.spends.values() if who in (PENALTY, REFUND)}
        return web.json_response({
            "investorCount": len(investments),  # [M]: a count of txs
            "amountInvested": sum(i.fee_sats * 100 for i in investments),  # [M]: fee output × 100
            "amountSpentSoFarByFounder": founder,
            "amountInPenalties": penalty,
            "countInPenalties": len(penalty_txs),
            "amountSpentSoFarByInvestorNoPenalty": 0,
        })

    async def _investments(self, request: web.Request) -> web.Response:
        project = self._find(request)
        paging = self._paging(request)
        if isinstance(paging, web.Response):
            return paging
        limit, offset = paging
        ascending = self._indexed_investments(project)
        if "limit" in request.query and offset is None:  # [M]: the newest `limit`, ascending
            page = ascending[-limit:]
        else:
            page = ascending[(offset or 0) : (offset or 0) + limit]
        return web.json_response([
            {"investorPublicKey": i.investor_key, "totalAmount": i.fee_sats * 100, "transactionId": i.txid,
             "hashOfSecret": "ab" * 32 if i.seeder else "", "isSeeder": i.seeder}
            for i in page
        ])

    # ------------------------------------------------------------ esplora

    def _build_txs(self, project: SimProject) -> list[dict[str, Any]]:
        txs = [self.world.creation_tx(project)] + [self.world.investment_tx(project, i) for i in project.investments]
        return sorted(txs, key=lambda t: -t["status"]["block_height"])

    async def _address_txs(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        project = self.by_address.get(request.match_info["address"])
        txs = self.txs_of[project.project_id] if project else []
        after = request.query.get("after_txid")
        if after:
            ids = [t["txid"] for t in txs]
            txs = txs[ids.index(after) + 1 :] if after in ids else []
        return web.json_response(txs[:ESPLORA_PAGE])

    async def _tx(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        found = self.tx_index.get(request.match_info["txid"])
        if not found:
            raise web.HTTPNotFound(text="Transaction not found")
        return web.json_response(found[0])

    async def _outspends(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        found = self.tx_index.get(request.match_info["txid"])
        if not found:
            raise web.HTTPNotFound(text="Transaction not found")
        tx, project = found
        investment = next((i for i in (project.investments if project else []) if i.txid == tx["txid"]), None)
        spends = []
        for vout in range(len(tx["vout"])):
            spend = investment.spends.get(vout - 2) if investment else None
            spends.append({"spent": True, "txid": spend[1], "vin": self._vin(spend[1], tx["txid"], vout)} if spend
                          else {"spent": False})
        return web.json_response(spends)

    def _vin(self, spending_txid: str, txid: str, vout: int) -> int:
        """The position of the input of ``spending_txid`` that spends ``txid:vout``."""
        vins = self.world.spending_txs[spending_txid]["vin"]
        return next(n for n, vin in enumerate(vins) if (vin["txid"], vin["vout"]) == (txid, vout))


def _validation_error(field: str) -> web.Response:
    return web.json_response(
        {"errors": {field: ["The value is not valid."]}, "type": "about:blank",
         "title": "One or more validation errors occurred.", "status": 400},
        status=400,
    )


class AngorSimThread:
    """Run an :class:`AngorSimulator` on its own event loop thread (for the CLI demo and sync tests)."""

    def __init__(self, sim: AngorSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = sim
        self.host, self.port = host, port
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="angor-sim", daemon=True)

    def __enter__(self) -> tuple[str, str]:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.sim.start(self.host, self.port), self.loop).result(30)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
