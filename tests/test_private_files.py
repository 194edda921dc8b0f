"""What cftui writes is its owner's alone, and a shared config is pointed out (review D10)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from store_samples import fill
from webhook_helpers import SECRET, STORE_ID

from cftui.cli import main
from cftui.store.db import open_database
from cftui.store.webhook_models import WebhookDelivery


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    old = os.umask(0o022)  # the usual umask: files 0644 and directories 0755 unless cftui says otherwise
    yield
    os.umask(old)


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[[btcpay]]\nname = "main"\nurl = "http://127.0.0.1:9"\nstore_id = "{STORE_ID}"\n'
        f'api_key = "k-123456"\nwebhook_secret = "{SECRET}"\n[webhooks]\nport = 18799\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def filled_db(tmp_path) -> Path:
    db_path = tmp_path / "data" / "store.sqlite3"
    db = open_database(db_path)
    fill(n=20)
    WebhookDelivery.create(received_ms=1, remote="127.0.0.1", path="/webhook/main", headers="{}", verdict="verified",
                           http_status=200)
    db.close()
    return db_path


def run(config: Path, db: Path, *args: str) -> int:
    return main(["--config", str(config), "--db", str(db), *args])


@pytest.mark.parametrize("what", ["invoices", "deliveries"])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exports_are_owner_only(config, filled_db, tmp_path, monkeypatch, what, fmt):
    out = tmp_path / f"out.{fmt}"
    assert run(config, filled_db, "export", what, "--format", fmt, "-o", str(out)) == 0
    assert mode(out) == 0o600
    monkeypatch.chdir(tmp_path)
    assert run(config, filled_db, "export", what, "--format", fmt) == 0
    [default] = tmp_path.glob(f"cftui-{what}-*.{fmt}")
    assert mode(default) == 0o600


def test_store_log_and_config_directories_are_created_owner_only(tmp_path):
    db = open_database(tmp_path / "new" / "data" / "store.sqlite3")
    db.close()
    assert mode(tmp_path / "new") == 0o700 and mode(tmp_path / "new" / "data") == 0o700
    assert mode(tmp_path / "new" / "data" / "store.sqlite3") == 0o600
    config = tmp_path / "cfg" / "cftui" / "config.toml"
    assert main(["--config", str(config), "config", "init"]) == 0
    assert mode(config.parent) == 0o700 and mode(config.parent.parent) == 0o700 and mode(config) == 0o600


def test_the_dashboards_state_file_is_owner_only(tmp_path):
    from cftui.ui import ui_state

    db_path = tmp_path / "store.sqlite3"
    ui_state.save(db_path, {"tab": "webhooks"})
    assert mode(ui_state.state_path(db_path)) == 0o600
    assert ui_state.load(db_path) == {"tab": "webhooks"}


@pytest.mark.parametrize("mode", [0o644, 0o666, 0o640])
def test_a_config_others_can_read_is_pointed_out(config, tmp_path, capsys, mode):
    config.chmod(mode)
    assert run(config, tmp_path / "db.sqlite3", "config", "show") == 0
    err = capsys.readouterr().err
    assert f"{config} can be read by other users (mode {mode:o})" in err and f"chmod 600 {config}" in err
    run(config, tmp_path / "db.sqlite3", "doctor")  # the store is down: only the warning matters here
    assert f"{config} can be read by other users" in capsys.readouterr().err


def test_a_private_config_gets_no_warning(config, tmp_path, capsys):
    assert run(config, tmp_path / "db.sqlite3", "config", "show") == 0
    assert "other users" not in capsys.readouterr().err


def test_the_daemon_warns_at_start(config, tmp_path):
    config.chmod(0o644)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cftui", "--config", str(config), "--db", str(tmp_path / "db.sqlite3"), "daemon"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout.readline().startswith("Listening for BTCPay webhooks")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert f"{config} can be read by other users (mode 644)" in err
