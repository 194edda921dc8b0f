"""The BIP-341 key tweak Angor's stage leaves push, and the simulator's twin of it.

Independent references: BIP-341's own wallet test vectors (tests/data/bip341), and
the founder leaf the contract review computed for the contract's vector founder key.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cftui.angor import esplora, taproot
from cftui.sim import angor_scripts
from cftui.sim.angor_data import pubkey, secret

DATA = Path(__file__).parent / "data"
BIP341 = json.loads((DATA / "bip341" / "wallet-test-vectors.json").read_text())["scriptPubKey"]
VECTOR_FOUNDER = json.loads((DATA / "angor" / "tx-and-id-test-vectors.json").read_text())["projectCreationTx"][
    "founderKeyHex"
]
# docs/reviews 2026-12-contract-review.md §A1: upstream's founder leaf for the vector founder key starts so.
REVIEW_FOUNDER_LEAF = "2045298475b08ee6680e03e87dfa93fa5bfd9ee92a75d5dc7d8bd1bcf89361081e"


@pytest.mark.parametrize("case", BIP341, ids=lambda c: f"tree={c['given']['scriptTree'] is not None}")
def test_output_key_matches_bip341_wallet_vectors(case):
    internal = bytes.fromhex(case["given"]["internalPubkey"])
    root = case["intermediary"]["merkleRoot"]
    tweaked = taproot.output_key(internal, bytes.fromhex(root) if root else None)
    assert tweaked.hex() == case["intermediary"]["tweakedPubkey"]


def test_the_bip341_vectors_include_a_key_with_no_script_tree():
    # Angor's leaves tweak keys with no script tree: the case above must really cover that.
    (keyonly,) = [c for c in BIP341 if c["given"]["scriptTree"] is None]
    internal = bytes.fromhex(keyonly["given"]["internalPubkey"])
    assert taproot.output_key(internal).hex() == keyonly["intermediary"]["tweakedPubkey"]
    assert taproot.tweaked_key("02" + internal.hex()) == keyonly["intermediary"]["tweakedPubkey"]


def test_the_founder_leaf_of_the_contract_vector_key_is_the_reviews():
    assert VECTOR_FOUNDER.startswith("02070d17") and VECTOR_FOUNDER.endswith("c8ba")
    assert esplora.founder_leaf_prefix(VECTOR_FOUNDER) == REVIEW_FOUNDER_LEAF + "ad"
    assert REVIEW_FOUNDER_LEAF[2:] != VECTOR_FOUNDER[2:]  # not the raw x-only key


def test_an_odd_y_key_is_tweaked_from_its_even_twin():
    # GetTaprootFullPubKey drops the parity byte: 02 and 03 keys with the same x tweak alike.
    assert taproot.tweaked_key("03" + VECTOR_FOUNDER[2:]) == taproot.tweaked_key(VECTOR_FOUNDER)


@pytest.mark.parametrize("n", range(6))
def test_the_simulator_tweaks_secrets_to_the_same_keys_the_client_tweaks_public_keys_to(n):
    key = secret("taproot twin", n)
    assert angor_scripts.output_key(key).hex() == taproot.tweaked_key(pubkey(key))


@pytest.mark.parametrize(
    ("value", "pushed"),
    [
        (0, "00"),
        (16, "60"),
        (-1, "4f"),
        (17, "0111"),
        (128, "028000"),
        (1_800_000_000, "0400d2496b"),
        (2_200_000_000, "050056218300"),
        (0x400000 | 5062, "03c61340"),
    ],
)
def test_the_simulator_pushes_numbers_as_nbitcoin_does(value, pushed):
    assert angor_scripts.push_number(value).hex() == pushed
