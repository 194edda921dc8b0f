"""The dashboard writes owner-only exports and points out a config file others can read (review D10)."""

from __future__ import annotations

import dataclasses
import os
import stat

from conftest import settle, toast_texts
from data_extra import sample_config


async def toasts_with_config_mode(make_app, tmp_path, mode: int) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    path.chmod(mode)
    app = make_app(dataclasses.replace(sample_config(), path=path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        return toast_texts(app)


async def test_a_shared_config_is_pointed_out_in_a_toast(make_app, store, tmp_path):
    toasts = await toasts_with_config_mode(make_app, tmp_path, 0o644)
    path = tmp_path / "config.toml"
    assert any(f"{path} can be read by other users (mode 644)" in t and "chmod 600" in t for t in toasts), toasts


async def test_a_private_config_gets_no_toast(make_app, store, tmp_path):
    toasts = await toasts_with_config_mode(make_app, tmp_path, 0o600)
    assert not any("other users" in t for t in toasts)


async def test_the_dashboards_export_is_owner_only(make_app, filled, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("e")
            await settle(pilot)
    finally:
        os.umask(old)
    [exported] = tmp_path.glob("cftui-invoices-*.csv")
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
