"""What the Greenfield client says when the server pushes back (review D14, D4): a message that names the
real cause and the real number of attempts, a backoff that keeps to the server's short Retry-After."""

from __future__ import annotations

import itertools
import time

import pytest
from scripted_server import scripted_server
from test_btcpay_client import KEY, client

from cftui import config as cfg
from cftui.errors import ConfigError, DataError, UnreachableError

STORE = '[[btcpay]]\nname = "main"\nurl = "https://btcpay.example.com"\nstore_id = "S"\n'


@pytest.fixture
async def server():
    async with scripted_server() as scripted:
        yield scripted


def load(tmp_path, text: str) -> cfg.Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return cfg.load(path)


@pytest.mark.parametrize("key", ["SECRET-API-KEY-123456 ", " SECRET-API-KEY-123456", "SECRET-API-KEY-123456\n"])
def test_an_api_key_with_whitespace_at_an_end_is_refused_by_name(tmp_path, key):
    text = STORE + f"api_key = {key!r}\n".replace("'", '"')
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text.replace("\n\"", '\\n"'))
    message = str(info.value)
    assert "'btcpay[0].api_key' has leading/trailing whitespace" in message
    assert "SECRET-API-KEY" not in message


def test_a_webhook_secret_with_a_trailing_space_is_refused_too(tmp_path):
    with pytest.raises(ConfigError, match="'btcpay\\[0\\].webhook_secret' has leading/trailing whitespace"):
        load(tmp_path, STORE + 'api_key = "k-123456"\nwebhook_secret = "3U9yDVf8QyxPZm3mqa8rQz "\n')


def test_a_key_from_a_file_or_the_environment_is_stripped(tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_text("  SECRET-FROM-FILE-1234 \n", encoding="utf-8")
    monkeypatch.setenv("CFTUI_TEST_KEY", " SECRET-FROM-ENV-5678\t")
    config = load(tmp_path, STORE + f'api_key_file = "{key_file}"\n'
                  + STORE.replace('"main"', '"env"') + 'api_key_env = "CFTUI_TEST_KEY"\n')
    assert config.store("main").require_api_key().reveal() == "SECRET-FROM-FILE-1234"
    assert config.store("env").require_api_key().reveal() == "SECRET-FROM-ENV-5678"


def test_a_key_file_that_is_not_text_is_a_config_error(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_bytes(b"\xff\xfe\x00binary")
    config = load(tmp_path, STORE + f'api_key_file = "{key_file}"\n')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        config.store("main").require_api_key()


def test_a_key_with_characters_no_http_header_may_carry_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CFTUI_TEST_KEY", "SECRET KEY")
    config = load(tmp_path, STORE + 'api_key_env = "CFTUI_TEST_KEY"\n')
    with pytest.raises(ConfigError, match="spaces or control characters"):
        config.store("main").require_api_key()


async def test_429_until_the_budget_says_rate_limited_not_check_the_url(server):
    server.script = [(429, "", {"Retry-After": "1"})] * 10
    async with client(server.url, retry_budget=1.5) as c:
        with pytest.raises(UnreachableError) as caught:
            await c.server_info()
    text = str(caught.value)
    assert "rate limit" in text and "Check the url" not in text
    assert f"{len(server.requests)} attempts" in text


async def test_retry_after_beyond_the_budget_says_so_with_the_real_attempt_count(server):
    server.script = [(429, "", {"Retry-After": "3600"})]
    started = time.monotonic()
    async with client(server.url, retry_budget=60) as c:
        with pytest.raises(UnreachableError) as caught:
            await c.server_info()
    assert time.monotonic() - started < 1
    text = str(caught.value)
    assert "asked cftui to wait 3600 s" in text and "retry budget of 60 s" in text and "after 1 attempt" in text
    assert "1 attempt in 60 s" not in text


async def test_the_backoff_keeps_to_a_short_retry_after(server):
    """Seven 429s with Retry-After: 1 fit a 9 s budget; an exponential backoff would have waited 4-8 s by the sixth."""
    server.script = [(429, "", {"Retry-After": "1"})] * 7 + [(200, '{"version": "2.4.1"}', {})]
    async with client(server.url, retry_budget=9) as c:
        assert await c.server_version() == (2, 4, 1)
    gaps = [later - earlier for earlier, later in itertools.pairwise(server.times)]
    assert len(gaps) == 7 and all(0.95 <= gap < 1.6 for gap in gaps), gaps


async def test_json_nested_too_deeply_is_a_data_error(server):
    server.script = [(200, "[" * 5000 + "]" * 5000, {})]
    async with client(server.url) as c:
        with pytest.raises(DataError, match="not JSON"):
            await c.list_invoices("S1", take=10)


async def test_a_host_name_that_does_not_resolve_says_so():
    from cftui.btcpay.client import GreenfieldClient

    async with GreenfieldClient("http://nonexistent.invalid", KEY, store_name="main", retry_budget=0.3) as c:
        with pytest.raises(UnreachableError) as caught:
            await c.health()
    assert "the host name nonexistent.invalid could not be resolved" in str(caught.value)


def test_doctor_shows_what_a_server_sent_escaped():
    from cftui.btcpay.doctor import DoctorReport, format_report

    report = DoctorReport(store="main", url="https://x", reachable=True, key_valid=True,
                          key_label="label\x1b]0;OWNED\x07", version="2.4.1\x1b[2J",
                          problems=["BTCPay store 'main' answered HTTP 400: bad\x9b2J"])
    text = format_report(report)
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in text)
    assert "label\\x1b]0;OWNED\\x07" in text and "bad\\x9b2J" in text
