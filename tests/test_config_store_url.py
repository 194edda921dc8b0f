"""Where the store lives: --db-url / CFTUI_DB_URL / [store] url beside --db / CFTUI_DB, and its password kept secret."""

from __future__ import annotations

import pytest

from cftui import config as cfg
from cftui import store_location as location
from cftui.cli import main
from cftui.errors import ConfigError

PASSWORD = "pa55-w0rd-secret"
URL = f"postgresql://cftui:{PASSWORD}@db.example:5432/cftui"
SHOWN = "postgresql://cftui:••••••••@db.example:5432/cftui"


def with_store_url(url: str) -> cfg.Config:
    return cfg.from_dict({"store": {"url": url}})


def test_a_url_beats_a_file_at_each_level_and_flags_beat_the_environment_beat_the_config(tmp_path, monkeypatch):
    default = cfg.resolve_paths()
    assert default.db_url is None and not default.db_given
    assert default.store == str(tmp_path / "xdg-data" / "cftui" / "cftui.sqlite3")
    assert default.with_config(with_store_url(URL)).store == URL  # [store] url beats the default file

    monkeypatch.setenv("CFTUI_DB", str(tmp_path / "env.sqlite3"))
    assert cfg.resolve_paths().with_config(with_store_url(URL)).store == str(tmp_path / "env.sqlite3")
    monkeypatch.setenv("CFTUI_DB_URL", "postgresql://env@db.example/cftui")
    assert cfg.resolve_paths().store == "postgresql://env@db.example/cftui"
    assert cfg.resolve_paths(db=tmp_path / "flag.sqlite3").store == str(tmp_path / "flag.sqlite3")
    assert cfg.resolve_paths(db_url=URL).with_config(with_store_url("postgresql://other/x")).store == URL
    # --db given a URL takes it as one; sqlite:///path is a file.
    assert cfg.resolve_paths(db=URL).db_url == URL
    paths = cfg.resolve_paths(db_url=f"sqlite:///{tmp_path}/x.sqlite3")  # sqlite:////tmp/...: absolute
    assert paths.db_url is None and paths.store == f"{tmp_path}/x.sqlite3"


@pytest.mark.parametrize(
    "args, needle",
    [
        ({"db": "a.sqlite3", "db_url": URL}, "Both --db and --db-url"),
        ({"db_url": "mysql://db.example/cftui"}, "--db-url must be a postgresql:// URL"),
        ({"db_url": "/var/lib/cftui.sqlite3"}, "--db-url must be a postgresql:// URL"),
        ({"db_url": "postgresql://db.example"}, "names no database"),
    ],
)
def test_a_wrong_store_flag_is_one_clear_error(args, needle):
    with pytest.raises(ConfigError, match=needle):
        cfg.resolve_paths(**args)


def test_a_wrong_store_url_in_the_config_names_the_key_and_hides_the_password(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "mysql://cftui:{PASSWORD}@db.example/cftui"\n')
    with pytest.raises(ConfigError, match=r"'store.url' must be a postgresql:// URL") as caught:
        cfg.load(path)
    assert PASSWORD not in str(caught.value)


def test_the_password_is_masked_wherever_the_config_is_shown_and_kept_when_saved(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(f'# my team store\n[store]\nurl = "{URL}"\n')
    config = cfg.load(path)
    assert config.db.url == URL
    assert PASSWORD in config.secret_values()  # redacted from every log line
    shown = cfg.masked_text(config)
    assert SHOWN in shown and PASSWORD not in shown
    assert main(["--config", str(path), "config", "show"]) == 0
    out = capsys.readouterr().out
    assert SHOWN in out and PASSWORD not in out
    assert main(["--config", str(path), "config", "path"]) == 0
    out = capsys.readouterr().out
    assert f"store   {SHOWN}  (PostgreSQL;" in out and PASSWORD not in out
    cfg.save(config, path)
    text = path.read_text()
    assert "# my team store" in text and URL in text  # the file itself keeps it (mode 0600)


def test_masking_covers_every_url_in_a_text():
    text = f"tried {URL} then postgres://u:p%40ss@h/db and postgresql://nopass@h/db"
    assert location.masked(text) == f"tried {SHOWN} then postgres://u:••••••••@h/db and postgresql://nopass@h/db"
    assert location.secrets("postgres://u:p%40ss@h/db") == ["p%40ss", "p@ss"]
    assert location.secrets("postgresql://nopass@h/db") == [] and location.secrets("/a/file.sqlite3") == []


def test_a_store_that_cannot_be_reached_is_one_line_without_the_password(tmp_path, capsys):
    from pg_server import free_port

    url = f"postgresql://cftui:{PASSWORD}@127.0.0.1:{free_port()}/cftui"
    assert main(["--db-url", url, "export", "invoices", "-o", "-"]) == 5
    err = capsys.readouterr().err
    assert err.startswith("cftui: Cannot connect to the PostgreSQL store at postgresql://cftui:••••••••@127.0.0.1:")
    assert err.count("\n") == 1 and PASSWORD not in err
    log = (tmp_path / "logs" / "cftui.log").read_text()
    assert "Cannot connect" in log and PASSWORD not in log
