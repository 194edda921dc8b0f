"""Config: layered paths, strict validation, secrets masked, 0600 writes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cftui import config as cfg
from cftui.errors import ConfigError

GOOD = """
[[btcpay]]
name = "main"
url = "https://btcpay.example.com"
store_id = "9CiNzKoANXxmk5ayZngSXrHTiVvvgCrwrpFQd4m2K776"
api_key = "s3cr3t-api-key-value"
webhook_secret = "whsec-very-secret"

[[btcpay]]
name = "second"
url = "http://127.0.0.1:23000"
store_id = "AbC"
api_key_env = "SECOND_KEY"

[sync]
interval = 60
page_size = 500

[webhooks]
enabled = true
port = 9000

[angor]
enabled = true
network = "Angornet"

[ui]
theme = "nord"

[ui.keymap]
sync_now = "ctrl+r"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_every_section(tmp_path):
    config = cfg.load(write(tmp_path, GOOD))
    assert [s.name for s in config.btcpay] == ["main", "second"]
    assert config.store("main").api_key.reveal() == "s3cr3t-api-key-value"
    assert config.sync.interval == 60 and config.sync.page_size == 500
    assert config.sync.overlap == cfg.SyncConfig().overlap  # default kept
    assert config.webhooks.enabled and config.webhooks.port == 9000 and config.webhooks.host == "127.0.0.1"
    assert config.angor.network == "Angornet"
    assert config.angor.effective_relays == tuple(cfg.ANGOR_DEFAULT_RELAYS["Angornet"])
    assert config.angor.effective_indexer_url == "https://signet.angor.online"
    assert config.ui.theme == "nord" and config.ui.keymap == {"sync_now": "ctrl+r"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[sync]\nintervall = 5\n", "unknown key 'sync.intervall'"),
        ("[sync]\ninterval = \"5\"\n", "'sync.interval' must be an integer"),
        ("[sync]\ninterval = true\n", "'sync.interval' must be an integer"),
        ("[webhooks]\nenabled = 1\n", "'webhooks.enabled' must be true or false"),
        ("[bogus]\nx = 1\n", "unknown key 'bogus'"),
        ("[[btcpay]]\nname = \"a\"\nurl = \"https://x\"\n", "'btcpay[0]' needs 'store_id'"),
        ("[[btcpay]]\nname = \"a\"\nurl = \"ftp://x\"\nstore_id = \"s\"\n", "'btcpay[0].url' must be an http(s) URL"),
        ("[angor]\nnetwork = \"Testnet\"\n", "'angor.network' must be one of Main, Angornet"),
        ("[sync]\npage_size = 0\n", "'sync.page_size' must be between 1 and 1000, not 0"),
        ("[ui.keymap]\nsync_now = 3\n", "'ui.keymap' must be a table of strings"),
        ("not toml = = 1", "is not valid TOML"),
    ],
)
def test_bad_config_names_the_key_and_the_file(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        cfg.load(path)
    message = str(info.value)
    assert needle in message
    assert str(path) in message


def test_duplicate_store_names_and_two_key_sources_are_refused(tmp_path):
    dup = '[[btcpay]]\nname="a"\nurl="https://x"\nstore_id="s"\n' * 2
    with pytest.raises(ConfigError, match="two stores are named 'a'"):
        cfg.load(write(tmp_path, dup))
    both = '[[btcpay]]\nname="a"\nurl="https://x"\nstore_id="s"\napi_key="k1234"\napi_key_env="X"\n'
    with pytest.raises(ConfigError, match="sets api_key and api_key_env"):
        cfg.load(write(tmp_path, both))


def test_api_key_from_env_and_file(tmp_path, monkeypatch):
    key_file = tmp_path / "key.txt"
    key_file.write_text("from-file-key\n")
    text = (
        '[[btcpay]]\nname="env"\nurl="https://x"\nstore_id="s"\napi_key_env="CFTUI_TEST_KEY"\n'
        f'[[btcpay]]\nname="file"\nurl="https://x"\nstore_id="s"\napi_key_file="{key_file}"\n'
        '[[btcpay]]\nname="none"\nurl="https://x"\nstore_id="s"\n'
    )
    config = cfg.load(write(tmp_path, text))
    monkeypatch.setenv("CFTUI_TEST_KEY", "from-env-key")
    assert config.store("env").resolve_api_key().reveal() == "from-env-key"
    assert config.store("file").resolve_api_key().reveal() == "from-file-key"
    with pytest.raises(ConfigError, match="has no API key"):
        config.store("none").require_api_key()
    monkeypatch.delenv("CFTUI_TEST_KEY")
    with pytest.raises(ConfigError, match="CFTUI_TEST_KEY is empty"):
        config.store("env").require_api_key()


def test_secrets_never_print(tmp_path):
    config = cfg.load(write(tmp_path, GOOD))
    store = config.store("main")
    shown = " ".join([str(store), repr(store), str(config), cfg.masked_text(config)])
    assert "s3cr3t-api-key-value" not in shown
    assert "whsec-very-secret" not in shown
    assert "••••••••" in cfg.masked_text(config)


def test_save_is_0600_atomic_keeps_comments_and_round_trips(tmp_path):
    path = write(tmp_path, "# my own note\n" + GOOD)
    config = cfg.load(path)
    third = cfg.StoreConfig(name="third", url="https://t", store_id="T", api_key=cfg.Secret("k-third"))
    changed = cfg.with_store(config, third)
    cfg.save(changed, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "# my own note" in text
    again = cfg.load(path)
    assert [s.name for s in again.btcpay] == ["main", "second", "third"]
    assert again.store("third").api_key.reveal() == "k-third"
    assert again.store("main").webhook_secret.reveal() == "whsec-very-secret"
    assert again.ui.keymap == {"sync_now": "ctrl+r"}
    assert not list(tmp_path.glob(".*.tmp"))


def test_starter_file_is_valid_private_and_not_overwritten(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    cfg.write_starter(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = cfg.load(path)
    assert config.btcpay == () and config.sync == cfg.SyncConfig()
    with pytest.raises(ConfigError, match="already exists"):
        cfg.write_starter(path)


def test_paths_flags_beat_env_beat_xdg(tmp_path, monkeypatch):
    default = cfg.resolve_paths()
    assert default.config == tmp_path / "xdg-config" / "cftui" / "config.toml"
    assert default.db == tmp_path / "xdg-data" / "cftui" / "cftui.sqlite3"
    monkeypatch.setenv("CFTUI_CONFIG", str(tmp_path / "env.toml"))
    monkeypatch.setenv("CFTUI_DB", str(tmp_path / "env.sqlite3"))
    assert cfg.resolve_paths().config == tmp_path / "env.toml"
    assert cfg.resolve_paths().db == tmp_path / "env.sqlite3"
    flagged = cfg.resolve_paths(tmp_path / "flag.toml", tmp_path / "flag.sqlite3")
    assert (flagged.config, flagged.db) == (tmp_path / "flag.toml", tmp_path / "flag.sqlite3")


def test_missing_file_gives_defaults_or_a_clear_error(tmp_path):
    assert cfg.load(tmp_path / "nope.toml").is_empty
    with pytest.raises(ConfigError, match="cftui config init"):
        cfg.load(tmp_path / "nope.toml", missing_ok=False)


def test_secrets_from_env_and_file_are_redacted_from_logs(tmp_path, monkeypatch):
    import logging

    from cftui import logs

    key_file = tmp_path / "key.txt"
    key_file.write_text("file-secret-abcdef\n")
    monkeypatch.setenv("CFTUI_TEST_KEY2", "env-secret-123456")
    text = (
        '[[btcpay]]\nname="env"\nurl="https://x"\nstore_id="s"\napi_key_env="CFTUI_TEST_KEY2"\n'
        f'[[btcpay]]\nname="file"\nurl="https://x"\nstore_id="s"\napi_key_file="{key_file}"\n'
        'webhook_secret="hook-secret-999"\n'
    )
    config = cfg.load(write(tmp_path, text))
    assert sorted(config.secret_values()) == ["env-secret-123456", "file-secret-abcdef", "hook-secret-999"]
    log_file = logs.setup(tmp_path / "logs")
    logs.redact(*config.secret_values())
    logging.getLogger("cftui.test").warning(
        "keys %s %s %s", "env-secret-123456", "file-secret-abcdef", "hook-secret-999"
    )
    for handler in logging.getLogger("cftui").handlers:
        handler.flush()
    written = log_file.read_text()
    assert "keys" in written
    assert "secret-123456" not in written and "secret-abcdef" not in written and "secret-999" not in written


def test_crowdfund_all_invoices_round_trips_and_is_left_out_when_empty(tmp_path):
    path = write(tmp_path, GOOD)
    config = cfg.load(path)
    assert config.store("main").crowdfund_all_invoices == ()
    named = cfg.StoreConfig(
        name="third", url="https://t", store_id="T", api_key=cfg.Secret("k"), crowdfund_all_invoices=("AppX1", "AppY2")
    )
    cfg.save(cfg.with_store(config, named), path)
    assert path.read_text().count("crowdfund_all_invoices") == 1  # empty lists are not written into every store
    assert cfg.load(path).store("third").crowdfund_all_invoices == ("AppX1", "AppY2")
    with pytest.raises(ConfigError, match=r"btcpay\[0\]\.crowdfund_all_invoices' must be an array of strings"):
        cfg.from_dict(
            {"btcpay": [{"name": "m", "url": "https://x", "store_id": "s", "crowdfund_all_invoices": "AppX1"}]}
        )
