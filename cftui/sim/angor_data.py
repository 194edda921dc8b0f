"""The Angor simulator's world: projects of every status, built like real ones.

Keys are real secp256k1 keys drawn from the seed; project ids derive from the
founder keys through the network's Angor root key; every ProjectInfo is a
signed Nostr event; the chain holds creation and investment transactions in
esplora's JSON shape, with the spends of stage outputs built as the Angor app
builds them (:mod:`cftui.sim.angor_scripts`): the founder's through the founder
leaf, an investor's exit through the recovery leaf, either to the penalty
script (a penalty) or, from a failed project, straight back to the investor (a
refund, the app's "unfunded release"). ProjectInfo carries ``networkName`` as
real events do: missing on legacy Angornet projects, and in the other
spellings the app accepts. A few deliberately bad entries exercise
verification (see :data:`BAD_EVENTS` and the projects whose ``expect_flags`` is set).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import bech32
from coincurve import PrivateKey

from cftui.angor import events, identity
from cftui.sim import angor_scripts as scripts
from cftui.sim.config import digest

DAY = 86_400
MIN_DATE = -62135596800  # C#'s DateTime.MinValue as unix seconds: "no end date"
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


FOUNDER, PENALTY, REFUND = "founder", "penalty", "refund"


@dataclass
class SimInvestment:
    investor_secret: bytes
    gross_sats: int
    txid: str
    block: int
    stage_values: list[int]
    seeder: bool = False
    # stage index -> (FOUNDER | PENALTY | REFUND, spending txid)
    spends: dict[int, tuple[str, str]] = field(default_factory=dict)
    investor_key: str = field(init=False)  # the 33-byte key the investment's OP_RETURN carries

    def __post_init__(self) -> None:
        self.investor_key = pubkey(self.investor_secret)

    def spent_sats(self, kind: str) -> int:
        return sum(self.stage_values[stage] for stage, (who, _) in self.spends.items() if who == kind)

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
    recovery_secret: bytes
    created_block: int
    creation_txid: str
    investments: list[SimInvestment] = field(default_factory=list)
    expect_flags: tuple[str, ...] = ()
    extra_events: list[events.NostrEvent] = field(default_factory=list)  # profile, angor:* documents

    @property
    def project_id(self) -> str:
        project_id: str = self.info["projectIdentifier"]  # set by ProjectBuilder, always a string
        return project_id

    @property
    def is_dynamic(self) -> bool:
        """A Fund or Subscribe project: each investment carries its own stage schedule."""
        return bool(self.info.get("projectType", 0) != 0)

    @property
    def founder_key(self) -> str:
        founder_key: str = self.info["founderKey"]  # set by ProjectBuilder, always a string
        return founder_key

    @property
    def net_sats(self) -> int:
        return sum(sum(i.stage_values) for i in self.investments)

    @property
    def gross_sats(self) -> int:
        return sum(i.fee_sats * 100 for i in self.investments)

    def spent_sats(self, kind: str) -> int:
        return sum(i.spent_sats(kind) for i in self.investments)

    def spend_count(self, kind: str) -> int:
        """Transactions that spent stage outputs this way."""
        return len({txid for i in self.investments for who, txid in i.spends.values() if who == kind})


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
    # Gross (fee × 100) just reaches the target, the stage outputs (net of the 1 % fee) do not: the app
    # compares the net sum (FullProjectExtensions.HasReachedTarget over the stage outputs), so it failed.
    ("failed", 0, -60, -5, (10, 40), 3_000_000, 100),
]


# How ProjectInfo names the network, by catalogue number (the rest use the canonical name). The app wrote
# no networkName before 2026-03-19 (angor a1ae989eb), so every older Angornet project has none; readers also
# accept other spellings (InvestView.razor NormalizeNetworkName) and any letter case (LatestProjects.cs).
LEGACY = None
NETWORK_NAMES: dict[str, dict[int, str | None]] = {
    "Angornet": {2: LEGACY, 5: LEGACY, 3: "angornet", 4: "testnet", 0: "test"},
    "Main": {2: "main", 3: "MAINNET", 4: "bitcoin"},
}


def stage_values(gross: int, stages: list[dict[str, Any]]) -> list[int]:
    """An investment's stage outputs (InvestmentTransactionBuilder.cs): the 1 % fee comes off the gross,
    each stage but the last gets ``Convert.ToInt64(net * percent / 100)`` (rounded half to even), the
    last the remainder; a Fund/Subscribe investment splits equally over its pattern's (here 3) stages."""
    net = gross - gross // 100
    percents = [Decimal(s["amountToRelease"]) for s in stages] or [Decimal(100) / 3] * 3
    parts = [int((net * (p / 100)).to_integral_value(ROUND_HALF_EVEN)) for p in percents[:-1]]
    return [*parts, net - sum(parts)]


def investment_start(project: SimProject, inv: SimInvestment) -> int:
    """A Fund/Subscribe investment's schedule start (a UTC midnight: the chain carries a day number):
    the project's start day, then a day later per earlier investment."""
    start: int = project.info["startDate"]  # unix seconds, set by ProjectBuilder
    return start // DAY * DAY + project.investments.index(inv) * DAY


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
            "networkName": NETWORK_NAMES.get(self.network, {}).get(n, self.network),
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
        if info["networkName"] is LEGACY:
            del info["networkName"]  # the C# serializer omits nulls
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
        project = SimProject(label, info, event, event.id, founder_secret, secret(self.seed, "recovery", n), block,
                             txid_of(self.seed, "create", n))
        self._invest(project, n, raised_pct)
        project.extra_events = self._profile(n, nostr_secret, event.created_at)
        return project

    def _sign(self, nostr_secret: bytes, info: dict[str, Any], *, created_at: int) -> events.NostrEvent:
        content = json.dumps(info, default=str, separators=(",", ":"))
        # json writes Decimal (via str) as a string; the C# writer emits stage percentages as numbers.
        content = re.sub(r'"amountToRelease":"([0-9.]+)"', r'"amountToRelease":\1', content)
        # The d tag came later (angor c2b5ca3, 2026-05-06) than networkName: legacy events have neither.
        tags = [["d", info["projectIdentifier"]]] if "networkName" in info else []
        return events.sign(nostr_secret, 3030, content, created_at=created_at, tags=tags)

    def _invest(self, project: SimProject, n: int, raised_pct: int) -> None:
        info = project.info
        target = info["targetAmount"] or 1_000_000
        goal = target * raised_pct // 100
        stages = info["stages"]
        count = 0
        while project.gross_sats < goal or (raised_pct and count == 0):
            gross = (goal // 3 // 100 + 1) * 100 + count * 1000  # whole hundreds: fee×100 is exact
            project.investments.append(SimInvestment(
                investor_secret=secret(self.seed, "investor", n, count),
                gross_sats=gross, txid=txid_of(self.seed, "invest", n, count),
                block=project.created_block + 1 + count, stage_values=stage_values(gross, stages),
                seeder=count == 0 and bool(stages),
            ))
            count += 1
        self._spend(project, n)

    def _spend(self, project: SimProject, n: int) -> None:
        """Who took each stage output: the founder once it is released; in the active project the last
        investor recovered the rest (a penalty); in the failed one the first two took theirs back (refunds)."""
        stages = project.info["stages"]
        last = len(project.investments) - 1
        for inv_no, inv in enumerate(project.investments):
            for i, stage in enumerate(stages):
                if stage["releaseDate"] <= self.now:
                    inv.spends[i] = (FOUNDER, txid_of(self.seed, "spend", n, i))
                elif project.label == "active" and inv_no == last:
                    inv.spends[i] = (PENALTY, txid_of(self.seed, "penalty", n, inv_no))
                elif project.label == "failed" and inv_no < 2:
                    inv.spends[i] = (REFUND, txid_of(self.seed, "refund", n, inv_no))

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
        forged = events.NostrEvent(
            forged_id, base.event.pubkey, impostor.created_at, 3030, [], impostor.content, impostor.sig
        )
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
        if program is None:  # bech32 answers (None, None) for an address it cannot decode
            raise ValueError(f"not a project address: {project.project_id}")
        return bytes(program).hex()

    def creation_tx(self, project: SimProject) -> dict[str, Any]:
        op_return = "6a21" + project.founder_key + "020100" + "20" + project.onchain_event_id
        created = min(project.event.created_at, self.now - 120)
        return self._tx(project.creation_txid, project.created_block, created, [
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
        return self._tx(inv.txid, inv.block, self.investment_time(project, inv), outs)

    def investment_time(self, project: SimProject, inv: SimInvestment) -> int:
        """When an investment confirmed: an hour apart from the start of the project's window (a
        Fund/Subscribe one on the day its schedule starts), never after now (review L7)."""
        n = project.investments.index(inv)
        start: int = project.info["startDate"]  # unix seconds, set by ProjectBuilder
        if project.is_dynamic:
            at = max(investment_start(project, inv), start) + 3600
        else:
            at = max(start, project.event.created_at) + (n + 1) * 3600
        return min(at, self.now - 60)

    @staticmethod
    def _tx(txid: str, block: int, time: int, vout: list[dict[str, Any]],
            vin: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"txid": txid, "version": 2, "locktime": 0, "vin": vin or [], "vout": vout,
                "status": {"confirmed": True, "block_height": block, "block_time": time}}

    @staticmethod
    def _out(value: int, script: str, kind: str, address: str | None = None) -> dict[str, Any]:
        out = {"scriptpubkey": script, "scriptpubkey_type": kind, "value": value}
        if address:
            out["scriptpubkey_address"] = address
        return out

    def _spending_txs(self) -> dict[str, dict[str, Any]]:
        """Every transaction that spends a stage output, its inputs in the order the app adds them.

        A recovery (penalty or refund) is signed SIGHASH_SINGLE|ANYONECANPAY: input k pays output k, and the
        app drops the stages already spent with their outputs (BuildRecoveryTransaction.cs), then adds a
        fee input and a change output after them.
        """
        spends: dict[str, list[tuple[SimProject, SimInvestment, int, str]]] = {}
        for project in self.projects:
            for inv in project.investments:
                for stage, (who, txid) in sorted(inv.spends.items()):
                    spends.setdefault(txid, []).append((project, inv, stage, who))
        return {txid: self._spending_tx(txid, inputs) for txid, inputs in spends.items()}

    def _spending_tx(self, txid: str, inputs: list[tuple[SimProject, SimInvestment, int, str]]) -> dict[str, Any]:
        project, _, _, who = inputs[0]
        vin = [{"txid": inv.txid, "vout": stage + 2, "witness": self._stage_witness(project, inv, stage, who)}
               for _, inv, stage, _ in inputs]
        values = [inv.stage_values[stage] for _, inv, stage, _ in inputs]
        if who == FOUNDER:
            founder_hash = hashlib.sha256(bytes.fromhex(project.founder_key)).digest()[:20]
            vout = [self._script_out(sum(values) - 1_000, scripts.p2wpkh(founder_hash), "v0_p2wpkh")]
        else:
            _, inv, _, _ = inputs[0]
            if who == PENALTY:
                penalty = scripts.penalty_script(bytes.fromhex(inv.investor_key), project.info["penaltyDays"])
                paid_to, kind = scripts.p2wsh(penalty), "v0_p2wsh"
            else:  # the investor's release address (a P2WPKH wallet address in the app)
                release_key_hash = hashlib.sha256(inv.investor_secret + b"release").digest()[:20]
                paid_to, kind = scripts.p2wpkh(release_key_hash), "v0_p2wpkh"
            vout = [self._script_out(value, paid_to, kind) for value in values]
            vin.append({"txid": txid_of(txid, "fee input"), "vout": 0, "witness": ["30" * 71, "02" + "55" * 32]})
            vout.append(self._script_out(4_000, scripts.p2wpkh(b"\x66" * 20), "v0_p2wpkh"))
        return self._tx(txid, project.created_block + 50, self.now - 3600, vout, vin)  # after every release

    def _stage_witness(self, project: SimProject, inv: SimInvestment, stage: int, who: str) -> list[str]:
        control_block = "c0" + "50" * 32 + "44" * 32  # leaf version, internal key, one sibling hash
        if who == FOUNDER:  # the founder's signature, the founder leaf
            leaf = scripts.founder_leaf(project.founder_secret, project.info["stages"][stage]["releaseDate"])
            return ["aa" * 64, leaf.hex(), control_block]
        # The investor's and the founder's signatures (SIGHASH_SINGLE|ANYONECANPAY), the recover leaf.
        secret_hash = bytes.fromhex("ab" * 32) if inv.seeder else None
        leaf = scripts.recover_leaf(project.recovery_secret, inv.investor_secret, secret_hash)
        return ["bb" * 64 + "83", "cc" * 64 + "83", leaf.hex(), control_block]

    def _script_out(self, value: int, script: bytes, kind: str) -> dict[str, Any]:
        address = bech32.encode(identity.ADDRESS_HRP[self.network], script[0], script[2:])
        return self._out(value, script.hex(), kind, address)
