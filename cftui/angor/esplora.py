"""Funding read straight from the chain through an esplora-style API (CONTRACT.md §4, §5).

All of a project's transactions touch its address: the creation tx (10001
sats + ``OP_RETURN <founderKey 33B> <keyType 2B> <nostrEventId 32B>``) and
every investment (the 1 % fee + ``OP_RETURN <investorKey 33B> [...]`` + one
taproot output per stage). "Raised" here is the sum of the stage outputs, i.e.
net of the fee (the app's and hub's figure); investors are distinct investor
keys. Stage spends are classified by the executed tapscript (``witness[-2]``),
whose keys are BIP-341 tweaked output keys (:mod:`cftui.angor.taproot`), as the
app's ``DiscoverUsedScript`` does:

* the founder leaf begins with a push of the founder's tweaked key: founder spent;
* the recover leaf (``<recovery key> CHECKSIGVERIFY <investor's tweaked key> ...``)
  is signed by investor and founder. Its output tells what it was (the app's
  ``GetRecoveryStatus``): a P2WSH output is the penalty script, so a penalty; any
  other is an unfunded release straight back to the investor, a refund. The
  input pays the output at its own position (SIGHASH_SINGLE);
* anything else is the investor's own exit (end of project, seeder secrets).

Each investment keeps what its investor took back (refunds and exits) and what
went to the penalty script, for the founder view's per-investor columns.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp

from cftui.angor.http import get_json
from cftui.angor.schedule import DynamicInfo, read_dynamic_info
from cftui.angor.taproot import tweaked_key
from cftui.domain import ESPLORA

RAISED_SOURCE: Final = ESPLORA
MAX_TXS = 1000  # the app's cap on an address history
CONCURRENCY = 8
FOUNDER, PENALTY, REFUND, EXIT = "founder", "penalty", "refund", "exit"
PUSH_32, OP_CHECKSIGVERIFY = "20", "ad"


@dataclass(slots=True)
class OnchainInvestment:
    txid: str
    investor_key: str
    is_seeder: bool
    stage_values: list[int]  # sats per stage output, in stage order
    block_height: int | None
    time: int | None
    dynamic: DynamicInfo | None = None  # Fund/Subscribe: the investment's own schedule
    recovered_sats: int = 0  # taken back by the investor: refunds and exits
    refunded_sats: int = 0  # of which refunds (unfunded releases)
    penalty_sats: int = 0  # recovered into the penalty script

    @property
    def amount_sats(self) -> int:
        return sum(self.stage_values)

    def record_spend(self, kind: str | None, value: int) -> None:
        if kind in (REFUND, EXIT):
            self.recovered_sats += value
        if kind == REFUND:
            self.refunded_sats += value
        elif kind == PENALTY:
            self.penalty_sats += value


@dataclass(slots=True)
class OnchainProject:
    creation_txid: str | None = None
    created_block: int | None = None
    founder_key: str | None = None
    nostr_event_id: str | None = None
    investments: list[OnchainInvestment] = field(default_factory=list)
    founder_spent_sats: int = 0
    stage_spent_sats: dict[int, int] = field(default_factory=dict)  # stage index -> taken by the founder
    penalties_sats: int = 0
    refunds_sats: int = 0
    penalty_txids: set[str] = field(default_factory=set)
    refund_txids: set[str] = field(default_factory=set)

    @property
    def penalties_count(self) -> int:
        return len(self.penalty_txids)

    @property
    def refunds_count(self) -> int:
        return len(self.refund_txids)

    def record_spend(self, kind: str | None, stage: int, value: int, txid: str) -> None:
        if kind == FOUNDER:
            self.founder_spent_sats += value
            self.stage_spent_sats[stage] = self.stage_spent_sats.get(stage, 0) + value
        elif kind == PENALTY:
            self.penalties_sats += value
            self.penalty_txids.add(txid)
        elif kind == REFUND:
            self.refunds_sats += value
            self.refund_txids.add(txid)

    @property
    def raised_sats(self) -> int:
        return sum(i.amount_sats for i in self.investments)

    @property
    def investor_count(self) -> int:
        return len({i.investor_key for i in self.investments})

    def stage_sats(self, index: int) -> int:
        return sum(i.stage_values[index] for i in self.investments if index < len(i.stage_values))


def op_return_pushes(script_hex: str) -> list[bytes] | None:
    """The data pushes of an ``OP_RETURN`` script, or ``None`` if it is not one."""
    try:
        script = bytes.fromhex(script_hex)
    except ValueError:
        return None
    if not script or script[0] != 0x6A:
        return None
    pushes, i = [], 1
    while i < len(script):
        op = script[i]
        if 1 <= op <= 0x4B:
            size, i = op, i + 1
        elif op == 0x4C and i + 1 < len(script):
            size, i = script[i + 1], i + 2
        else:
            return None
        if i + size > len(script):
            return None
        pushes.append(script[i : i + size])
        i += size
    return pushes


def _pays(vout: dict[str, Any], address: str) -> bool:
    return vout.get("scriptpubkey_address") == address


def read_creation(tx: dict[str, Any], address: str) -> tuple[str, str] | None:
    """(founderKey, nostrEventId) if ``tx`` creates the project at ``address``."""
    vouts = tx.get("vout") or []
    if len(vouts) < 2 or not _pays(vouts[0], address):
        return None
    pushes = op_return_pushes(vouts[1].get("scriptpubkey", ""))
    if not pushes or [len(p) for p in pushes] != [33, 2, 32]:
        return None
    return pushes[0].hex(), pushes[2].hex()


def read_investment(tx: dict[str, Any], address: str) -> OnchainInvestment | None:
    vouts = tx.get("vout") or []
    if len(vouts) < 3 or not _pays(vouts[0], address):
        return None
    pushes = op_return_pushes(vouts[1].get("scriptpubkey", ""))
    if not pushes or len(pushes[0]) != 33 or (len(pushes) > 1 and len(pushes[1]) == 2):
        return None
    stages = []
    for vout in vouts[2:]:
        if vout.get("scriptpubkey_type") != "v1_p2tr":
            break  # change follows the stage outputs
        stages.append(int(vout.get("value", 0)))
    status = tx.get("status") or {}
    dynamic = [read_dynamic_info(p) for p in pushes[1:] if len(p) == 4]
    return OnchainInvestment(
        txid=tx["txid"],
        investor_key=pushes[0].hex(),
        is_seeder=any(len(p) == 32 for p in pushes[1:]),
        stage_values=stages,
        block_height=status.get("block_height"),
        time=status.get("block_time"),
        dynamic=dynamic[0] if dynamic else None,
    )


class Esplora:
    def __init__(self, base_url: str, client: aiohttp.ClientSession) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.client = client
        self._limit = asyncio.Semaphore(CONCURRENCY)

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        async with self._limit:
            answer = await get_json(self.client, self.base + path, params)
        return answer[0] if answer else None

    async def address_txs(self, address: str) -> list[dict[str, Any]]:
        """The address's history, newest first, paged with ``after_txid`` until an empty page."""
        txs: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] | None = None
        while len(txs) < MAX_TXS:
            page = await self._get(f"/address/{address}/txs", params) or []
            fresh = [tx for tx in page if isinstance(tx, dict) and tx.get("txid") not in txs]
            if not fresh:
                break
            txs.update((tx["txid"], tx) for tx in fresh)
            params = {"after_txid": fresh[-1]["txid"]}
        return list(txs.values())

    async def project(self, address: str) -> OnchainProject:
        result = OnchainProject()
        for tx in reversed(await self.address_txs(address)):  # oldest first
            created = read_creation(tx, address)
            if created and result.creation_txid is None:
                result.creation_txid = tx["txid"]
                result.created_block = (tx.get("status") or {}).get("block_height")
                result.founder_key, result.nostr_event_id = created
                continue
            investment = read_investment(tx, address)
            if investment:
                result.investments.append(investment)
        if result.founder_key:
            await self._classify_spends(result, result.founder_key)
        return result

    async def _classify_spends(self, project: OnchainProject, founder_key: str) -> None:
        founder_prefix = founder_leaf_prefix(founder_key)
        spending: dict[str, dict[str, Any] | None] = {}
        outspends = await asyncio.gather(*(self._get(f"/tx/{i.txid}/outspends") for i in project.investments))
        for investment, spends in zip(project.investments, outspends, strict=True):
            for stage, value in enumerate(investment.stage_values):
                txid = _spender(spends, stage + 2)
                if txid is None:
                    continue
                if txid not in spending:
                    spending[txid] = await self._get(f"/tx/{txid}")
                kind = spend_kind(spending[txid], investment.txid, stage + 2, founder_prefix, investment.investor_key)
                project.record_spend(kind, stage, value, txid)
                if kind is None and len(_input(spending[txid], investment.txid, stage + 2)[1]) >= 2:
                    kind = EXIT  # a readable spend on neither the founder's nor the recover leaf
                investment.record_spend(kind, value)


def founder_leaf_prefix(founder_key: str) -> str:
    """How the founder leaf begins: a push of the founder's tweaked key, then ``OP_CHECKSIGVERIFY``."""
    return PUSH_32 + tweaked_key(founder_key) + OP_CHECKSIGVERIFY


def is_recover_leaf(script: str, investor_key: str) -> bool:
    """``<recovery key 32B> OP_CHECKSIGVERIFY <the investor's tweaked key 32B> ...``: the investor's own recover
    leaf."""
    return (len(script) > 134 and script[:2] == PUSH_32 and script[66:70] == OP_CHECKSIGVERIFY + PUSH_32
            and script[70:134] == tweaked_key(investor_key))


def spend_kind(tx: dict[str, Any] | None, prev_txid: str, prev_vout: int, founder_prefix: str,
               investor_key: str) -> str | None:
    """FOUNDER, PENALTY or REFUND for the input of ``tx`` that spends a stage output; None for an investor's own
    exit."""
    position, witness = _input(tx, prev_txid, prev_vout)
    if len(witness) < 2:
        return None
    leaf = str(witness[-2]).lower()
    if leaf.startswith(founder_prefix):
        return FOUNDER
    if not is_recover_leaf(leaf, investor_key):
        return None
    vouts = (tx or {}).get("vout") or []
    paid_to = str(vouts[position].get("scriptpubkey", "")) if 0 <= position < len(vouts) else ""
    return PENALTY if _is_p2wsh(paid_to) else REFUND


def _is_p2wsh(script: str) -> bool:
    return len(script) == 68 and script.startswith("0020")


def _spender(spends: Any, vout: int) -> str | None:
    """The txid that spent output ``vout``, from an ``/outspends`` answer."""
    spend = spends[vout] if isinstance(spends, list) and len(spends) > vout else None
    if not isinstance(spend, dict) or not spend.get("spent"):
        return None
    return spend.get("txid") or None


def _input(tx: dict[str, Any] | None, prev_txid: str, prev_vout: int) -> tuple[int, list[str]]:
    """The position and witness of the input of ``tx`` that spends ``prev_txid:prev_vout``."""
    for position, vin in enumerate((tx or {}).get("vin") or []):
        if vin.get("txid") == prev_txid and vin.get("vout") == prev_vout:
            return position, list(vin.get("witness") or [])
    return -1, []
