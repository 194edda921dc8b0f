"""The status line shows the invoices a store's syncs could not read, waiting for a retry (review D5)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import data
from conftest import WAIT_SECONDS, settle, wait_for
from test_store_changes import elsewhere

from cftui.store.models import SkippedInvoice, SyncState, database
from cftui.store.writer import ensure_store
from cftui.store_location import is_postgres
from cftui.sync.events import SyncFinished, SyncResult
from cftui.ui.app import CftuiApp
from cftui.ui.messages import SyncEventPosted
from cftui.ui.widgets.status_line import SPINNER, SyncStatusLine

IDS = ("Fq7UnreadA1", "Fq7UnreadB2", "Fq7UnreadC3")


def status(app) -> SyncStatusLine:
    return app.query_one(SyncStatusLine)


async def test_unread_invoices_show_with_a_count_and_their_ids(make_app, filled):
    store = ensure_store(data.store_config("main"))
    for invoice_id in IDS:
        SkippedInvoice.create(store=store, invoice_id=invoice_id, reason="amount is not a decimal",
                              skipped_time=data.NOW)
    SkippedInvoice.create(store=store, created_time=data.NOW - 60, reason="missing id", skipped_time=data.NOW)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        line = status(app)
        assert "main ✓ 2 min ago ⚠ 4 unread" in str(line.render())
        tooltip = str(line.tooltip)
        assert "4 invoices of main could not be read" in tooltip and all(i in tooltip for i in IDS)
        assert "no id, created" in tooltip

        # A sync that read them all clears it; one that left some shows the new count.
        app.post_message(SyncEventPosted(SyncFinished(SyncResult("btcpay:main", unread=1, unread_ids=(IDS[0],)))))
        await settle(pilot)
        assert "main ✓ just now ⚠ 1 unread" in str(line.render()) and IDS[0] in str(line.tooltip)
        app.post_message(SyncEventPosted(SyncFinished(SyncResult("btcpay:main"))))
        await settle(pilot)
        assert "unread" not in str(line.render()) and not line.tooltip


async def until_shown(pilot, line: SyncStatusLine, text: str) -> str:
    """The line once it shows ``text`` (the change feed is read about once a second)."""
    await wait_for(pilot, lambda: text in str(line.render()), f"the status line to show {text!r}")
    return str(line.render())


async def test_a_sync_by_another_process_moves_the_count_here_too(db, store_target, tmp_path):
    """A daemon (or a dashboard on another host, sharing a PostgreSQL store) syncs `main`: this dashboard's
    line shows what that sync found unreadable, and that a later one read it, within about a second."""
    store = ensure_store(data.store_config("main"))
    where = {"db_url": store_target} if is_postgres(store_target) else {"db": Path(store_target)}
    app = CftuiApp(data.make_config(("main",)), dataclasses.replace(data.make_paths(tmp_path), **where),
                   autostart=False)  # fmt: skip
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        line = status(app)
        assert "main not synced yet" in str(line.render()) and not line.tooltip
        app.watch_store()  # what autostart does, without syncing here

        def sync_listing_two() -> None:
            with database.atomic():
                for invoice_id in IDS[:2]:
                    SkippedInvoice.create(store=store, invoice_id=invoice_id, reason="amount is not a decimal",
                                          skipped_time=data.NOW - 120)  # fmt: skip
                SyncState.create(source="btcpay:main", last_started_time=data.NOW - 125,
                                 last_success_time=data.NOW - 120)  # fmt: skip

        elsewhere(sync_listing_two)
        assert "main ✓ 2 min ago ⚠ 2 unread" in await until_shown(pilot, line, "unread")
        assert all(invoice_id in str(line.tooltip) for invoice_id in IDS[:2])

        def sync_reading_them() -> None:
            with database.atomic():
                SkippedInvoice.delete().execute()
                SyncState.update(last_success_time=data.NOW).execute()

        elsewhere(sync_reading_them)
        assert "main ✓ just now" in await until_shown(pilot, line, "just now")
        assert "unread" not in str(line.render()) and not line.tooltip


async def test_the_stored_states_are_read_off_the_event_loop_and_a_sync_event_meanwhile_wins(make_app, filled,
                                                                                            monkeypatch):
    """The line mounts at once; what the store remembers comes from a worker thread. A sync that starts before
    that read ends is newer than it: its spinner stays."""
    import threading

    from cftui.sync.events import SyncStarted
    from cftui.ui.widgets import status_line

    release = threading.Event()
    readers: list[threading.Thread] = []
    real = status_line.sync_states

    def held(sources):
        readers.append(threading.current_thread())
        release.wait(WAIT_SECONDS)
        return real(sources)

    monkeypatch.setattr(status_line, "sync_states", held)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: readers, "the read to start")
        assert readers[0] is not threading.main_thread()
        assert "main not synced yet" in str(status(app).render())  # drawn before the store answered
        app.post_message(SyncEventPosted(SyncStarted("btcpay:main", "incremental")))
        await pilot.pause()
        release.set()
        await settle(pilot)
        text = str(status(app).render())
        assert "main ✓" not in text and any(frame in text for frame in SPINNER)  # the sync, not the old state
        assert "shop ✗ BTCPay at shop.btcpay" in text  # the store's word for the source no event spoke of


async def test_the_stored_states_never_take_back_a_success_this_dashboard_saw(make_app, filled):
    """The change feed reads the stored states whenever invoices change (every few seconds in the demo). A source
    whose newer success this dashboard heard of directly keeps it: once, Angor went back to "not synced yet" while
    its tab listed every project."""
    from cftui.ui.widgets.status_line import SourceStatus

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        line = status(app)
        app.post_message(SyncEventPosted(SyncFinished(SyncResult("btcpay:main"))))
        await settle(pilot)
        assert "main ✓ just now" in str(line.render())
        line.show_stored({"btcpay:main": SourceStatus(last_success=data.NOW - 3600)})  # an older run, stored
        assert "main ✓ just now" in str(line.render())
        line.show_stored({"btcpay:main": SourceStatus()})  # nothing stored at all
        assert "main ✓ just now" in str(line.render())
        line.show_stored({"btcpay:main": SourceStatus(last_success=data.NOW + 5)})  # a newer one, elsewhere
        assert "main ✓ just now" in str(line.render()) and line.states["btcpay:main"].last_success == data.NOW + 5
