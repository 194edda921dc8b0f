"""Shared fixtures. Tests never read the developer's own config or store."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path, monkeypatch):
    """Point every XDG location at the test's temp dir."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for var in ("CFTUI_CONFIG", "CFTUI_DB", "CFTUI_LOG_DIR", "NO_COLOR", "TEXTUAL_THEME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CFTUI_LOG_DIR", str(tmp_path / "logs"))


def pytest_ignore_collect(collection_path, config):
    """Leave tests/benchmarks out of the default run; `pytest tests/benchmarks -s` runs them."""
    if collection_path.name == "benchmarks" and collection_path.parent.name == "tests":
        asked = [str(arg) for arg in config.args]
        return not any("benchmarks" in arg for arg in asked)
    return None
