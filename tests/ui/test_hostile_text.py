"""Text an unauthenticated client controls never reaches the terminal raw (review D1).

A request answered 401 can carry terminal escapes in its path, headers, body and
claimed envelope fields. The Webhooks tab and the delivery detail show them as
visible escapes (``\\x1b``); the store keeps the raw bytes.
"""

from __future__ import annotations

import json

from conftest import settle
from data import NOW, shown_text
from data_extra import sample_config

from cftui.store.webhook_models import BAD_SIGNATURE, WebhookDelivery
from cftui.ui.screens.delivery_detail import DeliveryDetailScreen
from cftui.ui.widgets.delivery_log import DeliveryLog

OSC52 = "\x1b]52;c;cHduZWQ=\x07"  # sets the clipboard in tmux with set-clipboard on
TITLE = "\x1b]0;OWNED\x07"
CLEAR = "\x1b[2J"
C1_CSI = "\x9b2J"  # the 8-bit form of ESC [


def has_controls(text: str) -> bool:
    return any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in text)


def hostile_delivery() -> int:
    body = json.dumps({
        "deliveryId": "d" + OSC52, "webhookId": "w", "originalDeliveryId": "d", "isRedelivery": False,
        "type": "Invoice" + TITLE + "Settled", "timestamp": 1, "storeId": "x", "invoiceId": "i" + C1_CSI,
        "metadata": {"note": "\u009b2J raw C1 in a JSON string"},
    }, ensure_ascii=False).encode()
    row = WebhookDelivery.create(
        received_ms=NOW * 1000,
        remote="127.0.0.1",
        path="/webhook/" + CLEAR + "\n2026-12-05 06:52:23,599 WARNING cftui.forged: FAKE",
        store_name="main",
        signature="sha256=00",
        headers=json.dumps({"X-Title": TITLE, "User-Agent": "curl" + CLEAR}),
        body=body,
        body_size=len(body),
        verdict=BAD_SIGNATURE,
        reason="signature does not match" + CLEAR,
        http_status=401,
        delivery_id="d" + OSC52,
        original_delivery_id="d",
        event_type="Invoice" + TITLE + "Settled",
        invoice_id="i" + C1_CSI,
    )
    return row.id




async def test_webhooks_tab_and_detail_show_escapes_never_raw_controls(make_app, store):
    row_id = hostile_delivery()
    app = make_app(sample_config())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        tab = app.tab("webhooks")
        log = tab.query_one(DeliveryLog)
        assert log.selected.id == row_id
        shown = log.render_line(1).text
        assert not has_controls(shown) and "Invoice\\x1b]0;OWNED" in shown and "i\\x9b2J" in shown
        await pilot.press("t")  # the type filter names the hostile type
        await settle(pilot)
        filters = str(tab.query_one("#webhooks-filters").render())
        assert not has_controls(filters) and "OWNED" in filters

        await pilot.press("t")  # back to all types
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeliveryDetailScreen)
        for part in ("#delivery-title", "#delivery-summary", "#delivery-headers", "#delivery-body"):
            text = shown_text(app.screen.query_one(part))
            assert not has_controls(text), (part, text)
        summary = shown_text(app.screen.query_one("#delivery-summary"), 400)
        assert "\\x1b[2J\\n2026-12-05" in summary  # the forged log line stays on the path's line
        assert "\\x9b2J" in summary
        body = str(app.screen.query_one("#delivery-body").render())
        assert "\\x9b2J raw C1" in body
    # The store keeps what was received.
    row = WebhookDelivery.get_by_id(row_id)
    assert OSC52 in row.delivery_id and CLEAR in row.path


def hostile_invoice() -> str:
    """An invoice whose buyer-chosen fields (order id, email, item, metadata) carry terminal escapes."""
    import dataclasses

    import data

    from cftui.store import writer

    cfg = data.store_config("main")
    record = dataclasses.replace(
        data.extra_invoice(cfg, "HostileInvoice00000001", NOW - 60),
        order_id="order" + OSC52, buyer_email="eve" + C1_CSI + "@example.com", item_desc="perk" + CLEAR,
        metadata=json.dumps({"orderId": "order" + OSC52, "note": "\u009b2J raw C1", "title": TITLE},
                            ensure_ascii=False),
    )  # fmt: skip
    writer.upsert_invoices(writer.ensure_store(cfg), [record], synced_time=NOW)
    return record.invoice_id


async def test_invoice_fields_a_buyer_chose_are_shown_escaped(make_app, filled):
    from textual.widgets import DataTable

    from cftui.ui.screens.invoice_detail import InvoiceDetailScreen

    invoice_id = hostile_invoice()
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:  # wide: the order and buyer columns show
        await pilot.press("2")
        await settle(pilot)
        table = app.tab("invoices").query_one(DataTable)
        [row] = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count) if invoice_id in
                 [str(c) for c in table.get_row_at(i)]]  # fmt: skip
        assert not any(has_controls(cell) for cell in row) and any("\\x1b]52" in cell for cell in row), row
        table.move_cursor(row=[str(c) for c in table.get_column_at(1)].index(invoice_id))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        text = shown_text(app.screen.query_one("#invoice-detail-body"), 400)
        assert not has_controls(text), text
        assert "order\\x1b]52;c;cHduZWQ=\\x07" in text and "eve\\x9b2J@example.com" in text
        assert "perk\\x1b[2J" in text and "\\x9b2J raw C1" in text


async def test_angor_names_and_texts_from_nostr_are_shown_escaped(make_app, store):
    from data_extra import fill_angor, project_id
    from textual.widgets import DataTable

    from cftui.store.angor_models import AngorProfile, AngorProject

    fill_angor()
    project = AngorProject.get_by_id(project_id(0))
    AngorProject.update(name="Evil" + TITLE).where(AngorProject.project_id == project.project_id).execute()
    AngorProfile.update(description="about" + CLEAR, website="https://x" + OSC52).where(
        AngorProfile.pubkey == project.nostr_pubkey).execute()
    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        table = app.tab("angor").query_one(DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert not any(has_controls(name) for name in names) and any("Evil\\x1b]0" in name for name in names)
        table.move_cursor(row=table.get_row_index(project.project_id))
        await pilot.press("enter")
        await settle(pilot)
        shown = " ".join(shown_text(app.screen.query_one(part), 400)
                         for part in ("#project-title", "#project-description", "#project-links"))  # fmt: skip
        assert not has_controls(shown), shown
        assert "Evil\\x1b]0;OWNED\\x07" in shown and "about\\x1b[2J" in shown and "https://x\\x1b]52" in shown


async def test_a_crowdfund_title_is_shown_escaped_in_every_view(make_app, filled):
    import data
    from textual.widgets import DataTable

    from cftui.store.models import CrowdfundApp

    data.fill_campaigns()
    CrowdfundApp.update(title="Fund" + TITLE).where(CrowdfundApp.app_id == data.APP_ID).execute()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        progress = str(app.tab("overview").query_one("#overview-progress").render())
        assert not has_controls(progress) and "Fund\\x1b]0;OWNED\\x07" in progress
        for key, pane in (("6", "campaigns"), ("7", "payments")):
            await pilot.press(key)
            await settle(pilot)
            table = app.tab(pane).query_one(DataTable)
            cells = [str(cell) for i in range(table.row_count) for cell in table.get_row_at(i)]
            assert not any(has_controls(cell) for cell in cells), pane
            assert any(cell.startswith("Fund\\x1b]") for cell in cells), pane
        detail = shown_text(app.tab("campaigns").query_one("#campaign-detail"), 400)
        assert not has_controls(detail) and "Fund\\x1b]0;OWNED\\x07" in detail
