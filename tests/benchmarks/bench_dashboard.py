"""Dashboard benchmark: the real app, headless, on 1,000,000 invoices.

Run: ``pytest tests/benchmarks/bench_dashboard.py -s`` (the 1M store is
H3's cached fill, ``store_fill.py``). Figures, each beside a baseline from the
same run:

* first paint: app start until the Overview shows its figures (vs an empty store);
* one page move in Invoices (vs moving the cursor one row);
* a text filter (vs reloading the unfiltered first page);
* the longest event-loop stall while a 100,000-invoice sync runs against the
  simulator in another process (vs the same idle app).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from store_fill import BIG, STORES

from cftui import clock
from cftui.config import Config, Paths, Secret, StoreConfig, SyncConfig
from cftui.store import changes, queries
from cftui.store.db import open_database
from cftui.store.models import Invoice
from cftui.sync.events import SyncFinished
from cftui.ui.app import CftuiApp
from cftui.ui.messages import SyncEventPosted
from cftui.ui.tabs.overview import OverviewLoaded
from cftui.ui.widgets.invoice_table import InvoiceTable

pytestmark = pytest.mark.benchmark
N = BIG  # the big_store fixture's invoices
SYNC_INVOICES = 100_000
TICK = 0.01  # seconds between loop probes


def config_for(stores=STORES) -> Config:
    return Config(
        btcpay=tuple(StoreConfig(name=n, url="http://127.0.0.1:9", store_id=s, api_key=Secret("k")) for n, s in stores)
    )


def report(name: str, ms: float, baseline_name: str, baseline_ms: float, target_ms: float) -> None:
    ratio = ms / baseline_ms if baseline_ms else float("inf")
    verdict = "ok" if ms < target_ms else "OVER TARGET"
    print(
        f"\n{name}: {ms:.1f} ms (target < {target_ms:.0f} ms, {verdict}); "
        f"{baseline_name}: {baseline_ms:.1f} ms; ratio {ratio:.2f}"
    )


async def workers_done(app) -> None:
    """Every worker finished; one a newer request cancelled counts as finished (harlequin's wait_for_workers)."""
    from textual.worker import WorkerCancelled

    try:
        await app.workers.wait_for_complete()
    except WorkerCancelled:
        pass


async def until(predicate, timeout: float = 30) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.001)


async def first_paint_ms(config: Config, paths: Paths) -> float:
    loaded: list[float] = []
    started = time.perf_counter()
    app = CftuiApp(config, paths, autostart=False)
    hook = lambda m: loaded.append(time.perf_counter()) if isinstance(m, OverviewLoaded) else None  # noqa: E731
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await until(lambda: loaded)
        await pilot.pause()  # the figures are on screen after this refresh
        return (time.perf_counter() - started) * 1000


def test_first_paint(big_store, tmp_path):
    # UI state goes to tmp_path, never next to the cached store.
    paths = Paths(config=tmp_path / "c.toml", db=tmp_path / "ui.sqlite3", log_dir=tmp_path)
    big = min(asyncio.run(first_paint_ms(config_for(), paths)) for _ in range(3))
    empty_db = tmp_path / "empty.sqlite3"
    open_database(empty_db)
    empty = min(asyncio.run(first_paint_ms(config_for(), paths)) for _ in range(3))
    open_database(big_store)
    report("first paint, 1M invoices", big, "first paint, empty store", empty, 1000)
    started = time.perf_counter()
    changes.read_marks()
    print(
        f"change-watch poll on 1M invoices: {(time.perf_counter() - started) * 1000:.1f} ms "
        "(in a thread worker, once a second)"
    )


def test_page_move_and_text_filter(big_store, tmp_path):
    paths = Paths(config=tmp_path / "c.toml", db=tmp_path / "ui.sqlite3", log_dir=tmp_path)

    async def run() -> tuple[float, float, float, float]:
        app = CftuiApp(config_for(), paths, autostart=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            tab = app.tab("invoices")
            await until(lambda: tab._shown.rows)
            await pilot.pause()
            table = tab.query_one(InvoiceTable)
            moves, queries_ms = [], []
            for _ in range(5):
                table.move_cursor(row=table.row_count - 1)
                await pilot.pause()
                offset, last = tab._shown.offset, tab._shown.page.last
                started = time.perf_counter()
                table.action_page_down()  # what PageDown does on the last row
                # Fetched in a worker, rendered into the table.
                await until(lambda offset=offset: tab._shown.offset != offset)
                moves.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                queries.page_invoices(queries.InvoiceFilter(), after=last, limit=app.config.ui.page_size)
                queries_ms.append((time.perf_counter() - started) * 1000)
            filters, reloads = [], []
            for prefix in ("Ab", "x9", "alice", "Z"):
                started = time.perf_counter()
                tab._apply_text(prefix)  # what the debounce timer or Enter calls
                await workers_done(app)
                await pilot.pause()
                filters.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                tab._apply_text("")
                await workers_done(app)
                await pilot.pause()
                reloads.append((time.perf_counter() - started) * 1000)
            assert tab._shown.total == N
            return min(moves), min(queries_ms), min(filters), min(reloads)

    move, query, text, reload = asyncio.run(run())
    report("page move (next 200 rows, worker + table)", move, "the keyset query alone", query, 50)
    report("text filter (prefix, count + first page)", text, "unfiltered first page reload", reload, 200)


def test_event_loop_stall_during_sync(tmp_path):
    from bench_sync import SimProcess

    sim = SimProcess(SYNC_INVOICES)
    try:
        db_path = tmp_path / "sync.sqlite3"
        open_database(db_path)
        paths = Paths(config=tmp_path / "c.toml", db=db_path, log_dir=tmp_path)
        store = StoreConfig(name="bench", url=sim.url, store_id=sim.store_id, api_key=Secret(sim.key))
        config = Config(btcpay=(store,), sync=SyncConfig(interval=3600))  # default page size (200)
        clock.freeze(None)

        async def probe(autostart: bool, seconds: float | None) -> tuple[float, float]:
            gaps: list[float] = []
            last = [time.perf_counter()]

            def tick() -> None:
                now = time.perf_counter()
                gaps.append(now - last[0] - TICK)
                last[0] = now

            finished: list[SyncEventPosted] = []

            def hook(message) -> None:
                if isinstance(message, SyncEventPosted) and isinstance(message.event, SyncFinished):
                    finished.append(message)

            app = CftuiApp(config, paths, autostart=autostart)
            # Wait on the sync's own message: polling the store from the event
            # loop (a COUNT over a growing table) would be a stall of our making.
            async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
                await pilot.pause()
                last[0] = time.perf_counter()
                app.set_interval(TICK, tick)
                started = time.perf_counter()
                if seconds is not None:
                    await asyncio.sleep(seconds)
                else:
                    await until(lambda: bool(finished), timeout=600)
                elapsed = time.perf_counter() - started
            return max(gaps) * 1000, elapsed

        idle_gap, _ = asyncio.run(probe(False, 5.0))
        sync_gap, sync_seconds = asyncio.run(probe(True, None))
        assert Invoice.select().count() == SYNC_INVOICES
        print(f"\n100,000-invoice sync took {sync_seconds:.1f} s with the dashboard open")
        report("longest event-loop stall during the sync", sync_gap, "idle app, longest tick gap", idle_gap, 100)
    finally:
        sim.stop()
