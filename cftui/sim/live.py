"""Live mode: new invoices arrive and move through their lifecycle on a compressed clock.

Every ``interval`` seconds one store gets a new invoice with a scripted future
(paid on-chain, paid over Lightning, partial then expired, late, overpaid,
invalid, never paid...). Script times are BTCPay durations (15 min expiry,
10-30 min confirmations) divided by ``speedup``. Every change goes through
:mod:`cftui.sim.lifecycle`, so listeners see the webhook events.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

from cftui.sim import lifecycle
from cftui.sim.config import LiveConfig
from cftui.sim.generator import EXPIRATION_MINUTES, LIGHTNING, ONCHAIN, SimInvoice, lightning_msat, pick_weighted
from cftui.sim.state import SimState

log = logging.getLogger(__name__)

EXPIRY = EXPIRATION_MINUTES * 60
# (name, weight): what will happen to a new invoice.
SCRIPTS = (
    ("paid_onchain", 28), ("paid_lightning", 24), ("paid_both", 6), ("overpaid", 6),
    ("partial", 8), ("unpaid", 16), ("late", 5), ("invalid", 4), ("marked", 3),
)


class LiveMode:
    def __init__(self, state: SimState, config: LiveConfig) -> None:
        self.state = state
        self.config = config
        self._rng = random.Random(f"live/{state.config.seed}")
        self._task: asyncio.Task[None] | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self._store_ids = list(state.stores)
        self.created = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="cftui-sim-live")

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.config.interval)
            try:
                self.step()
            except Exception:  # keep the demo alive; the failure is in the log
                log.exception("live mode step failed")

    def step(self) -> SimInvoice:
        """Create one invoice and schedule its future (one tick of live mode)."""
        store_id = self._store_ids[self.created % len(self._store_ids)]
        store = self.state.stores[store_id]
        self.created += 1
        rng = self._rng
        index = store.total
        currency, amount_minor, metadata, app_id = store.gen.contents(rng, index, store.next_created())
        script = pick_weighted(rng, SCRIPTS)
        invoice = lifecycle.create_invoice(
            self.state, store_id, amount_minor=amount_minor, currency=currency, metadata=metadata, app_id=app_id
        )
        self._schedule_script(invoice, script, rng)
        return invoice

    def _later(self, sim_seconds: int, action: Callable[[], object]) -> None:
        """Run ``action`` after ``sim_seconds`` of compressed time."""
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.discard(handle)
            try:
                action()
            except Exception:
                log.exception("live mode action failed")

        handle = loop.call_later(sim_seconds / self.config.speedup, fire)
        self._timers.add(handle)

    def _schedule_script(self, invoice: SimInvoice, script: str, rng: random.Random) -> None:
        state, due = self.state, invoice.due_sats
        pay_at = rng.randint(20, 600)
        confirm_at = pay_at + rng.randint(600, 1800)

        def pay(method: str, sats: int) -> Callable[[], object]:
            extra, fee = lightning_msat(invoice) if method == LIGHTNING else (0, 0)
            return lambda: lifecycle.receive_payment(state, invoice, method, sats, extra_msat=extra, fee_msat=fee)

        confirm = lambda: lifecycle.confirm(state, invoice)  # noqa: E731
        self._later(EXPIRY, lambda: lifecycle.expire(state, invoice))
        if script == "paid_onchain":
            self._later(pay_at, pay(ONCHAIN, due))
            self._later(confirm_at, confirm)
        elif script == "paid_lightning":
            self._later(pay_at, pay(LIGHTNING, due))
        elif script == "paid_both":
            first = due * rng.randint(30, 70) // 100
            self._later(pay_at, pay(ONCHAIN, first))
            self._later(pay_at + 60, pay(LIGHTNING, due - first))
            self._later(confirm_at, confirm)
        elif script == "overpaid":
            self._later(pay_at, pay(ONCHAIN, due * rng.randint(105, 130) // 100))
            self._later(confirm_at, confirm)
        elif script == "partial":
            self._later(pay_at, pay(ONCHAIN, due * rng.randint(20, 80) // 100))
            self._later(confirm_at, confirm)
        elif script == "late":
            self._later(EXPIRY + rng.randint(60, 900), pay(ONCHAIN, due))
            self._later(EXPIRY + 2400, confirm)
        elif script == "invalid":
            self._later(pay_at, pay(ONCHAIN, due))
            # The real monitoring window is a day; an hour keeps the demo lively.
            self._later(3600, lambda: lifecycle.invalidate(state, invoice))
        elif script == "marked":
            self._later(EXPIRY + 300, lambda: lifecycle.mark(state, invoice, "Settled"))
