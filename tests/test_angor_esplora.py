"""Classifying one spend of a stage output, on transactions shaped as the Angor app builds them.

The scripts here are written out by hand from upstream's InvestmentScriptBuilder.cs (keys as the
contract review and BIP-341 give them), not built by the simulator or by cftui.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cftui.angor import esplora, taproot

VECTORS = json.loads((Path(__file__).parent / "data" / "angor" / "tx-and-id-test-vectors.json").read_text())
FOUNDER_KEY = VECTORS["projectCreationTx"]["founderKeyHex"]
INVESTOR_KEY = VECTORS["investmentTx"]["founderPubKey"]  # the investment's OP_RETURN key (an investor key)
INVESTMENT = VECTORS["investmentTx"]["transactionId"]
RELEASE = (1_800_000_000).to_bytes(4, "little").hex()
# <founder output key> OP_CHECKSIGVERIFY <release> OP_CLTV; the key is the contract review's (§A1).
FOUNDER_LEAF = "2045298475b08ee6680e03e87dfa93fa5bfd9ee92a75d5dc7d8bd1bcf89361081e" + "ad" + "04" + RELEASE + "b1"
# <recovery output key> OP_CHECKSIGVERIFY <investor output key> OP_CHECKSIG
RECOVER_LEAF = "20" + "77" * 32 + "ad" + "20" + taproot.tweaked_key(INVESTOR_KEY) + "ac"
PENALTY_SCRIPT = "21" + INVESTOR_KEY + "ad" + "03c61340" + "b2"  # 30 days as a 512-second relative lock
P2WSH = "0020" + hashlib.sha256(bytes.fromhex(PENALTY_SCRIPT)).hexdigest()
P2WPKH = "0014" + "42" * 20
CONTROL = "c0" + "50" * 32 + "44" * 32


def spend(witness: list[str], vouts: list[str], *, position: int = 0) -> dict:
    other = {"txid": "ee" * 32, "vout": 0, "witness": ["30" * 71, "02" + "55" * 32]}
    ours = {"txid": INVESTMENT, "vout": 3, "witness": witness}
    vin = [other] * position + [ours] + [other]
    return {"txid": "ff" * 32, "vin": vin, "vout": [{"scriptpubkey": s, "value": 1000} for s in vouts]}


def kind(tx: dict) -> str | None:
    return esplora.spend_kind(tx, INVESTMENT, 3, esplora.founder_leaf_prefix(FOUNDER_KEY), INVESTOR_KEY)


def test_the_founder_leaf_with_the_tweaked_key_is_the_founders():
    assert kind(spend(["aa" * 64, FOUNDER_LEAF, CONTROL], [P2WPKH])) == esplora.FOUNDER
    raw_key_leaf = "20" + FOUNDER_KEY[2:] + "ad04" + RELEASE + "b1"  # what cftui used to look for
    assert kind(spend(["aa" * 64, raw_key_leaf, CONTROL], [P2WPKH])) is None


def test_a_recovery_to_the_penalty_script_is_a_penalty_and_to_the_investor_a_refund():
    witness = ["bb" * 64 + "83", "cc" * 64 + "83", RECOVER_LEAF, CONTROL]
    assert kind(spend(witness, [P2WSH, P2WPKH])) == esplora.PENALTY
    assert kind(spend(witness, [P2WPKH, P2WPKH])) == esplora.REFUND
    assert kind(spend(witness, ["5120" + "33" * 32])) == esplora.REFUND  # a taproot release address too


def test_the_output_looked_at_is_the_one_at_the_inputs_own_position():
    # SIGHASH_SINGLE: input 1 pays output 1 (the app drops the stages already spent, with their outputs).
    witness = ["bb" * 64 + "83", "cc" * 64 + "83", RECOVER_LEAF, CONTROL]
    assert kind(spend(witness, [P2WPKH, P2WSH, P2WPKH], position=1)) == esplora.PENALTY
    assert kind(spend(witness, [P2WSH, P2WPKH, P2WSH], position=1)) == esplora.REFUND


def test_the_investors_own_exits_and_strangers_are_none_of_these():
    end_of_project = "20" + taproot.tweaked_key(INVESTOR_KEY) + "ad04" + RELEASE + "b1"
    assert kind(spend(["aa" * 64, end_of_project, CONTROL], [P2WPKH])) is None
    # A 4-item witness alone is not a recovery: another investor's recover leaf, or a seeder-secret leaf.
    someone_else = "20" + "77" * 32 + "ad" + "20" + "88" * 32 + "ac"
    assert kind(spend(["bb" * 64, "cc" * 64, someone_else, CONTROL], [P2WSH])) is None
    assert kind(spend(["aa" * 64, "ab" * 32, "20" + "99" * 32 + "ad" + "aa" + "20" + "ab" * 32 + "87", CONTROL],
                      [P2WSH])) is None
    assert kind({"txid": "ff" * 32, "vin": [], "vout": []}) is None  # not the input we asked about
