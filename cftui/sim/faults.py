"""Fault injection: switches a test or benchmark flips at runtime.

Set them from Python (``sim.faults.update(...)``) or from another process
with ``POST /_sim/faults`` and a JSON object of the same fields
(``{"reset": true}`` restores the defaults first). Everything is counted,
never random, so a run is reproducible.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from cftui.sim.jsontypes import JsonObject

MALFORMED_KINDS = ("bad_amount", "missing_id", "wrong_types")


@dataclass
class Faults:
    # HTTP faults hit requests whose path starts with ``path_prefix``.
    path_prefix: str = "/api/v1/"
    # 429 with Retry-After: the next N matching requests, then every Nth one (0 = never).
    rate_limit_next: int = 0
    rate_limit_every: int = 0
    retry_after: str = "1"  # seconds, or an HTTP date
    # Server errors (status ``error_status``), counted the same way.
    error_next: int = 0
    error_every: int = 0
    error_status: int = 500
    # Connection closed after part of the response body was sent.
    drop_next: int = 0
    drop_every: int = 0
    # Every response to a matching request waits this long first.
    delay_ms: int = 0
    # In invoice list pages, generated invoice i is served broken when
    # i % malformed_every == malformed_every - 1; kinds rotate through ``malformed_kinds``.
    malformed_every: int = 0
    malformed_kinds: tuple[str, ...] = MALFORMED_KINDS
    # A broken server: ``skip`` is ignored, so every page is the first one.
    ignore_skip: bool = False
    # Matching requests seen so far (drives the *_every switches).
    requests: int = field(default=0)

    def update(self, changes: JsonObject) -> None:
        """Apply a JSON-style dict of changes; unknown fields raise ValueError (nothing is applied then)."""
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - set(known) - {"reset"})
        if unknown:
            raise ValueError(f"unknown fault switches: {', '.join(unknown)}")
        kinds = changes.get("malformed_kinds")
        if kinds is not None and not set(kinds) <= set(MALFORMED_KINDS):
            raise ValueError(f"malformed_kinds must be among {', '.join(MALFORMED_KINDS)}")
        if changes.get("reset"):
            for name, spec in known.items():
                setattr(self, name, spec.default)
        for name, value in changes.items():
            if name == "reset":
                continue
            expected = type(known[name].default)
            if name == "malformed_kinds":
                value = tuple(value)
            elif not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
                raise ValueError(f"{name} must be {expected.__name__}")
            setattr(self, name, value)

    def as_dict(self) -> JsonObject:
        data = dataclasses.asdict(self)
        data["malformed_kinds"] = list(self.malformed_kinds)
        return data

    def next_action(self, path: str) -> str | None:
        """What to do with a request: "rate_limit", "error", "drop" or None."""
        if not path.startswith(self.path_prefix):
            return None
        self.requests += 1
        for action in ("rate_limit", "error", "drop"):
            pending = getattr(self, f"{action}_next")
            if pending > 0:
                setattr(self, f"{action}_next", pending - 1)
                return action
            every = getattr(self, f"{action}_every")
            if every > 0 and self.requests % every == 0:
                return action
        return None

    def malformed_kind(self, index: int) -> str | None:
        every = self.malformed_every
        if every <= 0 or not self.malformed_kinds or index % every != every - 1:
            return None
        return self.malformed_kinds[(index // every) % len(self.malformed_kinds)]


def break_record(record: JsonObject, kind: str) -> JsonObject:
    """A copy of an invoice record broken the way ``kind`` says."""
    broken = dict(record)
    if kind == "bad_amount":
        broken["amount"] = "abc"
    elif kind == "missing_id":
        del broken["id"]
    elif kind == "wrong_types":
        broken["createdTime"] = "yesterday"
        broken["archived"] = "no"
    return broken
