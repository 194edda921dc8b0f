"""Which ProjectInfo is authoritative for a project, and what is wrong with it.

Beyond what the hub checks (CONTRACT.md §0, §2, §3.3):

* the authoritative event is the one whose id is committed on-chain
  (``nostrEventId`` in the creation tx); if it cannot be found we show the
  newest event and flag ``event-differs``; no creation tx at all is ``not-on-chain``;
* ``projectIdentifier`` must derive from ``founderKey`` (``id-mismatch``);
* the on-chain founder key must equal the event's (``founder-key-mismatch``);
* the event must be signed by the ``nostrPubKey`` it names (``author-mismatch``).

A project is verified when it has no flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cftui.angor import identity
from cftui.angor.events import NostrEvent
from cftui.angor.projectinfo import ProjectInfo

FLAGS = ("not-on-chain", "event-differs", "id-mismatch", "founder-key-mismatch", "author-mismatch")


@dataclass(frozen=True, slots=True)
class Onchain:
    """What the chain (through the indexer or esplora) says about a project."""

    event_id: str | None
    founder_key: str | None
    txid: str | None
    block: int | None


@dataclass(frozen=True, slots=True)
class Candidate:
    event: NostrEvent
    info: ProjectInfo


def choose(candidates: Sequence[Candidate], onchain: Onchain | None, network: str) -> tuple[Candidate, list[str]]:
    """The authoritative candidate and its flags (``candidates`` must not be empty)."""
    flags: list[str] = []
    committed = [c for c in candidates if onchain and c.event.id == onchain.event_id]
    if committed:
        chosen = committed[0]
    else:
        flags.append("not-on-chain" if onchain is None or not onchain.event_id else "event-differs")
        # Prefer events signed by the key they name; newest first.
        chosen = max(candidates, key=lambda c: (c.event.pubkey == c.info.nostr_pubkey, c.event.created_at, c.event.id))
    info = chosen.info
    if not identity.is_derived(info.project_id, info.founder_key, network):
        flags.append("id-mismatch")
    if onchain and onchain.founder_key and onchain.founder_key != info.founder_key:
        flags.append("founder-key-mismatch")
    if chosen.event.pubkey != info.nostr_pubkey:
        flags.append("author-mismatch")
    return chosen, flags
