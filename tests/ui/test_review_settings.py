"""Settings of the newcomer review: M3 (stale texts), M4 (errors in the form's words), L4, L6."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
from conftest import settle, store_on, wait_for
from data_extra import sample_config
from textual.widgets import Button, Input, Label, OptionList, Select, Switch

from cftui.config import save


@pytest.fixture
def config_file(paths):
    config = sample_config()
    save(config, paths.config)
    return config


async def open_tab(app, pilot):
    await pilot.press("5")
    await settle(pilot)
    return app.tab("settings")


async def retype(pilot, tab, selector: str, text: str) -> None:
    field = tab.query_one(selector, Input)
    field.value = ""
    field.focus()
    await pilot.press(*text)


async def test_m4_a_refused_value_is_said_in_full_under_the_form_at_80_columns(make_app, store, config_file):
    app = make_app(config_file)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_tab(app, pilot)
        await retype(pilot, tab, "#sync-interval", "0")
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = tab.query_one("#settings-error")
        assert str(error.render()) == "Sync, Interval (s): must be between 1 and 604800, not 0."
        assert error.region.width <= 80 and error.size.height >= 1
        lines = error.render_lines(error.region.reset_offset)
        shown = " ".join("".join(seg.text for seg in line).strip() for line in lines).split()
        assert " ".join(shown) == "Sync, Interval (s): must be between 1 and 604800, not 0.", "nothing is cut off"
        assert tab.query_one("#sync-interval").has_class("-refused")


async def test_m3_a_fixed_value_clears_its_error_and_a_changed_url_clears_the_old_test(make_app, store, paths,
                                                                                      sim_factory):
    thread, url = sim_factory()
    config = dataclasses.replace(sample_config(), btcpay=(store_on(thread, url),))
    save(config, paths.config)
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        await retype(pilot, tab, "#store-url", "localhost:9")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert tab.query_one("#settings-error").display
        await retype(pilot, tab, "#store-url", url)
        assert not tab.query_one("#settings-error").display
        assert not tab.query_one("#store-url").has_class("-refused")
        await pilot.press("ctrl+t")  # a test of the store at this URL: it answers
        await settle(pilot)
        result = tab.query_one("#store-test-result")
        assert result.display and result.has_class("-ok")
        await pilot.press("end", "x")  # a report about another URL would mislead
        assert not result.display


async def test_l6_unsaved_changes_are_marked_until_saved(make_app, store, paths, config_file):
    app = make_app(config_file)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_tab(app, pilot)
        message = tab.query_one("#settings-message", Label)
        assert str(message.render()) == ""
        await retype(pilot, tab, "#hooks-port", "9000")
        assert "unsaved changes" in str(message.render())
        await pilot.press("escape", "1", "5")  # leaving the tab keeps them, and the mark
        await settle(pilot)
        assert "unsaved changes" in str(message.render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Saved to" in str(message.render())


def store_choices(tab) -> list[str]:
    """The stores the form lists (its store chooser, without "+ add a store")."""
    overlay = tab.query_one("#store-select", Select).query_one("SelectOverlay", OptionList)
    return [str(option.prompt) for option in overlay.options if str(option.prompt) not in ("No store", "+ add a store")]


async def test_l6_remove_asks_twice(make_app, store, config_file):
    app = make_app(config_file)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        button = tab.query_one("#store-remove", Button)
        await pilot.click("#store-remove")
        await settle(pilot)
        assert store_choices(tab) == ["main", "shop"] and "again" in str(button.label)
        await wait_for(pilot, lambda: not button.has_class("-active"), "the press effect to end")  # it ignores clicks
        await pilot.click("#store-remove")
        await settle(pilot)
        assert store_choices(tab) == ["shop"]


async def test_l6_secret_tls_timeout_esplora_chart_alerts_and_mouse_are_editable(make_app, store, paths, config_file):
    app = make_app(config_file)
    async with app.run_test(size=(120, 40)) as pilot:
        tab = await open_tab(app, pilot)
        assert str(tab.query_one("#store-secret-state").render()) == "not set"
        await retype(pilot, tab, "#store-secret", "whsec-new-secret-123")
        tab.query_one("#store-tls", Switch).value = False
        await retype(pilot, tab, "#store-timeout", "12")
        await retype(pilot, tab, "#angor-esplora", "https://esplora.example")
        tab.query_one("#ui-chart", Select).value = "block"
        tab.query_one("#ui-notify", Switch).value = False
        tab.query_one("#ui-bell", Switch).value = True
        tab.query_one("#ui-mouse", Switch).value = False
        await pilot.press("ctrl+s")
        await settle(pilot)
        data = tomllib.loads(paths.config.read_text(encoding="utf-8"))
        main = data["btcpay"][0]
        assert (main["webhook_secret"], main["verify_tls"], main["timeout"]) == ("whsec-new-secret-123", False, 12)
        assert data["angor"]["esplora_url"] == "https://esplora.example"
        assert (data["ui"]["chart"], data["ui"]["notify"], data["ui"]["bell"], data["ui"]["mouse"]) == (
            "block", False, True, False)
        assert "whsec-new-secret-123" not in app.export_screenshot()
        assert tab.query_one("#store-secret", Input).value == ""


async def test_l4_switches_say_on_or_off_in_words(make_app, store, config_file, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(config_file)
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_tab(app, pilot)
        switch = tab.query_one("#hooks-enabled", Switch)
        state = switch.parent.query_one(".on-off-state", Label)
        assert str(state.render()) == "off"
        switch.value = True
        await pilot.pause()
        assert str(state.render()) == "on"
