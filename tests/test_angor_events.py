"""Nostr event ids and BIP-340 signatures, checked against an independent implementation."""

from __future__ import annotations

import hashlib

import pytest
from aionostr.event import Event as ReferenceEvent

from cftui.angor import events
from cftui.angor.events import EventError, NostrEvent

SECRET = hashlib.sha256(b"test key").digest()


def test_signed_event_matches_the_reference_implementation():
    event = events.sign(SECRET, 3030, '{"name":"ünïcode ✓"}', created_at=1_750_000_000, tags=[["d", "angor1q"]])
    reference = ReferenceEvent(**event.to_json())
    assert ReferenceEvent.compute_id(event.pubkey, event.created_at, event.kind, event.tags, event.content) == event.id
    assert reference.verify()
    events.check(event)


def test_wrong_id_is_refused():
    event = events.sign(SECRET, 1, "hello", created_at=1_750_000_000)
    with pytest.raises(EventError) as exc:
        events.check(NostrEvent(**{**event.to_json(), "content": "changed"}))
    assert exc.value.reason == "wrong event id"


def test_forged_signature_is_refused():
    event = events.sign(SECRET, 1, "hello", created_at=1_750_000_000)
    other = events.sign(hashlib.sha256(b"other").digest(), 1, "hello", created_at=1_750_000_000)
    # Right id, right author, a valid signature by someone else.
    with pytest.raises(EventError) as exc:
        events.check(NostrEvent(**{**event.to_json(), "sig": other.sig}))
    assert exc.value.reason == "bad signature"


def test_pubkey_off_the_curve_is_a_bad_signature_not_a_crash():
    event = events.sign(SECRET, 1, "x", created_at=1)
    bogus = "f" * 64  # not an x coordinate on secp256k1
    forged_id = events.compute_id(bogus, 1, 1, [], "x")
    with pytest.raises(EventError) as exc:
        events.check(NostrEvent(forged_id, bogus, 1, 1, [], "x", event.sig))
    assert exc.value.reason == "bad signature"


@pytest.mark.parametrize(
    "change",
    [
        {"id": "zz"},
        {"pubkey": 5},
        {"sig": "ab"},
        {"created_at": "1"},
        {"kind": True},
        {"tags": [["d", 5]]},
        {"content": None},
    ],
)
def test_malformed_events_are_refused_before_any_crypto(change):
    raw = {**events.sign(SECRET, 1, "x", created_at=1).to_json(), **change}
    with pytest.raises(EventError) as exc:
        events.verified(raw)
    assert exc.value.reason == "malformed event"
