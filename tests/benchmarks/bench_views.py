"""The operator's views on 1,000,000 invoices (and ~560,000 payments): each beside a baseline from the same run.

Run: ``pytest tests/benchmarks/bench_views.py -s`` (the store is store_fill's cached 1M fill).

* campaigns: settled and pending per crowdfund (vs the same sums by a full-table GROUP BY);
* the payments feed: the newest page and a page 300,000 payments back by keyset (vs LIMIT/OFFSET there);
* totals in the store's currency, all time and 30 days (vs a full-table GROUP BY of the same sums);
* the Overview's problems (vs counting the flags with a full scan);
* the Payments and Campaigns tabs opening in the real app (vs their query alone).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from bench_dashboard import config_for, until, workers_done
from store_fill import DAY, END

from cftui.store import campaign_queries, currency_totals, payment_queries, problem_queries
from cftui.store.models import database

pytestmark = pytest.mark.benchmark
N = 1_000_000
ROUNDS = 5


def best_ms(fn) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def report(name: str, ms: float, baseline_name: str, baseline_ms: float, target_ms: float) -> None:
    ratio = baseline_ms / ms if ms else float("inf")
    verdict = "ok" if ms < target_ms else "OVER TARGET"
    print(f"\n{name}: {ms:.1f} ms (target < {target_ms:.0f} ms, {verdict}); {baseline_name}: {baseline_ms:.1f} ms; "
          f"x{ratio:.0f}")  # fmt: skip


def scan(sql: str) -> None:
    database.execute_sql(sql).fetchall()


def test_campaigns(big_store):
    ms = best_ms(lambda: campaign_queries.campaigns())
    base = best_ms(lambda: scan(
        'SELECT app_id, status, currency, COUNT(*), SUM(amount_e8) FROM "invoice" NOT INDEXED '
        "WHERE app_id IS NOT NULL AND status IN ('Settled', 'Processing') GROUP BY app_id, status, currency"))
    report("campaigns: settled and pending per crowdfund", ms, "full-table GROUP BY", base, 100)


def test_payments_feed(big_store):
    newest = best_ms(lambda: payment_queries.recent_payments(limit=200))
    deep = payment_queries.recent_payments(limit=1)  # walk to a cursor 300,000 back once, outside the timing
    rows = database.execute_sql(
        'SELECT received_time, id FROM "payment" ORDER BY received_time DESC, id DESC LIMIT 1 OFFSET 300000'
    ).fetchone()
    cursor = payment_queries.FeedCursor(rows[0], rows[1])
    keyset = best_ms(lambda: payment_queries.recent_payments(older_than=cursor, limit=200))
    offset = best_ms(lambda: scan(
        'SELECT p.id FROM "payment" p JOIN "invoice" i ON p.invoice_id = i.id '
        "ORDER BY p.received_time DESC, p.id DESC LIMIT 200 OFFSET 300000"))
    assert deep.rows and payment_queries.recent_payments(older_than=cursor, limit=200).rows
    total = database.execute_sql('SELECT COUNT(*) FROM "payment"').fetchone()[0]
    print(f"\n{total:,} payments in the store")
    report("payments feed: newest 200", newest, "LIMIT/OFFSET page 300,000 back", offset, 50)
    report("payments feed: 200 older than a cursor 300,000 back", keyset, "LIMIT/OFFSET page 300,000 back", offset,
           50)


def test_currency_totals(big_store):
    for label, since in (("all time", None), ("30 days", END - 30 * DAY)):
        ms = best_ms(lambda since=since: currency_totals.currency_totals("USD", (), since, None))
        where = "" if since is None else f"AND created_time >= {since}"
        base = best_ms(lambda where=where: scan(
            'SELECT created_time / 86400, status, additional_status, currency, COUNT(*), SUM(amount_e8), '
            f'SUM(btc_paid_sats) FROM "invoice" NOT INDEXED WHERE status IN (\'Settled\', \'Processing\') {where} '
            "GROUP BY 1, 2, 3, 4"))
        report(f"totals in USD, {label}", ms, "full-table GROUP BY", base, 100)


def test_problems(big_store):
    ms = best_ms(lambda: problem_queries.problems((), END - 30 * DAY, END))
    base = best_ms(lambda: scan(
        f'SELECT additional_status, COUNT(*) FROM "invoice" NOT INDEXED WHERE created_time >= {END - 30 * DAY} '
        "GROUP BY additional_status"))
    report("Overview problems (30 days)", ms, "flags counted with a full scan", base, 100)


async def reload_ms(app, pilot, tab, rounds: int = 3) -> float:
    """The best of ``rounds`` reloads of a tab: its worker, then the table and detail drawn."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        tab.reload()
        await workers_done(app)
        await pilot.pause()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def test_tabs_open(big_store, tmp_path):
    from cftui.config import Paths
    from cftui.ui.app import CftuiApp

    paths = Paths(config=tmp_path / "c.toml", db=tmp_path / "ui.sqlite3", log_dir=tmp_path)

    async def run() -> tuple[float, float]:
        app = CftuiApp(config_for(), paths, autostart=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await workers_done(app)
            await pilot.pause()
            await pilot.press("7")
            feed = await reload_ms(app, pilot, app.tab("payments"))
            await pilot.press("6")
            campaigns = app.tab("campaigns")
            await until(lambda: campaigns.details)
            return feed, await reload_ms(app, pilot, campaigns)

    feed_ms, campaigns_ms = asyncio.run(run())
    for name, ms, query_ms in (
        ("Payments tab reload (worker + 200-row table)", feed_ms,
         best_ms(lambda: payment_queries.recent_payments(limit=200))),
        ("Campaigns tab reload (worker + rows + detail)", campaigns_ms, best_ms(lambda: campaign_queries.campaigns())),
    ):  # fmt: skip
        verdict = "ok" if ms < 200 else "OVER TARGET"
        print(f"\n{name}: {ms:.1f} ms (target < 200 ms, {verdict}); its query alone: {query_ms:.1f} ms")
