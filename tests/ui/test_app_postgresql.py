"""The dashboard on a PostgreSQL store: it pages the team's invoices and hears another process write."""

from __future__ import annotations

import dataclasses

import data
import pytest
from conftest import settle, wait_for

from cftui.config import Config
from cftui.ui.app import CftuiApp
from cftui.ui.messages import DataChanged
from cftui.ui.widgets.invoice_table import InvoiceTable

pytestmark = pytest.mark.parametrize("engine_name", ["postgresql"])


async def test_the_dashboard_pages_a_postgresql_store_and_hears_another_writer(db, store_target, tmp_path):
    import psycopg

    data.fill_invoices()
    paths = dataclasses.replace(data.make_paths(tmp_path), db_url=store_target)
    app = CftuiApp(Config(), paths, autostart=True)  # nothing to sync; the change feed listens
    app.animation_level = "none"
    seen: list[DataChanged] = []
    async with app.run_test(size=(120, 40), message_hook=lambda m: seen.append(m) if isinstance(m, DataChanged)
                            else None) as pilot:  # fmt: skip
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        table = app.tab("invoices").query_one(InvoiceTable)
        assert table.row_count == min(data.INVOICES_PER_STORE * len(data.STORES), 200)

        with psycopg.connect(store_target, autocommit=True) as other:  # another process, as far as the app knows
            other.execute(
                "INSERT INTO webhook_delivery (received_ms, remote, method, path, headers, body_size, verdict,"
                " http_status, is_redelivery, processed) VALUES (%s, '127.0.0.1', 'POST', '/webhook/main', '{}', 0,"
                " 'verified', 200, false, false)",
                (data.NOW * 1000,),
            )
        await wait_for(pilot, lambda: any("webhooks" in m.sources for m in seen), "the change feed to report it")
        assert any({"webhooks", "invoices"} <= m.sources for m in seen)
