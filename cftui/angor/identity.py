"""Angor project identity (CONTRACT.md §2).

``projectIdentifier = bech32("angor", v0, HASH160(root / upi))`` where ``root``
is the network's Angor xpub/tpub, ``upi`` is the founder key's hash256 read as
a little-endian integer, low 31 bits, and ``root / upi`` a non-hardened BIP32
public derivation. The project's Bitcoin address is the same 20-byte program
with hrp ``bc`` (Main) or ``tb`` (Angornet).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import bech32
from bip32 import BIP32

ROOT_KEYS = {
    "Main": (
        "xpub661MyMwAqRbcGNxKe9aFkPisf3h32gHLJm8f9XAqx8FB1Nk6KngCY8hkhGqxFr2Gyb6yfUaQVbodxLoC1f3K5HU9LM1CXE59gkEXSGCCZ1B"
    ),
    # Every non-main network shares one tpub.
    "Angornet": (
        "tpubD8JfN1evVWPoJmLgVg6Usq2HEW9tLqm6CyECAADnH5tyQosrL6NuhpL9X1cQCbSmndVrgLSGGdbRqLfUbE6cRqUbrHtDJgSyQEY2Uu7WwTL"
    ),
}
ADDRESS_HRP = {"Main": "bc", "Angornet": "tb"}
PROJECT_HRP = "angor"


def hash160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", hashlib.sha256(data).digest()).digest()


def upi(founder_key: str) -> int:
    """The founder key's unique project index (31 bits)."""
    digest = hashlib.sha256(hashlib.sha256(bytes.fromhex(founder_key)).digest()).digest()
    return int.from_bytes(digest, "little") & 0x7FFFFFFF


@lru_cache(maxsize=2)
def _root(network: str) -> BIP32:
    return BIP32.from_xpub(ROOT_KEYS[network])


def project_program(founder_key: str, network: str) -> bytes:
    """The 20-byte witness program both the project id and address encode."""
    child = _root(network).get_pubkey_from_path([upi(founder_key)])
    return hash160(child)


def _encode(hrp: str, program: bytes) -> str:
    encoded = bech32.encode(hrp, 0, program)
    if encoded is None:
        raise ValueError("cannot bech32-encode the program")
    return encoded


def derive_project_id(founder_key: str, network: str) -> str:
    return _encode(PROJECT_HRP, project_program(founder_key, network))


def project_address(project_id: str, network: str) -> str:
    """The Bitcoin address behind ``project_id`` (``angor1q…`` -> ``bc1q…``/``tb1q…``)."""
    version, program = bech32.decode(PROJECT_HRP, project_id)
    if version != 0 or program is None or len(program) != 20:
        raise ValueError(f"{project_id!r} is not an Angor project identifier")
    return _encode(ADDRESS_HRP[network], bytes(program))


def is_derived(project_id: str, founder_key: str, network: str) -> bool:
    """True when ``project_id`` derives from ``founder_key`` on ``network``."""
    try:
        return derive_project_id(founder_key, network) == project_id
    except (ValueError, TypeError):  # a founder key that is not a valid point
        return False
