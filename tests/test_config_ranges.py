"""Every numeric config value, store name and URL is checked before it is used (review D6, D11).

A value outside its range is refused with the key, the value and the range
allowed, and `cftui` exits 3, instead of binding port 70000 - 65536, turning
the rate limit off at 0, or timing every request out at 0.
"""

from __future__ import annotations

import re

import pytest

from cftui import config as cfg
from cftui.cli import main
from cftui.errors import ConfigError, ExitCode

STORE = '[[btcpay]]\nname = "main"\nurl = "https://btcpay.example.com"\nstore_id = "S"\napi_key = "k-123456"\n'

OUT_OF_RANGE = [
    ("webhooks", "port", 70000, "between 1 and 65535"),
    ("webhooks", "port", 0, "between 1 and 65535"),
    ("webhooks", "read_timeout", 0, "between 1 and 3600"),
    ("webhooks", "rate_limit", 0, "between 1 and 1000000"),
    ("webhooks", "max_body_bytes", 0, "between 1 and 104857600"),
    ("webhooks", "rejected_retention", -1, "between 0 and 10000000"),
    ("sync", "interval", 0, "between 1 and 604800"),
    ("sync", "interval", 2**63 - 1, "between 1 and 604800"),
    ("sync", "retry_budget", -5, "between 0 and 86400"),
    ("sync", "overlap", -99999999999, "between 0 and 31536000"),
    ("sync", "page_size", 1001, "between 1 and 1000"),
    ("sync", "concurrency", 0, "between 1 and 64"),
    ("angor", "timeout", -3, "between 1 and 3600"),
    ("ui", "page_size", 0, "between 1 and 10000"),
]


def load_text(tmp_path, text: str) -> cfg.Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return cfg.load(path)


@pytest.mark.parametrize(("section", "key", "value", "allowed"), OUT_OF_RANGE)
def test_a_value_out_of_range_names_key_value_and_range(tmp_path, section, key, value, allowed):
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, f"[{section}]\n{key} = {value}\n")
    message = str(info.value)
    assert f"'{section}.{key}'" in message and str(value) in message and allowed in message


@pytest.mark.parametrize("value", [0, -3, 3601])
def test_a_store_timeout_out_of_range_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match=rf"'btcpay\[0\].timeout' must be between 1 and 3600, not {value}"):
        load_text(tmp_path, STORE + f"timeout = {value}\n")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("x" * 9000, "at most 64 characters"),
        ("my store", "letters, digits"),
        ("a?b", "letters, digits"),
        ("a%2F", "letters, digits"),
        ("tab\there", "letters, digits"),
        ("esc\x1b[2J", "letters, digits"),
    ],
)
def test_a_store_name_must_be_usable_in_the_webhook_url(tmp_path, name, why):
    text = STORE.replace('name = "main"', f"name = {cfg_string(name)}")
    with pytest.raises(ConfigError, match=why):
        load_text(tmp_path, text)


def test_unicode_and_punctuation_that_a_url_path_carries_are_fine(tmp_path):
    config = load_text(tmp_path, STORE.replace('name = "main"', 'name = "café-ü™-店_2.b"'))
    assert config.btcpay[0].name == "café-ü™-店_2.b"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[::1", "not a valid URL"),
        ("http://example.com:99999", "Port out of range"),
        ("https://", "must be an http(s) URL"),
    ],
)
def test_a_bad_store_url_is_a_config_error(tmp_path, url, why):
    with pytest.raises(ConfigError, match=re.escape(why)):
        load_text(tmp_path, STORE.replace("https://btcpay.example.com", url))


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("relays", '["not a url"]', "ws:// or wss://"),
        ("relays", '["https://relay.example.com"]', "ws:// or wss://"),
        ("indexer_url", '"nope"', "http(s) URL"),
        ("esplora_url", '"ftp://x"', "http(s) URL"),
    ],
)
def test_angor_urls_are_checked(tmp_path, key, value, why):
    with pytest.raises(ConfigError, match=re.escape(why)):
        load_text(tmp_path, f"[angor]\n{key} = {value}\n")


def test_the_cli_exits_3_with_one_line(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(STORE + "[webhooks]\nport = 70000\n", encoding="utf-8")
    code = main(["--config", str(path), "--db", str(tmp_path / "db.sqlite3"), "listen"])
    err = capsys.readouterr().err
    assert code == ExitCode.CONFIG
    assert err.count("\n") == 1 and "'webhooks.port' must be between 1 and 65535, not 70000" in err


def test_a_port_flag_out_of_range_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(STORE, encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["--config", str(path), "listen", "--port", "70000"])
    assert info.value.code == ExitCode.USAGE
    assert "between 1 and 65535" in capsys.readouterr().err


def cfg_string(text: str) -> str:
    """A TOML basic string holding ``text`` exactly (control characters escaped)."""
    escaped = "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text)
    return f'"{escaped}"'
