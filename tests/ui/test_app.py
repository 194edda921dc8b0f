"""The dashboard shell: tabs, status line, sync scheduling, keymap, help, palette, CLI entry."""

from __future__ import annotations

import dataclasses

import data
import pytest
from conftest import settle, store_on, toast_texts, wait_for
from textual.widgets import TabbedContent

from cftui.cli import main as cli_main
from cftui.config import Config, SyncConfig, UIConfig
from cftui.errors import ConfigError
from cftui.sim.faults import Faults
from cftui.store.models import Invoice
from cftui.store.webhook_models import WebhookDelivery
from cftui.sync.events import SyncFinished, SyncProgress, SyncResult, SyncStarted
from cftui.ui.messages import DataChanged, SyncEventPosted
from cftui.ui.screens.help import HelpScreen
from cftui.ui.screens.invoice_detail import InvoiceDetailScreen
from cftui.ui.widgets.status_line import SPINNER, SyncStatusLine


def status_text(app) -> str:
    return str(app.query_one(SyncStatusLine).render())


async def test_number_keys_switch_tabs_and_the_tab_is_remembered(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.tabbed.active == "overview"
        for key, pane in (("2", "invoices"), ("3", "angor"), ("4", "webhooks"), ("5", "settings"), ("2", "invoices")):
            await pilot.press(key)
            await settle(pilot)
            assert app.tabbed.active == pane
    again = make_app()
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert again.tabbed.active == "invoices"


async def test_status_line_starts_from_the_stored_sync_state(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = status_text(app)
        assert "main ✓ 2 min ago" in text
        assert "shop ✗ BTCPay at shop.btcpay" in text


async def test_sync_events_drive_the_status_line_toasts_bell_and_reload(make_app, filled):
    app = make_app(data.make_config(bell=True))
    rings: list[int] = []
    app.bell = lambda: rings.append(1)
    seen: list[DataChanged] = []
    async with app.run_test(
        size=(120, 40), message_hook=lambda m: seen.append(m) if isinstance(m, DataChanged) else None
    ) as pilot:
        await settle(pilot)
        app.post_message(SyncEventPosted(SyncStarted("btcpay:main", "incremental")))
        app.post_message(SyncEventPosted(SyncProgress("btcpay:main", 1200, None)))
        await pilot.pause()
        running = status_text(app)
        assert "main " in running and " 1,200" in running
        assert any(frame in running for frame in SPINNER)
        result = SyncResult("btcpay:main", fetched=1200, new=2, newly_settled=["INV-A", "INV-B"])
        app.post_message(SyncEventPosted(SyncFinished(result)))
        await settle(pilot)
        assert "main ✓ just now" in status_text(app)
        # The Payments tab, not the sync, announces settled contributions (test_payments.py).
        assert not any("settled" in n.lower() for n in toast_texts(app)) and rings == []
        assert any("invoices" in m.sources for m in seen)
        failed = SyncResult("btcpay:shop", error="BTCPay rejected the API key for store 'shop'.")
        app.post_message(SyncEventPosted(SyncFinished(failed)))
        await settle(pilot)
        assert "shop ✗ BTCPay rejected the API key…" in status_text(app)
        assert any("Sync of shop failed: BTCPay rejected the API key" in n for n in toast_texts(app))


async def test_r_syncs_a_real_store_in_a_worker_and_reschedules(make_app, store, sim_factory):
    # Slow answers keep the sync running long enough to press r again while it runs.
    thread, url = sim_factory(invoices=120, seed=3, faults=Faults(delay_ms=300))
    config = Config(btcpay=(store_on(thread, url),), sync=SyncConfig(interval=3600, retry_budget=5))
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # A second press while the first sync runs never starts a second sync of the store.
        await pilot.press("r", "r")
        assert toast_texts(app)[-1:] == [
            "Already syncing: the header shows each source's progress."
        ]  # no toast on a start (L5)
        await settle(pilot)
        assert not app.scheduler.is_running("btcpay:main")
        assert "main ✓ just now" in status_text(app)
        assert Invoice.select().count() == 120
        assert app.scheduler.is_scheduled("btcpay:main")  # the next run is scheduled after this one ended


async def test_a_write_by_another_process_triggers_data_changed(make_app, filled, paths):
    app = make_app(Config(), autostart=True)  # nothing to sync; only the change watcher runs
    seen: list[DataChanged] = []
    async with app.run_test(
        size=(80, 24), message_hook=lambda m: seen.append(m) if isinstance(m, DataChanged) else None
    ) as pilot:
        await settle(pilot)
        import sqlite3

        other = sqlite3.connect(paths.db)
        other.execute(
            "INSERT INTO webhook_delivery (received_ms, remote, method, path, headers, body_size, verdict, http_status,"
            " is_redelivery, processed)"
            " VALUES (?, '127.0.0.1', 'POST', '/webhook/main', '{}', 0, 'verified', 200, 0, 0)",
            (data.NOW * 1000,),
        )
        other.commit()
        other.close()
        await wait_for(pilot, lambda: any("webhooks" in m.sources for m in seen), "the change watcher's DataChanged")
        assert WebhookDelivery.select().count() == 1


async def test_keymap_remaps_keys_and_warns_about_unknown_ids(make_app, filled):
    config = data.make_config(keymap={"tab.invoices": "i", "no.such.binding": "x"})
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any("no.such.binding" in n for n in toast_texts(app))
        await pilot.press("2")  # the default key no longer switches
        assert app.tabbed.active == "overview"
        await pilot.press("i")
        await settle(pilot)
        assert app.tabbed.active == "invoices"


async def test_help_lists_the_tab_and_app_keys_with_remaps(make_app, filled):
    app = make_app(data.make_config(keymap={"invoices.filter": "ctrl+f"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        sections = app.screen.sections
        ids = {row.binding_id: row.keys for _, rows in sections for row in rows if row.binding_id}
        assert ids["invoices.filter"] == "^f"
        assert ids["sync_now"] == "r"
        assert sections[0][0] == "Invoices"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


def palette_hits(app) -> list[str]:
    """The command palette's hits as shown, best first."""
    lists = app.screen.query("CommandList")
    return [str(option.prompt) for option in lists.first().options] if lists else []


async def test_palette_opens_an_invoice_by_id_prefix(make_app, filled):
    app = make_app()
    target = filled.newest_main
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*target[:10])
        await wait_for(pilot, lambda: any(target in hit for hit in palette_hits(app)), "the invoice among the hits")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        assert app.screen.detail.row.invoice_id == target


async def test_palette_open_invoice_prompts_for_an_id(make_app, filled):
    from cftui.ui.screens.open_invoice import OpenInvoicePrompt

    app = make_app()
    target = filled.newest_main
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"open invoice")
        await wait_for(pilot, lambda: palette_hits(app)[:1] and "Open invoice…" in palette_hits(app)[0],
                       "the command as the top hit")  # fmt: skip
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OpenInvoicePrompt)
        await pilot.press(*"zzzz-no-such", "enter")
        await settle(pilot)
        assert "no invoice has this id" in str(app.screen.query_one("#open-invoice-error").render())
        prompt = app.screen.query_one("#open-invoice-id")
        prompt.value = ""
        await pilot.press(*target[:12], "enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        assert app.screen.detail.row.invoice_id == target


def test_no_color_picks_ansi_dark_and_strips_colour(monkeypatch, paths, store):
    from textual.filter import NoColor

    from cftui.ui.app import CftuiApp

    monkeypatch.setenv("NO_COLOR", "1")
    app = CftuiApp(data.make_config(), paths, autostart=False)
    assert app.theme == "ansi-dark"
    assert any(isinstance(f, NoColor) for f in app.get_line_filters())
    explicit = CftuiApp(data.make_config(), paths, theme="nord", autostart=False)
    assert explicit.theme == "nord"


def test_theme_from_config_and_an_unknown_theme_is_one_clear_error(paths, store):
    from cftui.ui.app import CftuiApp

    assert CftuiApp(Config(ui=UIConfig(theme="gruvbox")), paths, autostart=False).theme == "gruvbox"
    with pytest.raises(ConfigError, match="Unknown theme 'nope'"):
        CftuiApp(Config(), paths, theme="nope", autostart=False)


def test_cftui_with_nothing_configured_points_to_demo_and_config_init(tmp_path, capsys):
    code = cli_main(["--config", str(tmp_path / "none.toml"), "--db", str(tmp_path / "db.sqlite3")])
    out = capsys.readouterr().out
    assert code == 3  # the README's exit code for a missing config
    assert "nothing is configured" in out
    assert "cftui demo" in out and "cftui config init" in out
    assert not (tmp_path / "db.sqlite3").exists()


async def test_tabs_widget_has_the_seven_panes(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        panes = [p.id for p in app.query_one(TabbedContent).query("TabPane")]
        assert panes == ["overview", "invoices", "angor", "webhooks", "settings", "campaigns", "payments"]


async def test_a_taken_receiver_port_is_a_clear_warning_not_a_crash(make_app, store, tmp_path):
    import socket

    from cftui.config import WebhooksConfig

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = dataclasses.replace(data.make_config(), webhooks=WebhooksConfig(enabled=True, port=port))
        app = make_app(config, autostart=True)
        async with app.run_test(size=(80, 24)) as pilot:

            def warned() -> bool:  # the receiver starts on mount (the stores' syncs fail later)
                return any(
                    f"127.0.0.1:{port}" in m and "already in use" in m and "still show in the Webhooks tab" in m
                    for m in toast_texts(app)
                )

            await wait_for(pilot, warned, "the warning about the taken port")
            assert app.is_running


async def test_palette_commands_run_the_apps_actions(make_app, filled, tmp_path, monkeypatch):
    """Each cftui command is an action of the app: switch the Overview's store, export the invoices."""
    from cftui.ui.commands import CftuiCommands

    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        commands = {title: run for title, _, run in CftuiCommands(app.screen).commands()}
        await commands["Switch store: main"]()
        await settle(pilot)
        assert app.tabbed.active == "overview" and app.tab("overview").store_name == "main"
        assert "Store main" in str(app.tab("overview").query_one("#overview-bar").render())
        await commands["Export invoices as CSV"]()
        await settle(pilot)
        [written] = tmp_path.glob("cftui-invoices-*.csv")
        assert len(written.read_text(encoding="utf-8").splitlines()) == 1 + data.INVOICES_PER_STORE * len(data.STORES)
