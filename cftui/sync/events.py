"""What a sync reports while it runs and when it ends.

Every source (a BTCPay store, Angor) reports through the same types, so the
CLI draws one progress bar and the dashboard one status line for all of them.
A reporter is any callable taking a :class:`SyncEvent`; it may be called from
a worker thread, so it must be thread-safe (``App.post_message`` is).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from cftui.domain import SyncMode


@dataclass(frozen=True, slots=True)
class SyncStarted:
    source: str  # "btcpay:<store name>" or "angor"
    mode: SyncMode


@dataclass(frozen=True, slots=True)
class SyncProgress:
    source: str
    fetched: int  # records read so far in this run
    total: int | None  # when known
    message: str = ""


@dataclass(slots=True)
class SyncResult:
    source: str
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    duration: float = 0.0  # seconds
    error: str | None = None  # one clear sentence when the run failed
    newly_settled: list[str] = field(default_factory=list)
    error_code: int | None = None  # the exit code that fits the failure (cftui.errors.ExitCode), when known
    unread: int = 0  # invoices on the retry list after the run (malformed records, read again next run)
    unread_ids: tuple[str, ...] = ()  # the first of them
    # What new/updated/unchanged count when it is not what was fetched (Angor: projects, from events).
    counted: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        if self.counted:  # two units: say each, so the figures add up (review L7)
            stored = self.new + self.updated + self.unchanged
            text = (
                f"{self.source}: {self.fetched} events read, {self.skipped_total} skipped; {stored} {self.counted}: "
                f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged in {self.duration:.1f} s"
            )
        else:
            text = (
                f"{self.source}: fetched {self.fetched}, new {self.new}, updated {self.updated}, "
                f"skipped {self.skipped_total} in {self.duration:.1f} s"
            )
        if self.skipped:
            text += " (" + "; ".join(f"{n}× {reason}" for reason, n in self.skipped.most_common(3)) + ")"
        if self.unread:
            shown = ", ".join(self.unread_ids[:3]) + (", …" if self.unread > 3 else "")
            text += f"; {self.unread} unreadable invoice{'s' if self.unread != 1 else ''} kept for a retry ({shown})"
        if self.error:
            text += f" — failed: {self.error}"
        return text

    def to_json(self) -> str:
        return json.dumps(
            {
                "fetched": self.fetched,
                "new": self.new,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "skipped": dict(self.skipped),
                "duration": round(self.duration, 3),
                "error": self.error,
            }
        )


@dataclass(frozen=True, slots=True)
class SyncFinished:
    result: SyncResult


SyncEvent = SyncStarted | SyncProgress | SyncFinished
Reporter = Callable[[SyncEvent], None]


def ignore(event: SyncEvent) -> None:
    """A reporter that drops everything."""
