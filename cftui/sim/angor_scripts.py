"""Angor's stage tapscripts and recovery outputs, built the way the Angor app builds them.

A deliberate twin of what the client reads (``cftui.angor.taproot`` and
``cftui.angor.esplora``): written from block-core/angor at d73cef3f
(``src/shared/Angor.Shared/Protocol/Scripts/InvestmentScriptBuilder.cs``,
``TaprootKeyHelper.cs``, ``TransactionBuilders/InvestmentTransactionBuilder.cs``),
never from cftui's client code, so a misreading shared by both cannot hide.
The keys are tweaked from the secret side (BIP-341's ``taproot_tweak_seckey``);
the client tweaks public keys.

* Founder leaf: ``<founder output key 32B> OP_CHECKSIGVERIFY <releaseDate> OP_CHECKLOCKTIMEVERIFY``
* Recover leaf: ``<founderRecovery output key 32B> OP_CHECKSIGVERIFY <investor output key 32B> OP_CHECKSIG``
  (a seeder's ends ``OP_CHECKSIGVERIFY OP_HASH256 <secretHash> OP_EQUAL``)
* End-of-project leaf: ``<investor output key 32B> OP_CHECKSIGVERIFY <expiryDate> OP_CHECKLOCKTIMEVERIFY``
* Penalty script (a recovery's outputs pay its P2WSH):
  ``<investor key 33B> OP_CHECKSIGVERIFY <relative lock of penaltyDays> OP_CHECKSEQUENCEVERIFY``

"Output key" is NBitcoin's ``PubKey.GetTaprootFullPubKey()``: the key tweaked
by ``TapTweak`` with no script tree.
"""

from __future__ import annotations

import hashlib

from coincurve import PrivateKey

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
OP_0, OP_1NEGATE, OP_1 = 0x00, 0x4F, 0x51
OP_CHECKSIG, OP_CHECKSIGVERIFY, OP_HASH256, OP_EQUAL = 0xAC, 0xAD, 0xAA, 0x87
OP_CHECKLOCKTIMEVERIFY, OP_CHECKSEQUENCEVERIFY = 0xB1, 0xB2
# NBitcoin's Sequence(TimeSpan): a time-based relative lock counts units of 512 seconds.
SEQUENCE_TYPE_FLAG, SEQUENCE_GRANULARITY = 1 << 22, 9


def _tagged_hash(tag: str, data: bytes) -> bytes:
    tag_hash = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(tag_hash + tag_hash + data).digest()


def output_key(secret: bytes) -> bytes:
    """The 32-byte x-only taproot output key of ``secret``'s public key, tweaked with no script tree."""
    compressed = PrivateKey(secret).public_key.format(compressed=True)
    scalar = int.from_bytes(secret, "big")
    if compressed[0] == 0x03:  # BIP-340 keys have an even y: negate the secret so its point does
        scalar = CURVE_ORDER - scalar
    tweak = int.from_bytes(_tagged_hash("TapTweak", compressed[1:]), "big")
    tweaked = PrivateKey(((scalar + tweak) % CURVE_ORDER).to_bytes(32, "big"))
    return tweaked.public_key.format(compressed=True)[1:]


def push_data(data: bytes) -> bytes:
    if len(data) <= 75:
        return bytes([len(data)]) + data
    return bytes([0x4C, len(data)]) + data  # OP_PUSHDATA1 (no pushed item here is longer)


def push_number(value: int) -> bytes:
    """NBitcoin's ``Op.GetPushOp(long)``: small numbers as opcodes, the rest as minimal script numbers."""
    if value == 0:
        return bytes([OP_0])
    if value == -1:
        return bytes([OP_1NEGATE])
    if 1 <= value <= 16:
        return bytes([OP_1 + value - 1])
    magnitude, encoded = abs(value), bytearray()
    while magnitude:
        encoded.append(magnitude & 0xFF)
        magnitude >>= 8
    if encoded[-1] & 0x80:
        encoded.append(0x80 if value < 0 else 0x00)
    elif value < 0:
        encoded[-1] |= 0x80
    return push_data(bytes(encoded))


def founder_leaf(founder_secret: bytes, release_time: int) -> bytes:
    return (push_data(output_key(founder_secret)) + bytes([OP_CHECKSIGVERIFY]) + push_number(release_time)
            + bytes([OP_CHECKLOCKTIMEVERIFY]))


def recover_leaf(recovery_secret: bytes, investor_secret: bytes, secret_hash: bytes | None = None) -> bytes:
    script = (
        push_data(output_key(recovery_secret)) + bytes([OP_CHECKSIGVERIFY]) + push_data(output_key(investor_secret))
    )
    if secret_hash is None:
        return script + bytes([OP_CHECKSIG])
    return script + bytes([OP_CHECKSIGVERIFY, OP_HASH256]) + push_data(secret_hash) + bytes([OP_EQUAL])


def end_of_project_leaf(investor_secret: bytes, expiry_time: int) -> bytes:
    return (push_data(output_key(investor_secret)) + bytes([OP_CHECKSIGVERIFY]) + push_number(expiry_time)
            + bytes([OP_CHECKLOCKTIMEVERIFY]))


def penalty_script(investor_key: bytes, penalty_days: int) -> bytes:
    """``GetInvestorPenaltyTransactionScript``: the investor's own 33-byte key, locked ``penalty_days``."""
    sequence = SEQUENCE_TYPE_FLAG | (penalty_days * 86_400 >> SEQUENCE_GRANULARITY)
    return (
        push_data(investor_key) + bytes([OP_CHECKSIGVERIFY]) + push_number(sequence) + bytes([OP_CHECKSEQUENCEVERIFY])
    )


def p2wsh(script: bytes) -> bytes:
    return bytes([OP_0]) + push_data(hashlib.sha256(script).digest())


def p2wpkh(key_hash: bytes) -> bytes:
    return bytes([OP_0]) + push_data(key_hash)
