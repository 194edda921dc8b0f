"""Fixtures and waits for driving the real dashboard headless on a real SQLite store.

Every app is built with ``autostart=False`` (no sync workers, receiver or
change watcher), the clock frozen at ``data.NOW``, no cursor blink and no
animations, so screens are the same on every run.

The waits, one of each for every test module:

* :func:`settle` waits until no worker runs and what they posted is handled;
* :func:`wait_for` waits for a state the user would see (a line, a toast, a
  message), never for a length of time; its timeout only bounds a failure;
* :func:`pressing` is a snapshot's ``run_before``: keys, each one settled.

Each app built by ``make_app`` records the messages it dispatches (Textual's
``message_hook``): :func:`received` lists them, :func:`toasts` the
notifications it showed.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from time import monotonic
from typing import TypeVar

import data
import pytest
from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from cftui import clock
from cftui.store.db import open_database

M = TypeVar("M", bound=Message)
WAIT_SECONDS = 20.0  # a bound on a failure, not a pause: waits end as soon as the state is there
_RECORDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(data.NOW)
    yield
    clock.freeze(None)


@pytest.fixture(autouse=True)
def still_cursor(monkeypatch):
    # A blinking cursor makes snapshots depend on timing.
    monkeypatch.setattr(Input, "cursor_blink", False)


@pytest.fixture
def paths(tmp_path):
    return data.make_paths(tmp_path)


@pytest.fixture
def store(paths):
    db = open_database(paths.db)
    yield db
    db.close()


@pytest.fixture
def filled(store) -> data.Filled:
    return data.fill_invoices()


@pytest.fixture
def sim_factory(start_sim):
    """Start BTCPay simulators on loopback at the UI's frozen clock: sim_factory(invoices=20, faults=None, **config)
    -> (thread, url)."""

    def start(*, invoices: int = 20, faults=None, **config):
        config.setdefault("now", data.NOW)
        thread = start_sim(invoices=invoices, faults=faults, **config)
        return thread, thread.base_url

    return start


def store_on(thread, url: str, name: str = "main", *, key: str | None = None):
    """A StoreConfig for the simulator's first store, with its API key (or ``key``)."""
    import dataclasses

    from cftui.config import Secret

    sim_store = thread.sim.config.stores[0]
    return dataclasses.replace(data.store_config(name), url=url, store_id=sim_store.store_id,
                               api_key=Secret(key or thread.sim.config.api_keys[0].key))  # fmt: skip


@pytest.fixture
def make_app(paths):
    """Build a CftuiApp on the test store: make_app(config=None, **kwargs)."""
    from cftui.ui.app import CftuiApp

    def build(config=None, **kwargs) -> CftuiApp:
        kwargs.setdefault("autostart", False)
        app = CftuiApp(config or data.make_config(), paths, **kwargs)
        app.animation_level = "none"
        record_messages(app)
        return app

    return build


def record_messages(app) -> None:
    """Make ``app.run_test`` record every message dispatched (``received`` reads them)."""
    seen: list[Message] = []
    _RECORDED[app] = seen
    run_test = app.run_test

    def recording_run_test(*args, message_hook: Callable[[Message], None] | None = None, **kwargs):
        def hook(message: Message) -> None:
            seen.append(message)
            if message_hook is not None:
                message_hook(message)

        return run_test(*args, message_hook=hook, **kwargs)

    app.run_test = recording_run_test


def received(app, kind: type[M]) -> list[M]:
    """The messages of ``kind`` the app and its widgets handled so far, oldest first, each once (a message
    that bubbles is handled by each widget up to the app)."""
    unique = {id(message): message for message in _RECORDED.get(app, []) if isinstance(message, kind)}
    return list(unique.values())


def toasts(app) -> list[Notification]:
    """The notifications the app showed, oldest first (``.message``, ``.title``, ``.severity``)."""
    return [message.notification for message in received(app, Notify)]


def toast_texts(app) -> list[str]:
    return [str(notification.message) for notification in toasts(app)]


async def settle(pilot: Pilot) -> None:
    """Wait until no worker runs and the messages they posted are handled.

    A result can start another load (a reload asked for during the first), so
    this goes round until a pass starts nothing new.
    """
    app = pilot.app
    deadline = monotonic() + WAIT_SECONDS
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if all(worker.is_finished for worker in app.workers) and all(map(_columns_fit, app.screen.query(DataTable))):
            return
        assert monotonic() < deadline, f"workers still running or tables not sized: {list(app.workers)}"


def _columns_fit(table: DataTable) -> bool:
    """Every auto-width column is as wide as its widest cell. A DataTable measures the rows it was given when it
    is next idle: a screenshot taken before that shows the cells cut to the headers' width."""
    for key, column in table.columns.items():
        if not column.auto_width:
            continue
        widest = 0
        for row_key in table.rows:
            cell = table.get_cell(row_key, key)
            lines = cell.plain.split("\n") if isinstance(cell, Text) else str(cell).split("\n")
            widest = max(widest, *(cell_len(line) for line in lines))
        if column.content_width < widest:
            return False
    return True


async def wait_for(pilot: Pilot, condition: Callable[[], object], what: str = "") -> None:
    """Wait until ``condition()`` is true (the screen shows it, a message arrived); fail after WAIT_SECONDS."""
    deadline = monotonic() + WAIT_SECONDS
    while not condition():
        assert monotonic() < deadline, f"timed out waiting for {what or condition}"
        await pilot.pause()


def pressing(*keys: str, then: Callable[[Pilot], Awaitable[None]] | None = None):
    """A snapshot's ``run_before``: settle, press each key and settle, then ``await then(pilot)`` and settle."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)
            await settle(pilot)

    return run_before
