"""Store benchmark: the shared queries on 1,000,000 invoices, on SQLite and on PostgreSQL.

Run: ``pytest tests/benchmarks/bench_store.py -s`` (the first run builds and
caches the SQLite store, ~30 s; see ``store_fill.py``; the PostgreSQL store
is a ``cftui store migrate`` copy of it, made at the start of each run). Each
figure is printed beside a baseline measured in the same run on the same
database with the raw driver (``sqlite3``, psycopg): the naive query a
dashboard would otherwise run (a full-scan aggregate, an OFFSET page, an
unindexed case-insensitive LIKE, a full sort).
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from store_fill import DAY, END, filled_store

from cftui.store import queries
from cftui.store.db import open_database
from cftui.store.filters import InvoiceFilter

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(3600)]  # the PostgreSQL copy of the store takes minutes
N = 1_000_000


class RawPostgres:
    """psycopg with sqlite3's face: ``execute(sql, params).fetchall()``, ``?`` placeholders, LIKE that
    ignores case (as SQLite's does), and SQLite's ``NOT INDEXED`` as index scans turned off."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: tuple | None = None):
        sql = sql.replace("?", "%s").replace(" LIKE ", " ILIKE ")
        if " NOT INDEXED " not in sql:
            return self.conn.execute(sql, params)
        with self.conn.transaction():
            for setting in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
                self.conn.execute(f"SET LOCAL {setting} = off")
            return self.conn.execute(sql.replace(" NOT INDEXED ", " "), params)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request):
    path = filled_store(N)
    if request.param == "sqlite":
        target, raw = str(path), None
    else:
        from cftui.store.copy import copy_store

        pg = request.getfixturevalue("bench_pg")
        target = pg.schema("bench_store")
        started = time.perf_counter()
        copy_store(str(path), target)
        print(f"\n{pg.described}; the 1,000,000-invoice store copied in {time.perf_counter() - started:.0f} s")
        raw = RawPostgres(target)
    db = open_database(target)
    raw = raw or sqlite3.connect(path)
    print(f"\n--- {request.param}")
    yield raw
    raw.close()
    db.close()


def best_ms(fn, repeat: int = 7):
    """Best of ``repeat`` runs (after one warm-up), and the last result."""
    result = fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000, result


def report(name: str, ms: float, baseline_name: str, baseline_ms: float, target_ms: float) -> None:
    verdict = "ok" if ms < target_ms else "OVER TARGET"
    print(
        f"\n{name:<44} {ms:9.2f} ms  (target < {target_ms:g} ms: {verdict})"
        f"\n  baseline {baseline_name:<35} {baseline_ms:9.2f} ms  ratio x{baseline_ms / ms:,.1f}"
    )


def test_kpis(store):
    ms, k = best_ms(lambda: queries.kpis())
    range_ms, _ = best_ms(lambda: queries.kpis(since=END - 30 * DAY - 4321, until=END - 999))
    store_ms, _ = best_ms(lambda: queries.kpis(stores=(2,), since=END - 90 * DAY + 77))
    sql = (
        "SELECT status, additional_status, currency, COUNT(*), SUM(amount_e8), SUM(btc_paid_sats)"
        " FROM invoice GROUP BY status, additional_status, currency"
    )
    base_ms, rows = best_ms(lambda: store.execute(sql).fetchall(), repeat=3)
    assert k.total == sum(r[3] for r in rows) == N
    assert k.settled.sats == sum(r[5] or 0 for r in rows if r[0] == "Settled")
    report("KPIs, all time (sums, medians, conversion)", ms, "full-scan GROUP BY", base_ms, 100)
    report("KPIs, 30 days, ragged edges", range_ms, "full-scan GROUP BY", base_ms, 100)
    report("KPIs, one store, 90 days", store_ms, "full-scan GROUP BY", base_ms, 100)
    assert ms < base_ms


def test_keyset_page(store):
    f = InvoiceFilter()
    middle = queries.page_at_offset(f, "created", True, N // 2, 200)
    ms, page = best_ms(lambda: queries.page_invoices(f, after=middle.last))
    sql = "SELECT * FROM invoice ORDER BY created_time DESC, id DESC LIMIT 200 OFFSET ?"
    base_ms, rows = best_ms(lambda: store.execute(sql, (N // 2 + 200,)).fetchall(), repeat=3)
    assert [r.pk for r in page.rows] == [r[0] for r in rows]
    report("keyset page of 200 at row 500,000", ms, "LIMIT/OFFSET page", base_ms, 5)
    end_ms, last = best_ms(lambda: queries.page_at_offset(f, "created", True, N - 200, 200))
    known_ms, _ = best_ms(lambda: queries.page_at_offset(f, "created", True, N - 200, 200, total=N))
    end_base_ms, rows = best_ms(lambda: store.execute(sql, (N - 200,)).fetchall(), repeat=3)
    assert [r.pk for r in last.rows] == [r[0] for r in rows]
    report("last page (End), counting first", end_ms, "LIMIT/OFFSET last page", end_base_ms, 5)
    report("last page (End), count known (the UI has it)", known_ms, "LIMIT/OFFSET last page", end_base_ms, 5)
    assert ms < base_ms


def filtered_for(text: str):
    """What the Invoices tab runs when `/` filters: the count for "rows X-Y of N" and the first page."""
    f = InvoiceFilter(text=text)
    count = queries.count_invoices(f)
    return count, queries.page_invoices(f, total=count)


def test_text_filter_and_count(store):
    ms, (count, page) = best_ms(lambda: filtered_for("ab"))
    broad_ms, (broad_count, _) = best_ms(lambda: filtered_for("alice"))
    sql = (
        "SELECT COUNT(*) FROM invoice WHERE invoice_id LIKE 'ab%' OR order_id LIKE 'ab%'"
        " OR buyer_email LIKE 'ab%'"
    )
    base_ms, ((base_count,),) = best_ms(lambda: store.execute(sql).fetchall(), repeat=3)
    # LIKE is case-insensitive for ids too, so it finds more than the prefix match.
    assert 0 < count <= base_count and len(page.rows) == min(200, count)
    report(f"text 'ab': count ({count:,}) + first page", ms, "LIKE 'ab%' count (full scan)", base_ms, 200)
    report(f"text 'alice': count ({broad_count:,}) + first page", broad_ms, "LIKE 'ab%' count", base_ms, 200)
    assert ms < base_ms


def test_sort_by_amount(store):
    ms, page = best_ms(lambda: queries.page_invoices(InvoiceFilter(), sort="amount"))
    sql = "SELECT * FROM invoice ORDER BY amount_e8 + 0 DESC, id DESC LIMIT 200"  # no index: a full sort
    base_ms, rows = best_ms(lambda: store.execute(sql).fetchall(), repeat=3)
    assert [r.pk for r in page.rows] == [r[0] for r in rows]
    report("sort by amount, first page", ms, "full sort (no index)", base_ms, 5)
    settled_ms, _ = best_ms(lambda: queries.page_invoices(InvoiceFilter(statuses=("Settled",)), sort="amount"))
    report("sort by amount, Settled only, first page", settled_ms, "full sort (no index)", base_ms, 5)
    assert ms < base_ms


def test_crowdfund_progress(store):
    """BTCPay's crowdfund figure for two apps of ~43,000 invoices each, and for an app that counts every
    invoice of its store (~430,000) from a reset a quarter ago. The baseline sums the same columns with a
    full scan per app, as a query without the covering index or the roll-up would."""
    from cftui import clock
    from cftui.store.models import CrowdfundApp

    clock.freeze(END)  # the fill's invoices end here; a reset period is found from now
    ms, apps = best_ms(lambda: queries.crowdfund_progress())
    columns = ", ".join(f"SUM({c})" for c in ("cf_settled_e8", "cf_settled_e18", "cf_settled_e28",
                                              "cf_pending_e8", "cf_pending_e18", "cf_pending_e28"))
    sql = (f"SELECT status, currency, COUNT(*), SUM(amount_e8), SUM(btc_paid_sats), {columns} FROM invoice "
           "NOT INDEXED WHERE app_id = ? AND store_id = 1 GROUP BY status, currency")
    base_ms, _ = best_ms(lambda: [store.execute(sql, (a.app_id,)).fetchall() for a in apps], repeat=3)
    assert len(apps) == 2 and all(a.contributions > 10_000 and a.settled > 0 for a in apps)
    report("crowdfund progress, 2 apps (~43,000 invoices each)", ms, "full-scan sums per app", base_ms, 100)
    CrowdfundApp.update(all_store_invoices=True, reset_every="Month", reset_every_amount=3,
                        start_time=END - 730 * DAY + 4321).where(CrowdfundApp.app_id == apps[0].app_id).execute()
    try:
        every_ms, changed = best_ms(lambda: queries.crowdfund_progress())
    finally:
        CrowdfundApp.update(all_store_invoices=False, reset_every="Never", start_time=None).execute()
        clock.freeze(None)
    assert changed[0].all_store_invoices and changed[0].contributions > apps[0].contributions // 10
    report("crowdfund progress, one app counting the store, reset", every_ms, "full-scan sums per app", base_ms, 100)
    assert ms < base_ms
