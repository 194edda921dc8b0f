"""Nostr events (NIP-01): the model, the id rule, BIP-340 verification and signing.

An event's ``id`` is the sha256 of the compact JSON array
``[0, pubkey, created_at, kind, tags, content]`` (UTF-8, no escaping of non-ASCII);
``sig`` is a BIP-340 Schnorr signature of that id by the x-only ``pubkey``.
Anything a relay sends is untrusted: :func:`check` tells why an event is not
valid, so the client can drop and count it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from coincurve import PrivateKey, PublicKeyXOnly

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class NostrEvent:
    id: str
    pubkey: str
    created_at: int
    kind: int
    tags: list[list[str]] = field(default_factory=list)
    content: str = ""
    sig: str = ""

    def tag(self, name: str) -> str | None:
        """The first value of the tag ``name`` (e.g. ``d``), if any."""
        for tag in self.tags:
            if len(tag) > 1 and tag[0] == name:
                return tag[1]
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pubkey": self.pubkey,
            "created_at": self.created_at,
            "kind": self.kind,
            "tags": self.tags,
            "content": self.content,
            "sig": self.sig,
        }


class EventError(ValueError):
    """An event that is malformed or fails verification; ``reason`` is the counted key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def serialize(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> bytes:
    return json.dumps([0, pubkey, created_at, kind, tags, content], separators=(",", ":"), ensure_ascii=False).encode()


def compute_id(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> str:
    return hashlib.sha256(serialize(pubkey, created_at, kind, tags, content)).hexdigest()


def _is_hex(value: Any, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and set(value) <= _HEX


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass: refuse it explicitly.
    return isinstance(value, int) and not isinstance(value, bool)


def parse(raw: Any) -> NostrEvent:
    """Shape-check a relay's event object (no crypto yet)."""
    if not isinstance(raw, dict):
        raise EventError("malformed event")
    if not (_is_hex(raw.get("id"), 64) and _is_hex(raw.get("pubkey"), 64) and _is_hex(raw.get("sig"), 128)):
        raise EventError("malformed event")
    created_at, kind, tags, content = raw.get("created_at"), raw.get("kind"), raw.get("tags"), raw.get("content")
    if not _is_int(created_at) or not _is_int(kind):
        raise EventError("malformed event")
    if not isinstance(content, str) or not isinstance(tags, list):
        raise EventError("malformed event")
    if not all(isinstance(t, list) and all(isinstance(v, str) for v in t) for t in tags):
        raise EventError("malformed event")
    return NostrEvent(raw["id"], raw["pubkey"], created_at, kind, tags, content, raw["sig"])


def check(event: NostrEvent) -> None:
    """Raise :class:`EventError` unless the id matches the content and the signature is valid."""
    if compute_id(event.pubkey, event.created_at, event.kind, event.tags, event.content) != event.id:
        raise EventError("wrong event id")
    try:
        key = PublicKeyXOnly(bytes.fromhex(event.pubkey))
        valid = key.verify(bytes.fromhex(event.sig), bytes.fromhex(event.id))
    except ValueError:  # not a point on the curve
        valid = False
    if not valid:
        raise EventError("bad signature")


def verified(raw: Any) -> NostrEvent:
    """Parse and check in one go."""
    event = parse(raw)
    check(event)
    return event


def xonly_pubkey(secret: bytes) -> str:
    return PrivateKey(secret).public_key_xonly.format().hex()


def sign(secret: bytes, kind: int, content: str, *, created_at: int, tags: list[list[str]] | None = None) -> NostrEvent:
    """A signed event (for the simulator and tests; cftui itself never publishes)."""
    key = PrivateKey(secret)
    pubkey = key.public_key_xonly.format().hex()
    tags = tags or []
    event_id = compute_id(pubkey, created_at, kind, tags, content)
    # None, not coincurve's default b"" (fresh randomness): no auxiliary randomness, so a signature is
    # deterministic. coincurve accepts None (it passes NULL to libsecp256k1) but annotates only bytes.
    sig = key.sign_schnorr(bytes.fromhex(event_id), None).hex()  # type: ignore[arg-type]  # see above
    return NostrEvent(event_id, pubkey, created_at, kind, tags, content, sig)
