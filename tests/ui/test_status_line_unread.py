"""The status line shows the invoices a store's syncs could not read, waiting for a retry (review D5)."""

from __future__ import annotations

import data
from conftest import settle

from cftui.store.models import SkippedInvoice
from cftui.store.writer import ensure_store
from cftui.sync.events import SyncFinished, SyncResult
from cftui.ui.messages import SyncEventPosted
from cftui.ui.widgets.status_line import SyncStatusLine

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

