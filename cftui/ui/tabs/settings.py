"""Tab 5, Settings: the config file as a form, saved (0600) and applied without a restart.

Secrets are never shown: a store's API key and webhook secret appear only as
a mask (or as where the key comes from, an env var or a file); typing into
the password field replaces them. Save validates through
``cftui.config.from_dict``, the same strict rules as the file; a problem is
said in the form's words, under the form, and its field is marked until it
changes (review M3, M4). ``esc`` leaves a field for the form, where the tab
keys work again (H3); unsaved changes are marked (L6).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, Switch

from cftui.config import NETWORKS, Config, from_dict, mask, resolve_paths, save, to_dict
from cftui.errors import CftuiError, ConfigError
from cftui.ui.messages import ConfigSaved
from cftui.ui.settings_errors import field_error
from cftui.ui.tabs.base import TabBody

NEW_STORE = "+new"
KEY_SOURCES = ("api_key", "api_key_env", "api_key_file")
STORE_INPUTS = ("#store-name", "#store-url", "#store-id", "#store-key", "#store-secret", "#store-timeout")
UNSAVED = "● unsaved changes: ctrl+s saves"


def key_state(store: dict[str, Any]) -> str:
    """Where a store's API key comes from, without ever showing it."""
    if store.get("api_key"):
        return f"{mask(store['api_key'])} (in the config file)"
    if store.get("api_key_env"):
        return f"from environment variable {store['api_key_env']}"
    if store.get("api_key_file"):
        return f"from file {store['api_key_file']}"
    return mask(None)


def secret_state(store: dict[str, Any]) -> str:
    return f"{mask(store['webhook_secret'])} (set)" if store.get("webhook_secret") else "not set"


def one_line(text: str) -> str:
    return " ".join(text.split())


def whole_number(text: str, key: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ConfigError(f"'{key}' must be a whole number, not {text.strip()!r}.") from None


class OnOff(Horizontal):
    """A switch that also says "on" or "off": readable without colour (review L4)."""

    def __init__(self, *, switch_id: str) -> None:
        super().__init__(classes="on-off")
        self._switch_id = switch_id

    def compose(self) -> ComposeResult:
        yield Switch(id=self._switch_id)
        yield Label("off", classes="on-off-state")

    @on(Switch.Changed)
    def _changed(self, event: Switch.Changed) -> None:
        self.query_one(".on-off-state", Label).update("on" if event.value else "off")


class SettingsTab(TabBody):
    """The config file as a form: saved to ``config_file``, then handed to the app (:class:`ConfigSaved`).

    ``demo``: the demo's own config file is written, never the user's.
    """

    # Styles: settings.tcss, in the app's CSS_PATH with every tab's sheet.
    TITLE = "Settings"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings.save"),
        Binding("ctrl+t", "test_connection", "Test connection", id="settings.test"),
        # Out of a field and back to the form, where 1-5 switch tabs again (as esc does in k9s, lazygit).
        Binding("escape", "leave_field", "Leave field", show=False, id="settings.leave"),
    ]

    def __init__(self, config: Config, *, config_file: Path, demo: bool = False) -> None:
        super().__init__(config, id="settings-tab")
        self.config_file = config_file
        self.demo = demo
        self._saved_to: Path | None = None  # saved, and waiting for the app to hand the config back applied
        # Working copies of the [[btcpay]] tables (secrets revealed in memory only, never rendered).
        self._stores: list[dict[str, Any]] = []
        self._current: int | None = None
        self._dirty = False
        self._confirm_remove: int | None = None
        # Each field's value as loaded: a Changed that brings nothing new (the form being filled) is no edit.
        self._baseline: dict[str, object] = {}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="settings-form"):
            yield from self._store_section()
            yield from self._service_sections()
            yield from self._appearance_section()
        yield Static("", id="settings-error", markup=False)
        with Horizontal(id="settings-actions"):
            yield Button("Save", id="settings-save", variant="primary", compact=True)
            yield Label("", id="settings-message", markup=False)

    def _store_section(self) -> ComposeResult:
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
            yield Label("Webhook secret")
            yield Label("", id="store-secret-state")
            yield Label("New secret")
            yield Input(id="store-secret", password=True, placeholder="type to replace it", compact=True)
            yield Label("Verify TLS")
            yield OnOff(switch_id="store-tls")
            yield Label("Timeout (s)")
            yield Input(id="store-timeout", type="integer", compact=True)
        with Horizontal(classes="settings-row"):
            yield Button("Test connection", id="store-test", compact=True)
        yield Static("", id="store-test-result", markup=False)

    def _service_sections(self) -> ComposeResult:
        yield Label("Webhook listener", classes="settings-heading")
        with Grid(classes="settings-grid"):
            yield Label("Enabled")
            yield OnOff(switch_id="hooks-enabled")
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
            yield OnOff(switch_id="angor-enabled")
            yield Label("Network")
            yield Select([(n, n) for n in NETWORKS], id="angor-network", allow_blank=False, compact=True)
            yield Label("Relays")
            yield Input(id="angor-relays", placeholder="comma-separated; empty = the network's defaults", compact=True)
            yield Label("Indexer URL")
            yield Input(id="angor-indexer", compact=True)
            yield Label("Esplora URL")
            yield Input(id="angor-esplora", placeholder="empty = the indexer URL", compact=True)

    def _appearance_section(self) -> ComposeResult:
        yield Label("Appearance and alerts", classes="settings-heading")
        with Grid(classes="settings-grid"):
            yield Label("Theme")
            themes = sorted(self.app.available_themes)
            yield Select([(name, name) for name in themes], id="ui-theme", allow_blank=False, compact=True)
            yield Label("Chart")
            yield Select([("braille", "braille"), ("block (fonts without braille)", "block")], id="ui-chart",
                         allow_blank=False, compact=True)
            yield Label("Notify")
            yield OnOff(switch_id="ui-notify")
            yield Label("Bell")
            yield OnOff(switch_id="ui-bell")
            yield Label("Mouse")
            yield OnOff(switch_id="ui-mouse")
            yield Label("Keys")
            yield Label("remap in [ui.keymap] of the config file; ? lists each key's id", classes="settings-note")
        yield Static("Notify: a toast when a contribution settles. Bell: the terminal bell too. "
                     "Mouse applies at the next start.", classes="settings-note")

    def on_mount(self) -> None:
        self.load_form(self.config)

    def focus_targets(self) -> tuple:
        # The form, not a field: ctrl+s works at once, and digits still switch tabs.
        return (self.query_one("#settings-form"),)

    def action_leave_field(self) -> None:
        form = self.query_one("#settings-form")
        if self.screen.focused is not form:
            form.focus()

    def watch_config(self, config: Config) -> None:
        """The app applied a config (this form's, saved): show it, unless the user is typing a new one."""
        if not self._dirty:
            self.load_form(config)
        if self._saved_to is not None:
            self._say(f"Saved to {self._saved_to} and applied.")
            self._saved_to = None

    # ------------------------------------------------------------ form <-> config

    def load_form(self, config: Config) -> None:
        with self.prevent(Input.Changed, Switch.Changed, Select.Changed):
            self._fill(config)
        self._remember_values()
        self._mark_unsaved(False)

    def _remember_values(self) -> None:
        for widget in self.query("#settings-form Input, #settings-form Switch, #settings-form Select"):
            if widget.id and isinstance(widget, (Input, Switch, Select)):
                self._baseline[widget.id] = widget.value

    def _fill(self, config: Config) -> None:
        data = to_dict(config, reveal=True)
        self._stores = [dict(store) for store in data.get("btcpay", [])]
        self._current = 0 if self._stores else None
        self._refresh_store_select()
        self._show_store()
        hooks, angor, ui = config.webhooks, config.angor, config.ui
        self._switch("#hooks-enabled", hooks.enabled)
        self.query_one("#hooks-host", Input).value = hooks.host
        self.query_one("#hooks-port", Input).value = str(hooks.port)
        self.query_one("#sync-interval", Input).value = str(config.sync.interval)
        self._switch("#angor-enabled", angor.enabled)
        self.query_one("#angor-network", Select).value = angor.network
        self.query_one("#angor-relays", Input).value = ", ".join(angor.relays)
        indexer = self.query_one("#angor-indexer", Input)
        indexer.value = angor.indexer_url
        indexer.placeholder = f"empty = {angor.effective_indexer_url}"
        self.query_one("#angor-esplora", Input).value = angor.esplora_url
        theme = self.query_one("#ui-theme", Select)
        theme.value = self.app.theme if self.app.theme in self.app.available_themes else ui.theme
        self.query_one("#ui-chart", Select).value = ui.chart
        self._switch("#ui-notify", ui.notify)
        self._switch("#ui-bell", ui.bell)
        self._switch("#ui-mouse", ui.mouse)

    def _switch(self, selector: str, value: bool) -> None:
        switch = self.query_one(selector, Switch)
        switch.value = value
        if switch.parent is not None:
            switch.parent.query_one(".on-off-state", Label).update("on" if value else "off")

    def _refresh_store_select(self) -> None:
        select = self.query_one("#store-select", Select)
        options = [(store.get("name") or "(unnamed)", index) for index, store in enumerate(self._stores)]
        with self.prevent(Select.Changed):
            select.set_options([*options, ("+ add a store", NEW_STORE)])
            select.value = self._current if self._current is not None else Select.NULL

    def _show_store(self) -> None:
        store = self._stores[self._current] if self._current is not None else {}
        with self.prevent(Input.Changed, Switch.Changed):
            for widget_id, key in (("#store-name", "name"), ("#store-url", "url"), ("#store-id", "store_id")):
                self.query_one(widget_id, Input).value = store.get(key, "")
            for widget_id in ("#store-key", "#store-secret"):
                self.query_one(widget_id, Input).value = ""
            self.query_one("#store-timeout", Input).value = str(store.get("timeout", 30))
            self._switch("#store-tls", store.get("verify_tls", True))
        for widget_id in (*STORE_INPUTS, "#store-tls", "#store-remove", "#store-test"):
            self.query_one(widget_id).disabled = self._current is None
        self.query_one("#store-key-state", Label).update(key_state(store) if store else "-")
        self.query_one("#store-secret-state", Label).update(secret_state(store) if store else "-")
        self._reset_remove()
        self._test_result("")
        self._remember_values()

    def _commit_store(self) -> None:
        """Copy the store fields into its working table (no validation yet)."""
        if self._current is None:
            return
        store = self._stores[self._current]
        store["name"] = self.query_one("#store-name", Input).value.strip()
        store["url"] = self.query_one("#store-url", Input).value.strip()
        store["store_id"] = self.query_one("#store-id", Input).value.strip()
        store["verify_tls"] = self.query_one("#store-tls", Switch).value
        store["timeout"] = whole_number(self.query_one("#store-timeout", Input).value,
                                        f"btcpay[{self._current}].timeout")
        new_key = self.query_one("#store-key", Input).value.strip()
        if new_key:
            for source in KEY_SOURCES:
                store.pop(source, None)
            store["api_key"] = new_key
        new_secret = self.query_one("#store-secret", Input).value.strip()
        if new_secret:
            store["webhook_secret"] = new_secret

    def _forget_typed_secrets(self) -> None:
        """After a save, the typed secrets live only in the file: empty the fields, update the masks."""
        store = self._stores[self._current] if self._current is not None else {}
        with self.prevent(Input.Changed):
            self.query_one("#store-key", Input).value = ""
            self.query_one("#store-secret", Input).value = ""
        self.query_one("#store-key-state", Label).update(key_state(store) if store else "-")
        self.query_one("#store-secret-state", Label).update(secret_state(store) if store else "-")

    def form_config(self) -> Config:
        """The config the form describes, validated like the file; raises ConfigError."""
        self._commit_store()
        data = to_dict(self.config, reveal=True)
        if self._stores:
            data["btcpay"] = [dict(store) for store in self._stores]
        else:
            data.pop("btcpay", None)
        data["webhooks"]["enabled"] = self.query_one("#hooks-enabled", Switch).value
        data["webhooks"]["host"] = self.query_one("#hooks-host", Input).value.strip()
        data["webhooks"]["port"] = whole_number(self.query_one("#hooks-port", Input).value, "webhooks.port")
        data["sync"]["interval"] = whole_number(self.query_one("#sync-interval", Input).value, "sync.interval")
        angor = data["angor"]
        angor["enabled"] = self.query_one("#angor-enabled", Switch).value
        angor["network"] = self.query_one("#angor-network", Select).value
        relays = self.query_one("#angor-relays", Input).value
        angor["relays"] = [relay.strip() for relay in relays.split(",") if relay.strip()]
        angor["indexer_url"] = self.query_one("#angor-indexer", Input).value.strip()
        angor["esplora_url"] = self.query_one("#angor-esplora", Input).value.strip()
        ui = data["ui"]
        ui["theme"] = self.query_one("#ui-theme", Select).value
        ui["chart"] = self.query_one("#ui-chart", Select).value
        for key in ("notify", "bell", "mouse"):
            ui[key] = self.query_one(f"#ui-{key}", Switch).value
        return from_dict(data, source=self.config.path or self.config_file)

    # ------------------------------------------------------------ changes

    @on(Input.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    def _field_changed(self, event) -> None:
        widget = event.control
        if widget.id == "store-select" or event.value != widget.value:
            return  # the store chooser, or a stale event (a Select posts its first option once mounted)
        if self._baseline.get(widget.id) == event.value:
            return
        self._mark_unsaved(True)
        if widget.has_class("-refused"):  # the value that was refused changed: its error goes
            widget.remove_class("-refused")
            self._show_error("")
        if any(widget.id == selector[1:] for selector in (*STORE_INPUTS, "#store-tls")):
            self._test_result("")  # a report about other values would mislead (review M3)

    def _mark_unsaved(self, dirty: bool) -> None:
        self._dirty = dirty
        message = self.query_one("#settings-message", Label)
        if dirty:
            message.update(UNSAVED)
            message.set_class(False, "-error")
        elif str(message.render()) == UNSAVED:
            message.update("")
        message.set_class(dirty, "-dirty")

    # ------------------------------------------------------------ stores

    @on(Select.Changed, "#store-select")
    def _store_chosen(self, event: Select.Changed) -> None:
        try:
            self._commit_store()
        except ConfigError as exc:
            self._problem(exc)
        if event.value == NEW_STORE:
            self._stores.append({"name": "", "url": "", "store_id": ""})
            self._current = len(self._stores) - 1
            self._refresh_store_select()
            self._show_store()
            self._mark_unsaved(True)
            self.query_one("#store-name", Input).focus()
            return
        self._current = event.value if isinstance(event.value, int) else None
        self._show_store()

    @on(Button.Pressed, "#store-remove")
    def _remove_store(self) -> None:
        if self._current is None:
            return
        if self._confirm_remove != self._current:
            # Asked twice: a removal is easy to miss in a long form (review L6).
            self._confirm_remove = self._current
            self.query_one("#store-remove", Button).label = "Remove? again"
            name = self._stores[self._current].get("name") or "this store"
            self._say(f"Press Remove again to take {name} out of the form; Save then writes it.")
            return
        del self._stores[self._current]
        self._current = 0 if self._stores else None
        self._refresh_store_select()
        self._show_store()
        self._mark_unsaved(True)

    def _reset_remove(self) -> None:
        self._confirm_remove = None
        self.query_one("#store-remove", Button).label = "Remove"

    # ------------------------------------------------------------ theme

    @on(Select.Changed, "#ui-theme")
    def _theme_chosen(self, event: Select.Changed) -> None:
        # Applied live; Save makes it stick.
        chosen = event.value
        if isinstance(chosen, str) and chosen == event.control.value and chosen != self.app.theme:
            self.app.theme = str(chosen)  # narrowed above; the str() is for mypy, which keeps Select's type variable

    # ------------------------------------------------------------ test connection

    @on(Button.Pressed, "#store-test")
    def action_test_connection(self) -> None:
        if self._current is None:
            return
        try:
            config = self.form_config()
        except CftuiError as exc:
            self._problem(exc)
            return
        store = config.btcpay[self._current]
        self._test_result(f"Checking {store.name} at {store.url} …")
        self._check(store)

    @work(exclusive=True, group="settings-test", exit_on_error=False, description="test a store's connection")
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
    def action_save(self) -> None:
        try:
            config = self.form_config()
            target = self._target_path()
            save(config, target)
        except CftuiError as exc:
            self._problem(exc)
            return
        except OSError as exc:
            self._problem(ConfigError(f"Could not write {exc.filename}: {exc.strerror}."))
            return
        self._forget_typed_secrets()
        self._show_error("")
        self._mark_unsaved(False)
        self._say(f"Saved to {target}.")
        self._saved_to = target
        self.post_message(ConfigSaved(config))

    def _target_path(self) -> Path:
        target = self.config_file
        # Belt and braces: the demo has its own config file and must never touch the user's.
        if self.demo and target == resolve_paths().config:
            raise ConfigError("The demo does not write your own config file.", hint="Quit the demo to change it.")
        return target

    def _problem(self, exc: CftuiError) -> None:
        """Say what is wrong in the form's words, under the form, and mark the field."""
        problem = field_error(one_line(str(exc)), [store.get("name", "") for store in self._stores])
        for widget in self.query(".-refused"):
            widget.remove_class("-refused")
        if problem.store_index is not None and problem.store_index != self._current:
            self._current = problem.store_index
            self._refresh_store_select()
            self._show_store()
        if problem.field_id is not None:
            field = self.query_one(f"#{problem.field_id}")
            field.add_class("-refused")
            field.scroll_visible()
        self._show_error(problem.text)
        self._say("Not saved: see above.", error=True)

    def _show_error(self, text: str) -> None:
        error = self.query_one("#settings-error", Static)
        error.update(text)
        error.display = bool(text)

    def _say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#settings-message", Label)
        message.update(one_line(text))
        message.set_class(error, "-error")
