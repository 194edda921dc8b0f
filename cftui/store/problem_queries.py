"""What needs an operator's eye, for the Overview's Problems list.

* webhook deliveries the receiver rejected in the last 24 hours;
* sources whose last sync failed, and records the last sync of a BTCPay store
  skipped (Angor's skipped events are other people's, see
  :attr:`SyncTrouble.skipped_needs_a_look`);
* invoices BTCPay flagged (paid late, part-paid, overpaid, marked by hand)
  among those created in the Overview's range.

Each is a count from an index or the daily roll-up, never a scan. (What
BTCPay sent that never arrived needs BTCPay's own list: the Overview asks
for it separately, see ``cftui.webhooks.btcpay_view``.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cftui.domain import ACCEPTED_VERDICTS
from cftui.store.daystats import DAY
from cftui.store.models import SyncState
from cftui.store.rollup import rollup
from cftui.store.webhook_models import WebhookDelivery

FLAGS = ("PaidLate", "PaidPartial", "PaidOver", "Marked")


@dataclass(frozen=True)
class SyncTrouble:
    source: str  # "btcpay:<store>" or "angor"
    error: str | None  # the last run failed with this
    skipped: dict[str, int] = field(default_factory=dict)  # the last run's skipped records, by reason

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def skipped_needs_a_look(self) -> bool:
        """A BTCPay store's skipped records are the user's own invoices the sync could not read. Angor's are
        events anyone published to a public relay that failed verification: the check doing its job, nothing
        to fix. They stay in the sync status, not in Problems."""
        return bool(self.skipped) and self.source != "angor"

    @property
    def needs_a_look(self) -> bool:
        return self.error is not None or self.skipped_needs_a_look


@dataclass(frozen=True)
class Problems:
    rejected_24h: int
    sync: list[SyncTrouble]
    flagged: dict[str, int]  # additional status -> invoices in the range

    @property
    def count(self) -> int:
        return bool(self.rejected_24h) + len(self.sync) + sum(1 for n in self.flagged.values() if n)


def sync_troubles() -> list[SyncTrouble]:
    """Sources whose last run failed or skipped records (a few SyncState rows)."""
    troubles = []
    for row in SyncState.select().order_by(SyncState.source):
        failed = row.last_error_time is not None and (row.last_success_time or 0) < row.last_error_time
        skipped = _skipped(row.last_result)
        if failed or skipped:
            troubles.append(SyncTrouble(row.source, row.last_error if failed else None, skipped))
    return troubles


def _skipped(last_result: str | None) -> dict[str, int]:
    try:
        skipped = json.loads(last_result or "{}").get("skipped") or {}
    except (ValueError, AttributeError):
        return {}
    return {str(reason): int(n) for reason, n in skipped.items() if isinstance(n, int) and n > 0}


def rejected_since(since_ms: int) -> int:
    return (
        WebhookDelivery.select()
        .where((WebhookDelivery.received_ms >= since_ms) & WebhookDelivery.verdict.not_in(list(ACCEPTED_VERDICTS)))
        .count()
    )


def problems(stores: tuple[int, ...], since: int | None, now: int) -> Problems:
    groups = rollup(("additional_status",), stores=stores, since=since, count_only=True)
    flagged = {flag: groups[(flag,)].count for flag in FLAGS if (flag,) in groups}
    troubles = [trouble for trouble in sync_troubles() if trouble.needs_a_look]
    return Problems(rejected_since((now - DAY) * 1000), troubles, flagged)
