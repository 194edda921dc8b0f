"""Project profiles: kind 0 metadata and kind 30078 ``angor:*`` documents (CONTRACT.md §3.2).

Both are authored by the project's ``nostrPubKey``. Kind 0 is replaceable and
30078 parameterized-replaceable, so the newest event of each wins. Values are
kept as text; the FAQ and members documents as their JSON, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from cftui.angor.events import NostrEvent

PROFILE_FIELDS = ("name", "display_name", "about", "picture", "banner", "website", "nip05", "lud16")
DOCUMENTS = {"angor:project": "description", "angor:faq": "faq", "angor:members": "members"}
MAX_TEXT = 20_000  # a hostile profile cannot bloat the store


@dataclass
class Profile:
    pubkey: str
    values: dict[str, str | None] = field(default_factory=dict)  # AngorProfile column -> value
    event_created: int = 0


def merge(events: Iterable[NostrEvent]) -> dict[str, Profile]:
    """Fold kind-0 and ``angor:*`` kind-30078 events into one profile per author, newest first."""
    profiles: dict[str, Profile] = {}
    seen: dict[tuple[str, str], int] = {}  # (pubkey, column group) -> created_at of the kept event
    for event in sorted(events, key=lambda e: e.created_at, reverse=True):
        group = _group(event)
        if group is None or (event.pubkey, group) in seen:
            continue
        values = _values(event, group)
        if values is None:
            continue
        seen[(event.pubkey, group)] = event.created_at
        profile = profiles.setdefault(event.pubkey, Profile(event.pubkey))
        profile.values.update(values)
        profile.event_created = max(profile.event_created, event.created_at)
    return profiles


def _group(event: NostrEvent) -> str | None:
    if event.kind == 0:
        return "metadata"
    if event.kind == 30078 and event.tag("d") in DOCUMENTS:
        return event.tag("d")
    return None


def _values(event: NostrEvent, group: str) -> dict[str, str | None] | None:
    if group != "metadata":
        return {DOCUMENTS[group]: event.content[:MAX_TEXT]}
    try:
        data = json.loads(event.content)
    except (ValueError, RecursionError):  # signed, but nested too deeply to read
        return None
    if not isinstance(data, dict):
        return None
    # Some clients write displayName (CONTRACT.md §7).
    if "display_name" not in data and "displayName" in data:
        data["display_name"] = data["displayName"]
    return {key: _text(data.get(key)) for key in PROFILE_FIELDS}


def _text(value: object) -> str | None:
    return value[:MAX_TEXT] if isinstance(value, str) and value.strip() else None
