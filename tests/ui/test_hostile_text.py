"""Text an unauthenticated client controls never reaches the terminal raw (review D1).

A request answered 401 can carry terminal escapes in its path, headers, body and
claimed envelope fields. The Webhooks tab and the delivery detail show them as
visible escapes (``\\x1b``); the store keeps the raw bytes.
"""

from __future__ import annotations

import json

from data import NOW
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


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_webhooks_tab_and_detail_show_escapes_never_raw_controls(make_app, store):
    row_id = hostile_delivery()
    app = make_app(sample_config())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await settle(app, pilot)
        tab = app.tab("webhooks")
        log = tab.query_one(DeliveryLog)
        assert log.selected.id == row_id
        shown = log.render_line(1).text
        assert not has_controls(shown) and "Invoice\\x1b]0;OWNED" in shown and "i\\x9b2J" in shown
        await pilot.press("t")  # the type filter names the hostile type
        await settle(app, pilot)
        filters = str(tab.query_one("#webhooks-filters").render())
        assert not has_controls(filters) and "OWNED" in filters

        await pilot.press("t")  # back to all types
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DeliveryDetailScreen)
        for part in ("#delivery-title", "#delivery-summary", "#delivery-headers", "#delivery-body"):
            text = str(app.screen.query_one(part).render())
            assert not has_controls(text), (part, text)
        summary = str(app.screen.query_one("#delivery-summary").render())
        assert "\\x1b[2J\\n2026-12-05" in summary  # the forged log line stays on the path's line
        assert "\\x9b2J" in summary
        body = str(app.screen.query_one("#delivery-body").render())
        assert "\\x9b2J raw C1" in body
    # The store keeps what was received.
    row = WebhookDelivery.get_by_id(row_id)
    assert OSC52 in row.delivery_id and CLEAR in row.path
