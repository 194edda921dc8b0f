"""The Angor simulator's world: projects of every status, built like real ones.

Keys are real secp256k1 keys drawn from the seed; project ids derive from the
founder keys through the network's Angor root key; every ProjectInfo is a
signed Nostr event; the chain holds creation and investment transactions in
esplora's JSON shape, with founder and penalty spends of stage outputs. A few
deliberately bad entries exercise verification (see :data:`BAD_EVENTS` and the
projects whose ``expect_flags`` is set).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import bech32
from coincurve import PrivateKey

from cftui.angor import events, identity
from cftui.sim.config import digest

DAY = 86_400
MIN_DATE = -62135596800  # C#'s DateTime.MinValue as unix seconds: "no end date"
BLOCK0_TIME = 1_700_000_000
DYNAMIC_EPOCH = 1_735_689_600  # 2025-01-01 UTC: Fund/Subscribe investment starts count days from it
NAMES = ("Solar Mesh", "Open Seeds", "River Lab", "Mint Relay", "Pixel Forge", "Cold Harbor", "Tidal Books",
         "Orbit Garden", "Quiet Radio", "Stone Bakery", "Lumen Kit", "Maple Node")


def secret(*parts: object) -> bytes:
    # blake2b output is below the curve order with overwhelming probability; coincurve refuses the rest.
    return digest("angor-key", *parts)


def pubkey(secret_key: bytes) -> str:
    return PrivateKey(secret_key).public_key.format(compressed=True).hex()


def txid_of(*parts: object) -> str:
    return hashlib.sha256(digest("tx", *parts)).hexdigest()


@dataclass
class SimInvestment:
    investor_key: str
    gross_sats: int
    txid: str
    block: int
    stage_values: list[int]
    seeder: bool = False
    # stage index -> ("founder" | "penalty" | "investor", spending txid)
    spends: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def fee_sats(self) -> int:
        return self.gross_sats // 100


@dataclass
class SimProject:
    label: str  # the status it is built to have, or the defect it carries
    info: dict[str, Any]  # ProjectInfo JSON
    event: events.NostrEvent  # the published kind-3030 event
    onchain_event_id: str  # what the creation tx commits
    founder_secret: bytes
    created_block: int
    creation_txid: str
    investments: list[SimInvestment] = field(default_factory=list)
    expect_flags: tuple[str, ...] = ()
    extra_events: list[events.NostrEvent] = field(default_factory=list)  # profile, angor:* documents

    @property
    def project_id(self) -> str:
        return self.info["projectIdentifier"]

    @property
    def is_dynamic(self) -> bool:
        """A Fund or Subscribe project: each investment carries its own stage schedule."""
        return self.info.get("projectType", 0) != 0

    @property
    def founder_key(self) -> str:
        return self.info["founderKey"]

    @property
    def net_sats(self) -> int:
        return sum(sum(i.stage_values) for i in self.investments)

    @property
    def gross_sats(self) -> int:
        return sum(i.fee_sats * 100 for i in self.investments)


# Shapes of the catalogue: (label, type, start, end, stages (days from now), target, raised share %, released).
_SHAPES = [
    ("upcoming", 0, 10, 40, (50, 80), 2_000_000, 0),
    ("funding", 0, -10, 20, (30, 60, 90), 5_000_000, 40),
    ("funded", 0, -60, -5, (10, 40), 3_000_000, 120),
    ("failed", 0, -60, -5, (10, 40), 8_000_000, 30),
    ("active", 0, -90, -40, (-20, 20, 60), 4_000_000, 110),
    ("completed", 0, -200, -150, (-120, -90, -60), 2_000_000, 150),
    ("funding", 1, -5, None, (), 0, 100),  # Fund: open-ended, no target
    ("funding", 2, -3, None, (), 0, 100),  # Subscribe
]


def investment_start(project: SimProject, inv: SimInvestment) -> int:
    """A Fund/Subscribe investment's schedule start (a UTC midnight: the chain carries a day number):
    the project's start day, then a day later per earlier investment."""
    return project.info["startDate"] // DAY * DAY + project.investments.index(inv) * DAY


def dynamic_info(project: SimProject, inv: SimInvestment) -> bytes:
    """The 4-byte push of a Fund/Subscribe investment (contract §4.1): start day, pattern, stage count."""
    pattern = project.info["dynamicStagePatterns"][0]
    days = (investment_start(project, inv) - DYNAMIC_EPOCH) // DAY
    return days.to_bytes(2, "little") + bytes([pattern["patternId"], 0])  # 0: the pattern's own stage count


class AngorWorld:
    """Everything the simulator serves, a pure function of (seed, network, now, extra)."""

    def __init__(self, seed: int, network: str, now: int, extra: int = 0) -> None:
        self.seed = seed
        self.network = network
        self.now = now
        self.projects: list[SimProject] = []
        self.bad_events: list[tuple[str, events.NostrEvent]] = []  # (what is wrong, event)
        for n, shape in enumerate(_SHAPES):
            self.projects.append(self._build(n, *shape))
        self.projects.append(self._event_differs(len(self.projects)))
        self.projects.append(self._id_mismatch(len(self.projects)))
        for n in range(extra):
            shape = _SHAPES[n % 6]
            self.projects.append(self._build(1000 + n, *shape))
        self._bad_events()
        self.spending_txs = self._spending_txs()

    # ------------------------------------------------------------ building

    def _info(self, n: int, founder_secret: bytes, nostr_secret: bytes, ptype: int, start: int, end: int | None,
              stages: tuple[int, ...], target: int) -> dict[str, Any]:
        founder_key = pubkey(founder_secret)
        info: dict[str, Any] = {
            "founderKey": founder_key,
            "founderRecoveryKey": pubkey(secret(self.seed, "recovery", n)),
            "projectIdentifier": identity.derive_project_id(founder_key, self.network),
            "nostrPubKey": events.xonly_pubkey(nostr_secret),
            "startDate": self.now + start * DAY,
            "endDate": self.now + end * DAY if end is not None else MIN_DATE,
            "penaltyDays": 0 if ptype == 2 else 30,
            "expiryDate": self.now + ((max(stages) + 60) if stages else (start + 180)) * DAY,
            "targetAmount": target,
            "stages": [],
            "projectSeeders": {"threshold": 0, "secretHashes": []},
            "networkName": self.network,
            "version": 2,
            "projectType": ptype,
            "dynamicStagePatterns": [] if ptype == 0 else [
                {"patternId": 2, "name": "Monthly x3", "description": "", "frequency": 2, "stageCount": 3,
                 "payoutDayType": 0, "payoutDay": 0, "amount": 100_000 if ptype == 2 else None}
            ],
            # C#'s computed getters that the serializer emits; readers ignore them.
            "allowDynamicStages": ptype != 0,
            "requiresInvestmentWindow": ptype == 0,
        }
        if stages:
            share = Decimal(100) / len(stages)
            percents = [share.quantize(Decimal("0.01")) for _ in stages[:-1]]
            percents.append(Decimal(100) - sum(percents))
            info["stages"] = [{"amountToRelease": p, "releaseDate": self.now + d * DAY}
                              for p, d in zip(percents, stages, strict=True)]
        return info

    def _build(self, n: int, label: str, ptype: int, start: int, end: int | None, stages: tuple[int, ...],
               target: int, raised_pct: int, *, publish: bool = True) -> SimProject:
        founder_secret = secret(self.seed, "founder", n)
        nostr_secret = secret(self.seed, "nostr", n)
        info = self._info(n, founder_secret, nostr_secret, ptype, start, end, stages, target)
        event = self._sign(nostr_secret, info, created_at=self.now + (start - 1) * DAY + n)
        block = 100 + n * 3
        project = SimProject(label, info, event, event.id, founder_secret, block, txid_of(self.seed, "create", n))
        self._invest(project, n, raised_pct)
        project.extra_events = self._profile(n, nostr_secret, event.created_at)
        return project

    def _sign(self, nostr_secret: bytes, info: dict[str, Any], *, created_at: int) -> events.NostrEvent:
        content = json.dumps(info, default=str, separators=(",", ":"))
        # json writes Decimal (via str) as a string; the C# writer emits stage percentages as numbers.
        content = re.sub(r'"amountToRelease":"([0-9.]+)"', r'"amountToRelease":\1', content)
        tags = [["d", info["projectIdentifier"]]]
        return events.sign(nostr_secret, 3030, content, created_at=created_at, tags=tags)

    def _invest(self, project: SimProject, n: int, raised_pct: int) -> None:
        info = project.info
        target = info["targetAmount"] or 1_000_000
        goal = target * raised_pct // 100
        stages = info["stages"]
        count = 0
        while project.gross_sats < goal or (raised_pct and count == 0):
            gross = (goal // 3 // 100 + 1) * 100 + count * 1000  # whole hundreds: fee×100 is exact
            net = gross - gross // 100  # stages hold 99 % of gross (since 2025-07)
            if stages:
                parts = [net * int(Decimal(s["amountToRelease"]) * 100) // 10_000 for s in stages[:-1]]
                values = [*parts, net - sum(parts)]
            else:
                values = [net // 3, net // 3, net - 2 * (net // 3)]
            project.investments.append(SimInvestment(
                investor_key=pubkey(secret(self.seed, "investor", n, count)),
                gross_sats=gross, txid=txid_of(self.seed, "invest", n, count),
                block=project.created_block + 1 + count, stage_values=values, seeder=count == 0 and bool(stages),
            ))
            count += 1
        for inv_no, inv in enumerate(project.investments):
            for i, stage in enumerate(stages):
                if stage["releaseDate"] <= self.now:
                    inv.spends[i] = ("founder", txid_of(self.seed, "spend", n, i))
            # In the active project, the last investor took back the unreleased stages via the penalty path.
            if project.label == "active" and inv_no == len(project.investments) - 1:
                for i, stage in enumerate(stages):
                    if stage["releaseDate"] > self.now:
                        inv.spends[i] = ("penalty", txid_of(self.seed, "penalty", n, inv_no))

    def _profile(self, n: int, nostr_secret: bytes, created_at: int) -> list[events.NostrEvent]:
        name = f"{NAMES[n % len(NAMES)]}" + (f" {n}" if n >= len(NAMES) else "")
        slug = name.lower().replace(" ", "")
        metadata = {"name": name, "about": f"{name}: a simulated Angor project.", "picture": f"https://example.org/{slug}.png",
                    "banner": f"https://example.org/{slug}-banner.png", "website": f"https://example.org/{slug}",
                    "nip05": f"{slug}@example.org", "lud16": f"{slug}@example.org"}
        faq = [{"question": "Is this real?", "answer": "No, it is the cftui demo."}]
        return [
            events.sign(nostr_secret, 0, json.dumps(metadata), created_at=created_at + 1),
            events.sign(nostr_secret, 30078, f"{name} builds things in the open.", created_at=created_at + 2,
                        tags=[["d", "angor:project"]]),
            events.sign(nostr_secret, 30078, json.dumps(faq), created_at=created_at + 3, tags=[["d", "angor:faq"]]),
        ]

    def _event_differs(self, n: int) -> SimProject:
        """The chain commits an event that was never published; relays carry another one."""
        project = self._build(n, "funding", 0, -10, 20, (30, 60), 3_000_000, 20)
        project.label = "event-differs"
        project.onchain_event_id = hashlib.sha256(b"never published" + project.event.id.encode()).hexdigest()
        project.expect_flags = ("event-differs",)
        return project

    def _id_mismatch(self, n: int) -> SimProject:
        """A ProjectInfo whose projectIdentifier is not derived from its founderKey."""
        project = self._build(n, "funding", 0, -10, 20, (30, 60), 3_000_000, 20)
        nostr_secret = secret(self.seed, "nostr", n)
        other = identity.derive_project_id(pubkey(secret(self.seed, "someone else", n)), self.network)
        project.info["projectIdentifier"] = other
        project.event = self._sign(nostr_secret, project.info, created_at=project.event.created_at)
        project.onchain_event_id = project.event.id
        project.label = "id-mismatch"
        project.expect_flags = ("id-mismatch",)
        return project

    def _bad_events(self) -> None:
        base = self.projects[1]
        # A changed ProjectInfo under the project's key, signed by someone else.
        raised_target = dict(base.info, targetAmount=base.info["targetAmount"] * 10)
        impostor = events.sign(secret(self.seed, "impostor"), 3030, json.dumps(raised_target, default=str),
                               created_at=base.event.created_at + 60)
        forged_id = events.compute_id(base.event.pubkey, impostor.created_at, 3030, [], impostor.content)
        forged = events.NostrEvent(forged_id, base.event.pubkey, impostor.created_at, 3030, [], impostor.content, impostor.sig)
        wrong_id = events.NostrEvent(**{**base.event.to_json(), "id": hashlib.sha256(b"wrong").hexdigest()})
        other_net = dict(base.info, networkName="Main" if self.network != "Main" else "Angornet")
        key = secret(self.seed, "nostr", "bad")
        self.bad_events = [
            ("bad signature", forged),
            ("wrong event id", wrong_id),
            ("wrong network", events.sign(key, 3030, json.dumps(other_net, default=str), created_at=self.now - DAY)),
            ("malformed ProjectInfo JSON", events.sign(key, 3030, "{not json", created_at=self.now - DAY + 1)),
            ("not a ProjectInfo (content is not a JSON object)",
             events.sign(key, 3030, "hello from another app", created_at=self.now - DAY + 2)),
        ]

    # ------------------------------------------------------------ what is served

    def relay_events(self) -> list[events.NostrEvent]:
        out = [e for _, e in self.bad_events]
        for project in self.projects:
            out.append(project.event)
            out.extend(project.extra_events)
        return out

    def address(self, project: SimProject) -> str:
        return identity.project_address(project.project_id, self.network)

    def _program(self, project: SimProject) -> str:
        _, program = bech32.decode(identity.PROJECT_HRP, project.project_id)
        return bytes(program).hex()

    def creation_tx(self, project: SimProject) -> dict[str, Any]:
        op_return = "6a21" + project.founder_key + "020100" + "20" + project.onchain_event_id
        return self._tx(project.creation_txid, project.created_block, [
            self._out(10_001, "0014" + self._program(project), "v0_p2wpkh", self.address(project)),
            self._out(0, op_return, "op_return"),
            self._out(50_000, "0014" + "11" * 20, "v0_p2wpkh", None),
        ])

    def investment_tx(self, project: SimProject, inv: SimInvestment) -> dict[str, Any]:
        op_return = "6a21" + inv.investor_key + ("20" + "ab" * 32 if inv.seeder else "")
        if project.is_dynamic:
            op_return += "04" + dynamic_info(project, inv).hex()
        outs = [self._out(inv.fee_sats, "0014" + self._program(project), "v0_p2wpkh", self.address(project)),
                self._out(0, op_return, "op_return")]
        outs += [self._out(v, "5120" + txid_of(inv.txid, i), "v1_p2tr", None) for i, v in enumerate(inv.stage_values)]
        outs.append(self._out(12_345, "0014" + "22" * 20, "v0_p2wpkh", None))
        return self._tx(inv.txid, inv.block, outs)

    def _tx(self, txid: str, block: int, vout: list[dict[str, Any]], vin: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"txid": txid, "version": 2, "locktime": 0, "vin": vin or [], "vout": vout,
                "status": {"confirmed": True, "block_height": block, "block_time": BLOCK0_TIME + block * 600}}

    @staticmethod
    def _out(value: int, script: str, kind: str, address: str | None = None) -> dict[str, Any]:
        out = {"scriptpubkey": script, "scriptpubkey_type": kind, "value": value}
        if address:
            out["scriptpubkey_address"] = address
        return out

    def _spending_txs(self) -> dict[str, dict[str, Any]]:
        txs: dict[str, dict[str, Any]] = {}
        for project in self.projects:
            xonly = project.founder_key[2:]
            for inv in project.investments:
                for stage, (who, txid) in inv.spends.items():
                    release = project.info["stages"][stage]["releaseDate"]
                    if who == "founder":  # <founder x-only> CHECKSIGVERIFY <release> CLTV
                        witness = ["aa" * 64, "20" + xonly + "ad04" + release.to_bytes(4, "little").hex() + "b1", "c0" + "33" * 32]
                    else:  # recovery: founder + investor signatures
                        witness = ["aa" * 64, "bb" * 64, "21" + project.info["founderRecoveryKey"] + "ad21" + inv.investor_key + "ac",
                                   "c0" + "44" * 32]
                    tx = txs.setdefault(txid, self._tx(txid, project.created_block + 50, [
                        self._out(1000, "0014" + "33" * 20, "v0_p2wpkh", None)]))
                    tx["vin"].append({"txid": inv.txid, "vout": stage + 2, "witness": witness})
        return txs
