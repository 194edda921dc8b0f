"""`cftui demo`: the whole product on the built-in simulator, on its own store and config."""

from __future__ import annotations

import asyncio
import stat

from cftui import config as config_mod
from cftui.cli import main
from cftui.demo import Demo
from cftui.webhooks.btcpay_view import btcpay_deliveries


def test_headless_demo_syncs_every_source_into_its_own_store(tmp_path, capsys):
    db = tmp_path / "demo.sqlite3"
    assert main(["--db", str(db), "demo", "--headless", "--invoices", "150"]) == 0
    out = capsys.readouterr().out
    for source in ("btcpay:main-shop", "btcpay:hackerspace-fund", "angor"):
        assert source in out
    assert f"Demo store: {db}" in out
    demo_config = db.with_name("demo-config.toml")
    assert stat.S_IMODE(demo_config.stat().st_mode) == 0o600
    # The user's own config is never written by the demo.
    assert not config_mod.resolve_paths().config.exists()


def test_demo_stores_carry_their_webhook_ids_so_btcpays_delivery_list_can_be_read(tmp_path):
    with Demo(db_path=tmp_path / "demo.sqlite3", invoices=50, live=False) as demo:
        saved = config_mod.load(demo.config_path)
        assert [store.webhook_id for store in saved.btcpay] == [store.webhook_id for store in demo.config.btcpay]
        for store in demo.config.btcpay:
            assert store.webhook_id and store.webhook_secret
            # A wrong id would be a 404 from BTCPay's API (the simulator's): the list must be readable.
            assert isinstance(asyncio.run(btcpay_deliveries(store)), list)


def test_the_demo_config_names_the_apps_that_count_every_store_invoice(tmp_path):
    """The one goal setting Greenfield does not show comes from the config, as it would for a user."""
    with Demo(db_path=tmp_path / "demo.sqlite3", invoices=50, live=False) as demo:
        saved = config_mod.load(demo.config_path)
        for store in saved.btcpay:
            assert len(store.crowdfund_all_invoices) == 1
        assert saved.btcpay == demo.config.btcpay
