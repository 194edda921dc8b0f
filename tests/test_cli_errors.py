"""Storage, file and usage errors: one clear line and the README's exit code, never 1 ("a bug") (review D8, D11).

| code | here |
|---|---|
| 2 | a bad --since, --status, --store, --theme; an -o path that cannot be written |
| 3 | no config (`cftui`, `export` with nothing to export), a bad url |
| 3 | a sync that failed on its config (a key file that is not text) |
| 6 | a store that cannot be used: not a database, damaged, a bad schema_version, read-only, disk full |
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from store_samples import fill

from cftui import store_location as location
from cftui.cli import main
from cftui.errors import ExitCode
from cftui.sim.config import default_config
from cftui.store import sqlite as store_sqlite
from cftui.store.db import open_database
from cftui.store.models import Meta

STORE = '[[btcpay]]\nname = "main"\nurl = "http://127.0.0.1:9"\nstore_id = "S"\napi_key = "k-123456"\n'


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(STORE + "[sync]\nretry_budget = 1\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    err = capsys.readouterr().err
    return code, err


def one_clear_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "unexpected error" not in err and "Traceback" not in err, err
    return lines[0]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def filled_store(tmp_path) -> Path:
    path = tmp_path / "store.sqlite3"
    db = open_database(path)
    fill(n=3000)
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


# ---------------------------------------------------------------- the store cannot be used: 6


@pytest.mark.parametrize("command", [["sync", "--once"], ["export", "invoices", "-o", "-"], ["listen"]])
def test_a_file_that_is_not_a_database(config, tmp_path, capsys, command):
    path = tmp_path / "store.sqlite3"
    path.write_bytes(os.urandom(2 << 20))
    before = md5(path)
    code, err = run(capsys, "--config", str(config), "--db", str(path), *command)
    line = one_clear_line(err)
    assert code == ExitCode.DATA
    assert f"The store {path} is not a cftui store, or it is damaged" in line and "--db" in line
    assert md5(path) == before


def test_a_truncated_store(config, filled_store, capsys):
    with open(filled_store, "r+b") as handle:
        handle.truncate(filled_store.stat().st_size // 3)
    before = md5(filled_store)
    code, err = run(capsys, "--config", str(config), "--db", str(filled_store), "export", "invoices", "-o", "-")
    assert code == ExitCode.DATA and "is damaged" in one_clear_line(err)
    assert md5(filled_store) == before


@pytest.mark.parametrize("where", ["a directory", "under a file"])
def test_a_store_path_that_cannot_be_opened(config, tmp_path, capsys, where):
    path = tmp_path / "store.sqlite3"
    if where == "a directory":
        path.mkdir()
    else:
        path.write_text("x")
        path = path / "store.sqlite3"
    code, err = run(capsys, "--config", str(config), "--db", str(path), "sync", "--once")
    assert code == ExitCode.DATA and f"Cannot open the store at {path}" in one_clear_line(err)


def test_a_schema_version_that_is_not_a_number(config, db, store_target, store_args, capsys):
    Meta.update(value="abc").where(Meta.key == "schema_version").execute()
    db.close()
    code, err = run(capsys, "--config", str(config), *store_args, "export", "invoices", "-o", "-")
    line = one_clear_line(err)
    assert code == ExitCode.DATA and "schema_version 'abc'" in line
    assert location.masked(store_target) in line and not any(secret in err for secret in location.secrets(store_target))


def test_a_read_only_store(config, filled_store, capsys, monkeypatch):
    # query_only makes SQLite refuse every write as a read-only mount does (the tests may run as root,
    # whom file modes do not stop).
    monkeypatch.setitem(store_sqlite.SQLITE_PRAGMAS, "query_only", 1)
    code, err = run(capsys, "--config", str(config), "--db", str(filled_store), "sync", "--once")
    assert code == ExitCode.DATA and f"The store {filled_store} cannot be written" in err
    assert "unexpected error" not in err and "Traceback" not in err


def test_a_full_disk_during_a_sync_names_the_cause(tmp_path, capsys, monkeypatch, start_sim):
    sim_config = default_config(invoices=3000, stores=1, seed=3, now=1_760_000_000)
    db_path = tmp_path / "store.sqlite3"
    sim = start_sim(sim_config)
    store = sim_config.stores[0]
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[btcpay]]\nname = "main"\nurl = "{sim.base_url}"\nstore_id = "{store.store_id}"\n'
        f'api_key = "{sim_config.api_keys[0].key}"\n[sync]\npage_size = 500\n', encoding="utf-8")
    config.chmod(0o600)
    # A database that may not grow past 2 MB: SQLite's own "database or disk is full".
    monkeypatch.setitem(store_sqlite.SQLITE_PRAGMAS, "max_page_count", 500)
    code = main(["--config", str(config), "--db", str(db_path), "sync", "--once", "--source", "btcpay"])
    captured = capsys.readouterr()
    assert code == ExitCode.DATA
    assert "disk" in captured.err and "full" in captured.err and "cannot rollback" not in captured.err
    monkeypatch.delitem(store_sqlite.SQLITE_PRAGMAS, "max_page_count")
    with sqlite3.connect(db_path) as db:
        (last_error,) = db.execute("SELECT last_error FROM sync_state WHERE source = 'btcpay:main'").fetchone()
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert "full" in last_error and "cannot rollback" not in last_error


# ---------------------------------------------------------------- usage: 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--status", "Foo"], "Unknown status Foo"),
        (["--since", "2020-13-45"], "--since"),
        (["--until", "tomorrow"], "--until"),
        (["--store", "nope"], "No synced store named nope"),
    ],
)
def test_bad_export_arguments_are_usage_errors(config, filled_store, capsys, args, needle):
    code, err = run(capsys, "--config", str(config), "--db", str(filled_store), "export", "invoices", *args, "-o", "-")
    assert code == ExitCode.USAGE and needle in one_clear_line(err)


@pytest.mark.parametrize("target", ["missing/dir/out.csv", "."])
def test_an_output_path_that_cannot_be_written_is_a_usage_error(config, filled_store, tmp_path, capsys, target):
    out = tmp_path / target
    code, err = run(capsys, "--config", str(config), "--db", str(filled_store), "export", "invoices", "-o", str(out))
    line = one_clear_line(err)
    assert code == ExitCode.USAGE and f"-o {out}" in line
    assert not list(tmp_path.rglob(".*.part"))


def test_an_unknown_theme_flag_is_a_usage_error(config, tmp_path, capsys):
    code, err = run(capsys, "--config", str(config), "--db", str(tmp_path / "db.sqlite3"), "--theme", "nope")
    assert code == ExitCode.USAGE and "Unknown theme 'nope'" in one_clear_line(err)


# ---------------------------------------------------------------- config: 3


def test_cftui_with_no_config_exits_3_with_its_hint(tmp_path, capsys):
    code = main(["--config", str(tmp_path / "none.toml"), "--db", str(tmp_path / "db.sqlite3")])
    out = capsys.readouterr().out
    assert code == ExitCode.CONFIG and "cftui config init" in out
    assert not (tmp_path / "db.sqlite3").exists()


@pytest.mark.parametrize("what", ["invoices", "deliveries", "projects"])
def test_export_with_no_config_and_no_store_says_so(tmp_path, capsys, what):
    db_path = tmp_path / "db.sqlite3"
    code, err = run(capsys, "--config", str(tmp_path / "none.toml"), "--db", str(db_path), "export", what, "-o", "-")
    line = one_clear_line(err)
    assert code == ExitCode.CONFIG and "No config file" in line and "nothing to export" in line
    assert not db_path.exists()


def test_export_with_a_config_but_no_store_yet_says_so(config, tmp_path, capsys):
    db_path = tmp_path / "db.sqlite3"
    code, err = run(capsys, "--config", str(config), "--db", str(db_path), "export", "invoices", "-o", "-")
    assert code == ExitCode.DATA and "cftui sync" in one_clear_line(err)
    assert not db_path.exists()


# ---------------------------------------------------------------- a failed sync: the code of its cause


def test_a_key_file_that_is_not_text_fails_the_sync_clearly(tmp_path, capsys):
    key_file = tmp_path / "key"
    key_file.write_bytes(b"\xff\xfe binary")
    config = tmp_path / "config.toml"
    config.write_text(STORE.replace('api_key = "k-123456"', f'api_key_file = "{key_file}"'), encoding="utf-8")
    config.chmod(0o600)
    code, err = run(capsys, "--config", str(config), "--db", str(tmp_path / "db.sqlite3"), "sync", "--once")
    assert code == ExitCode.CONFIG and "is not UTF-8 text" in err and "unexpected error" not in err
    code, err = run(capsys, "--config", str(config), "--db", str(tmp_path / "db.sqlite3"), "doctor")
    assert code == ExitCode.UNREACHABLE and "unexpected error" not in err  # nothing listens on :9 (review M12)
