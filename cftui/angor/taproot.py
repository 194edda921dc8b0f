"""The BIP-341 key tweak that Angor's stage scripts push.

Every key in an Angor stage leaf (founder, founder recovery, investor) is
pushed as its taproot *output* key, not the key itself: Angor's
``TaprootKeyHelper.GetTaprootOutputKeyBytes``, "equivalent to
``new PubKey(hex).GetTaprootFullPubKey().ToBytes()``" in NBitcoin. That is
BIP-341's tweak with no script tree: ``Q = P + int(hash_TapTweak(x(P))) * G``
for the even-y point ``P`` with the key's x coordinate, written x-only.
"""

from __future__ import annotations

import hashlib

from coincurve import PublicKeyXOnly


def tagged_hash(tag: str, data: bytes) -> bytes:
    """BIP-340's ``hash_tag(x) = SHA256(SHA256(tag) || SHA256(tag) || x)``."""
    tag_hash = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(tag_hash + tag_hash + data).digest()


def output_key(internal_key: bytes, merkle_root: bytes | None = None) -> bytes:
    """The 32-byte x-only output key of a 32-byte x-only internal key (BIP-341 ``taproot_tweak_pubkey``)."""
    tweak = tagged_hash("TapTweak", internal_key + (merkle_root or b""))
    key = PublicKeyXOnly(internal_key)
    key.tweak_add(tweak)  # in place (coincurve 20 returns None)
    return key.format()


def tweaked_key(compressed_key: str) -> str:
    """Hex of the output key a stage leaf pushes for a 33-byte compressed key (hex); its parity byte is dropped."""
    return output_key(bytes.fromhex(compressed_key)[1:]).hex()
