"""Fixtures for driving the real dashboard headless on a real SQLite store.

Every app is built with ``autostart=False`` (no sync workers, receiver or
change watcher), the clock frozen at ``data.NOW``, no cursor blink and no
animations, so screens are the same on every run.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from cftui import clock
from cftui.store.db import open_database
import data


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
def make_app(paths):
    """Build a CftuiApp on the test store: make_app(config=None, **kwargs)."""
    from cftui.ui.app import CftuiApp

    def build(config=None, **kwargs) -> CftuiApp:
        kwargs.setdefault("autostart", False)
        app = CftuiApp(config or data.make_config(), paths, **kwargs)
        app.animation_level = "none"
        return app

    return build

