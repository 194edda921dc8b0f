"""The Settings tab: a form over the config, saved 0600 and applied live; keys never shown."""

from __future__ import annotations

import dataclasses
import stat
import tomllib

import pytest
from conftest import received, settle
from data_extra import API_KEY, sample_config
from textual.widgets import Input, Select, Switch

from cftui.config import Secret, resolve_paths, save
from cftui.ui.messages import ConfigSaved


@pytest.fixture
def config_file(paths):
    """The sample config saved where the app will write it."""
    config = sample_config()
    save(config, paths.config)
    return config




async def open_tab(app, pilot):
    await pilot.press("5")
    await settle(pilot)
    return app.tab("settings")


async def type_into(pilot, tab, selector: str, text: str) -> None:
    field = tab.query_one(selector, Input)
    field.value = ""
    field.focus()
    await pilot.press(*text)


def written(paths) -> dict:
    return tomllib.loads(paths.config.read_text(encoding="utf-8"))


async def test_form_shows_the_config_with_the_api_key_masked(make_app, store, config_file):
    app = make_app(config_file)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        assert tab.query_one("#store-name", Input).value == "main"
        assert tab.query_one("#store-url", Input).value == "https://btcpay.example.com"
        assert tab.query_one("#hooks-port", Input).value == "8765"
        assert "••••••••" in str(tab.query_one("#store-key-state").render())
        assert API_KEY not in app.export_screenshot()
        # The second store takes its key from the environment: say so, show nothing.
        tab.query_one("#store-select", Select).value = 1
        await pilot.pause()
        assert "from environment variable SHOP_KEY" in str(tab.query_one("#store-key-state").render())


async def test_changing_settings_and_saving_writes_0600_and_applies(make_app, store, paths, config_file):
    app = make_app(config_file)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        await type_into(pilot, tab, "#hooks-port", "9999")
        tab.query_one("#hooks-enabled", Switch).value = True
        await type_into(pilot, tab, "#sync-interval", "120")
        tab.query_one("#angor-enabled", Switch).value = True
        tab.query_one("#angor-network", Select).value = "Angornet"
        await type_into(pilot, tab, "#angor-relays", "ws://127.0.0.1:7000, ws://127.0.0.1:7001")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert stat.S_IMODE(paths.config.stat().st_mode) == 0o600
        data = written(paths)
        assert data["webhooks"]["port"] == 9999 and data["webhooks"]["enabled"] is True
        assert data["sync"]["interval"] == 120
        assert data["angor"]["network"] == "Angornet"
        assert data["angor"]["relays"] == ["ws://127.0.0.1:7000", "ws://127.0.0.1:7001"]
        assert data["btcpay"][0]["api_key"] == API_KEY  # the key kept, unseen
        [saved] = received(app, ConfigSaved)  # handed to the app once
        assert app.config is saved.config and app.config.webhooks.port == 9999
        assert all(tab.config is app.config for tab in app.tab_widgets())  # and by it to every tab
        assert str(tab.query_one("#settings-message").render()) == f"Saved to {paths.config} and applied."
        assert API_KEY not in app.export_screenshot()


async def test_a_new_api_key_is_typed_blind_and_replaces_the_old_one(make_app, store, paths, config_file):
    new_key = "NewKeyZZ99yy88xx77ww66vv55uu44tt"
    app = make_app(config_file)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        await type_into(pilot, tab, "#store-key", new_key)
        assert new_key not in app.export_screenshot()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert written(paths)["btcpay"][0]["api_key"] == new_key
        svg = app.export_screenshot()
        assert new_key not in svg and API_KEY not in svg


async def test_invalid_input_is_said_in_the_forms_words_and_writes_nothing(make_app, store, paths, config_file):
    before = paths.config.read_bytes()
    app = make_app(config_file)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        await type_into(pilot, tab, "#store-url", "ftp://nope")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert tab.query_one("#settings-message").has_class("-error")
        text = str(tab.query_one("#settings-error").render())
        assert text == "Store main, URL: must be an http(s) URL, not 'ftp://nope'."
        assert tab.query_one("#store-url").has_class("-refused")
        assert paths.config.read_bytes() == before


async def test_adding_a_store_and_saving_keeps_both(make_app, store, paths, config_file):
    app = make_app(config_file)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        tab.query_one("#store-select", Select).value = "+new"
        await pilot.pause()
        await type_into(pilot, tab, "#store-name", "third")
        await type_into(pilot, tab, "#store-url", "https://third.example.net")
        await type_into(pilot, tab, "#store-id", "ThirdStore1")
        await type_into(pilot, tab, "#store-key", "third-key-000111222333")
        await pilot.press("ctrl+s")
        await settle(pilot)
        stores = written(paths)["btcpay"]
        assert [s["name"] for s in stores] == ["main", "shop", "third"]
        assert stores[2]["api_key"] == "third-key-000111222333"
        assert stores[1]["api_key_env"] == "SHOP_KEY" and "api_key" not in stores[1]
        assert [s.name for s in app.config.btcpay] == ["main", "shop", "third"]


async def test_theme_is_applied_live(make_app, store, config_file):
    app = make_app(config_file)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        tab.query_one("#ui-theme", Select).value = "nord"
        await pilot.pause()
        assert app.theme == "nord"


async def test_demo_never_writes_the_users_own_config(make_app, store, paths):
    user_config = resolve_paths().config
    app = make_app(sample_config(), demo=True)
    app.paths = type(paths)(config=user_config, db=paths.db, log_dir=paths.log_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not user_config.exists()
        assert "demo does not write your own config" in str(tab.query_one("#settings-error").render())


async def test_demo_saves_to_its_own_config_file(make_app, store, paths):
    app = make_app(sample_config(), demo=True)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        await type_into(pilot, tab, "#sync-interval", "60")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert written(paths)["sync"]["interval"] == 60
        assert not resolve_paths().config.exists()


@pytest.mark.parametrize("good_key", [True, False], ids=["valid-key", "wrong-key"])
async def test_test_connection_runs_the_doctor_against_a_real_server(make_app, store, sim_factory, good_key):
    thread, url = sim_factory(invoices=20, seed=5)
    key = thread.sim.config.api_keys[0].key if good_key else "wrong-key-0000000000000000000000"
    config = sample_config()
    main = dataclasses.replace(config.btcpay[0], url=url, store_id=thread.sim.config.stores[0].store_id,
                               api_key=Secret(key))
    app = make_app(dataclasses.replace(config, btcpay=(main, config.btcpay[1])))
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        result = tab.query_one("#store-test-result")
        assert result.display
        assert result.has_class("-ok") is good_key and result.has_class("-problem") is not good_key
        assert url in str(result.render())
        assert key not in app.export_screenshot()
