"""Tab 5, Settings: the config file as a form, saved (0600) and applied without a restart.

API keys are never shown: a store's key appears only as a mask (or as where
it comes from, an env var or a file); typing into the password field
replaces it. Save validates through ``cftui.config.from_dict``, the same
strict rules as the file, and shows the first problem on one line.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Grid, Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, Switch

from cftui.config import NETWORKS, Config, from_dict, mask, resolve_paths, save, to_dict
from cftui.errors import CftuiError, ConfigError
from cftui.ui.messages import ConfigApplied, DataChanged

NEW_STORE = "+new"
KEY_SOURCES = ("api_key", "api_key_env", "api_key_file")


def key_state(store: dict[str, Any]) -> str:
    """Where a store's API key comes from, without ever showing it."""
    if store.get("api_key"):
        return f"{mask(store['api_key'])} (in the config file)"
    if store.get("api_key_env"):
        return f"from environment variable {store['api_key_env']}"
    if store.get("api_key_file"):
        return f"from file {store['api_key_file']}"
    return mask(None)


def one_line(text: str) -> str:
    return " ".join(text.split())


def whole_number(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ConfigError(f"{what} must be a whole number, not {text.strip()!r}.") from None


class SettingsTab(Container):
    # Styles: settings.tcss, loaded by the app with every tab's stylesheet.
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings.save"),
        Binding("ctrl+t", "test_connection", "Test connection", id="settings.test"),
        # Out of a field and back to the form, where 1-5 switch tabs again (as esc does in k9s, lazygit).
        Binding("escape", "leave_field", "Leave field", show=False, id="settings.leave"),
    ]

    def __init__(self) -> None:
        super().__init__(id="settings-tab")
        # Working copies of the [[btcpay]] tables (secrets revealed in memory only, never rendered).
        self._stores: list[dict[str, Any]] = []
        self._current: int | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="settings-form"):
            yield Label("Stores", classes="settings-heading")
            with Horizontal(classes="settings-row"):
                yield Select([], id="store-select", allow_blank=True, prompt="No store", compact=True)
                yield Button("Remove", id="store-remove", variant="error", compact=True)
            with Grid(classes="settings-grid"):
                yield Label("Name")
                yield Input(id="store-name", placeholder="main (used in /webhook/<name>)", compact=True)
                yield Label("URL")
                yield Input(id="store-url", placeholder="https://btcpay.example.com", compact=True)
                yield Label("Store id")
                yield Input(id="store-id", compact=True)
                yield Label("API key")
                yield Label("", id="store-key-state")
                yield Label("New API key")
                yield Input(id="store-key", password=True, placeholder="type a new key to replace it", compact=True)
            with Horizontal(classes="settings-row"):
                yield Button("Test connection", id="store-test", compact=True)
            yield Static("", id="store-test-result", markup=False)

            yield Label("Webhook listener", classes="settings-heading")
            with Grid(classes="settings-grid"):
                yield Label("Enabled")
                yield Switch(id="hooks-enabled")
                yield Label("Host")
                yield Input(id="hooks-host", compact=True)
                yield Label("Port")
                yield Input(id="hooks-port", type="integer", compact=True)

            yield Label("Sync", classes="settings-heading")
            with Grid(classes="settings-grid"):
                yield Label("Interval (s)")
                yield Input(id="sync-interval", type="integer", compact=True)

            yield Label("Angor", classes="settings-heading")
            with Grid(classes="settings-grid"):
                yield Label("Enabled")
                yield Switch(id="angor-enabled")
                yield Label("Network")
                yield Select([(n, n) for n in NETWORKS], id="angor-network", allow_blank=False, compact=True)
                yield Label("Relays")
                yield Input(id="angor-relays", placeholder="comma-separated; empty = the network's defaults", compact=True)
                yield Label("Indexer URL")
                yield Input(id="angor-indexer", compact=True)

            yield Label("Appearance", classes="settings-heading")
            with Grid(classes="settings-grid"):
                yield Label("Theme")
                themes = sorted(self.app.available_themes)
                yield Select([(name, name) for name in themes], id="ui-theme", allow_blank=False, compact=True)
        with Horizontal(id="settings-actions"):
            yield Button("Save", id="settings-save", variant="primary", compact=True)
            yield Label("", id="settings-message", markup=False)

    def on_mount(self) -> None:
        self.load_form(self.app.config)

    def focus_targets(self) -> tuple:
        # The form, not a field: ctrl+s works at once, and digits still switch tabs.
        return (self.query_one("#settings-form"),)

    def action_leave_field(self) -> None:
        form = self.query_one("#settings-form")
        if self.screen.focused is not form:
            form.focus()

    def on_data_changed(self, message: DataChanged) -> None:
        # Only a config change reloads the form; a sync must not wipe what the user is typing.
        if "config" in message.sources:
            self.load_form(self.app.config)

    # ------------------------------------------------------------ form <-> config

    def load_form(self, config: Config) -> None:
        data = to_dict(config, reveal=True)
        self._stores = [dict(store) for store in data.get("btcpay", [])]
        self._current = 0 if self._stores else None
        self._refresh_store_select()
        self._show_store()
        hooks, angor = config.webhooks, config.angor
        self.query_one("#hooks-enabled", Switch).value = hooks.enabled
        self.query_one("#hooks-host", Input).value = hooks.host
        self.query_one("#hooks-port", Input).value = str(hooks.port)
        self.query_one("#sync-interval", Input).value = str(config.sync.interval)
        self.query_one("#angor-enabled", Switch).value = angor.enabled
        self.query_one("#angor-network", Select).value = angor.network
        self.query_one("#angor-relays", Input).value = ", ".join(angor.relays)
        indexer = self.query_one("#angor-indexer", Input)
        indexer.value = angor.indexer_url
        indexer.placeholder = f"empty = {angor.effective_indexer_url}"
        theme = self.query_one("#ui-theme", Select)
        theme.value = self.app.theme if self.app.theme in self.app.available_themes else config.ui.theme

    def _refresh_store_select(self) -> None:
        select = self.query_one("#store-select", Select)
        options = [(store.get("name") or "(unnamed)", index) for index, store in enumerate(self._stores)]
        with self.prevent(Select.Changed):
            select.set_options([*options, ("+ add a store", NEW_STORE)])
            select.value = self._current if self._current is not None else Select.NULL

    def _show_store(self) -> None:
        store = self._stores[self._current] if self._current is not None else {}
        for widget_id, key in (("#store-name", "name"), ("#store-url", "url"), ("#store-id", "store_id")):
            field = self.query_one(widget_id, Input)
            field.value = store.get(key, "")
            field.disabled = self._current is None
        self.query_one("#store-key", Input).value = ""
        self.query_one("#store-key", Input).disabled = self._current is None
        self.query_one("#store-key-state", Label).update(key_state(store) if store else "-")
        self.query_one("#store-remove", Button).disabled = self._current is None
        self.query_one("#store-test", Button).disabled = self._current is None
        self._test_result("")

    def _commit_store(self) -> None:
        """Copy the store fields into its working table (no validation yet)."""
        if self._current is None:
            return
        store = self._stores[self._current]
        store["name"] = self.query_one("#store-name", Input).value.strip()
        store["url"] = self.query_one("#store-url", Input).value.strip()
        store["store_id"] = self.query_one("#store-id", Input).value.strip()
        new_key = self.query_one("#store-key", Input).value.strip()
        if new_key:
            for source in KEY_SOURCES:
                store.pop(source, None)
            store["api_key"] = new_key
            self.query_one("#store-key", Input).value = ""
            self.query_one("#store-key-state", Label).update(key_state(store))

    def form_config(self) -> Config:
        """The config the form describes, validated like the file; raises ConfigError."""
        self._commit_store()
        data = to_dict(self.app.config, reveal=True)
        if self._stores:
            data["btcpay"] = [dict(store) for store in self._stores]
        else:
            data.pop("btcpay", None)
        data["webhooks"]["enabled"] = self.query_one("#hooks-enabled", Switch).value
        data["webhooks"]["host"] = self.query_one("#hooks-host", Input).value.strip()
        data["webhooks"]["port"] = whole_number(self.query_one("#hooks-port", Input).value, "The webhook port")
        data["sync"]["interval"] = whole_number(self.query_one("#sync-interval", Input).value, "The sync interval")
        angor = data["angor"]
        angor["enabled"] = self.query_one("#angor-enabled", Switch).value
        angor["network"] = self.query_one("#angor-network", Select).value
        relays = self.query_one("#angor-relays", Input).value
        angor["relays"] = [relay.strip() for relay in relays.split(",") if relay.strip()]
        angor["indexer_url"] = self.query_one("#angor-indexer", Input).value.strip()
        data["ui"]["theme"] = self.query_one("#ui-theme", Select).value
        return from_dict(data, source=self.app.config.path or self.app.paths.config)

    # ------------------------------------------------------------ stores

    @on(Select.Changed, "#store-select")
    def _store_chosen(self, event: Select.Changed) -> None:
        self._commit_store()
        if event.value == NEW_STORE:
            self._stores.append({"name": "", "url": "", "store_id": ""})
            self._current = len(self._stores) - 1
            self._refresh_store_select()
            self._show_store()
            self.query_one("#store-name", Input).focus()
            return
        self._current = event.value if isinstance(event.value, int) else None
        self._show_store()

    @on(Button.Pressed, "#store-remove")
    def _remove_store(self) -> None:
        if self._current is None:
            return
        del self._stores[self._current]
        self._current = 0 if self._stores else None
        self._refresh_store_select()
        self._show_store()
        self._say("Store removed from the form; Save to write it.")

    # ------------------------------------------------------------ theme

    @on(Select.Changed, "#ui-theme")
    def _theme_chosen(self, event: Select.Changed) -> None:
        # Applied live; Save makes it stick.
        if isinstance(event.value, str) and event.value != self.app.theme:
            self.app.theme = event.value

    # ------------------------------------------------------------ test connection

    @on(Button.Pressed, "#store-test")
    def action_test_connection(self) -> None:
        if self._current is None:
            return
        try:
            config = self.form_config()
        except CftuiError as exc:
            self._say(str(exc), error=True)
            return
        store = config.btcpay[self._current]
        self._test_result(f"Checking {store.name} at {store.url} …")
        self._check(store)

    @work(exclusive=True, group="settings-test", exit_on_error=False)
    async def _check(self, store) -> None:
        from cftui.btcpay.doctor import check_store, format_report

        try:
            report = await check_store(store)
        except CftuiError as exc:
            self._test_result(one_line(str(exc)), ok=False)
            return
        self._test_result(format_report(report), ok=report.ok)

    def _test_result(self, text: str, *, ok: bool | None = None) -> None:
        result = self.query_one("#store-test-result", Static)
        result.update(text)
        result.display = bool(text)
        result.set_class(ok is True, "-ok")
        result.set_class(ok is False, "-problem")

    # ------------------------------------------------------------ save

    @on(Button.Pressed, "#settings-save")
    async def action_save(self) -> None:
        try:
            config = self.form_config()
            target = self._target_path()
            save(config, target)
        except CftuiError as exc:
            self._say(str(exc), error=True)
            return
        except OSError as exc:
            self._say(f"Could not write {exc.filename}: {exc.strerror}.", error=True)
            return
        apply = getattr(self.app, "apply_config", None)
        if apply is not None:
            await apply(config)
        else:
            self.app.config = config
            self.app.post_message(ConfigApplied())
        self._say(f"Saved to {target} and applied.")
        self.load_form(config)

    def _target_path(self):
        target = self.app.paths.config
        # Belt and braces: the demo has its own config file and must never touch the user's.
        if getattr(self.app, "demo", False) and target == resolve_paths().config:
            raise ConfigError("The demo does not write your own config file.", hint="Quit the demo to change it.")
        return target

    def _say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#settings-message", Label)
        message.update(one_line(text))
        message.set_class(error, "-error")
