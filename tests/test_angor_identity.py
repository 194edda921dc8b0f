"""Project identity against the contract's vectors, and the on-chain readers against the real raw transactions."""

from __future__ import annotations

import json
from pathlib import Path

import bech32
import pytest

from cftui.angor import esplora, identity

# Copied from the Angor contract (provenance in tests/data/angor/SOURCE.txt).
VECTORS = json.loads((Path(__file__).parent / "data" / "angor" / "tx-and-id-test-vectors.json").read_text())
CHECKS = [c for c in VECTORS["derivationChecks_computed_by_this_research"] if "founderKey" in c]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c["projectIdentifier"][:14])
def test_project_id_derives_from_the_founder_key(check):
    assert identity.upi(check["founderKey"]) == check["upi"]
    assert identity.derive_project_id(check["founderKey"], "Angornet") == check["projectIdentifier"]
    assert identity.is_derived(check["projectIdentifier"], check["founderKey"], "Angornet")
    if "address" in check:
        assert identity.project_address(check["projectIdentifier"], "Angornet") == check["address"]


def test_mainnet_root_gives_another_id_and_a_bc_address():
    key = CHECKS[2]["founderKey"]
    assert identity.derive_project_id(key, "Main") == "angor1qesylue04f90zk2x5g6j94ukdqgta6dc4cmcuy9"
    assert not identity.is_derived(CHECKS[2]["projectIdentifier"], key, "Main")
    assert identity.project_address("angor1qesylue04f90zk2x5g6j94ukdqgta6dc4cmcuy9", "Main").startswith("bc1q")


def test_live_angornet_project_address():
    live = VECTORS["derivationChecks_computed_by_this_research"][3]
    assert identity.project_address(live["projectIdentifier"], "Angornet") == live["address"]


def test_not_a_project_id_is_refused():
    with pytest.raises(ValueError):
        identity.project_address("tb1quc59k4kt0nv62xhj72xtqfmzk55cexxmae8lyc", "Angornet")
    assert not identity.is_derived(CHECKS[0]["projectIdentifier"], "02" + "00" * 32, "Angornet")


# ---- the raw transactions, decoded here into esplora's JSON shape


def _varint(raw: bytes, i: int) -> tuple[int, int]:
    first = raw[i]
    if first < 0xFD:
        return first, i + 1
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
    return int.from_bytes(raw[i + 1 : i + 1 + size], "little"), i + 1 + size


def esplora_json(tx_hex: str, txid: str) -> dict:
    """Just enough of a segwit tx decoder to list outputs the way esplora does."""
    raw = bytes.fromhex(tx_hex)
    i = 4 + 2  # version, segwit marker+flag
    count, i = _varint(raw, i)
    for _ in range(count):
        i += 36
        size, i = _varint(raw, i)
        i += size + 4
    count, i = _varint(raw, i)
    vouts = []
    for _ in range(count):
        value = int.from_bytes(raw[i : i + 8], "little")
        size, i = _varint(raw, i + 8)
        script = raw[i : i + size]
        i += size
        out = {"value": value, "scriptpubkey": script.hex()}
        if script[:2] == b"\x00\x14":
            out["scriptpubkey_type"] = "v0_p2wpkh"
            out["scriptpubkey_address"] = bech32.encode("tb", 0, script[2:])
        elif script[:2] == b"\x51\x20":
            out["scriptpubkey_type"] = "v1_p2tr"
        elif script[:1] == b"\x6a":
            out["scriptpubkey_type"] = "op_return"
        vouts.append(out)
    return {"txid": txid, "vout": vouts, "status": {"confirmed": True, "block_height": 40000, "block_time": 1}}


def test_creation_tx_gives_founder_key_and_committed_event_id():
    vec = VECTORS["projectCreationTx"]
    tx = esplora_json(vec["transactionHex"], vec["txid"])
    assert esplora.read_creation(tx, vec["addressOnFeeOutput"]) == (vec["founderKeyHex"], vec["nostrEventId"])
    assert identity.project_address(vec["projectId"], "Angornet") == vec["addressOnFeeOutput"]
    assert esplora.read_investment(tx, vec["addressOnFeeOutput"]) is None
    assert esplora.read_creation(tx, "tb1qsomeoneelse") is None


def test_investment_tx_gives_investor_key_and_stage_sum():
    vec = VECTORS["investmentTx"]
    tx = esplora_json(vec["transactionHex"], vec["transactionId"])
    investment = esplora.read_investment(tx, vec["addressOnFeeOutput"])
    assert investment is not None
    assert investment.investor_key == vec["founderPubKey"]
    assert investment.stage_values == [20_000_000, 60_000_000, 120_000_000]
    assert investment.amount_sats == vec["derived_by_this_research"]["taproot_stage_sum_sats"]
    assert not investment.is_seeder
    assert esplora.read_creation(tx, vec["addressOnFeeOutput"]) is None
    project_id = vec["projectIdentifier_computed_by_this_research"]
    assert identity.project_address(project_id, "Angornet") == vec["addressOnFeeOutput"]
