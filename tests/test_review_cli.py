"""The command line of the newcomer review (M12): usage errors say what was meant, nothing is overwritten
silently, doctor's exit code names the failure, hints never go round in a circle, and every option says
what it does.
"""

from __future__ import annotations

import re

import pytest
from angor_relay import free_port

from cftui.cli import build_parser, main
from cftui.errors import ExitCode
from cftui.store.db import open_database


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def no_config(tmp_path):
    return ["--config", str(tmp_path / "config.toml"), "--db", str(tmp_path / "store.sqlite3")]


@pytest.mark.parametrize("command", [["config", "show"], ["doctor"], ["config", "path"]])
def test_m12_a_theme_typo_is_a_usage_error_for_every_command_and_names_the_theme_meant(capsys, no_config, command):
    code, _, err = run(capsys, *no_config, "--theme", "nrod", *command)
    assert code == ExitCode.USAGE
    assert "Unknown theme 'nrod'" in err and "Did you mean 'nord'?" in err


def test_m12_the_dashboards_flags_also_work_after_the_demo_command():
    parser = build_parser()
    assert parser.parse_args(["demo", "--theme", "nord", "--no-mouse"]).theme == "nord"
    assert parser.parse_args(["demo", "--no-mouse"]).no_mouse is True
    after, before = parser.parse_args(["demo"]), parser.parse_args(["--theme", "nord", "demo"])
    assert (after.theme, after.no_mouse, before.theme) == (None, False, "nord")


def test_m12_export_projects_writes_a_new_file_like_every_other_export(capsys, tmp_path, monkeypatch):
    from cftui import clock

    monkeypatch.chdir(tmp_path)
    open_database(tmp_path / "store.sqlite3").close()
    args = ["--config", str(tmp_path / "none.toml"), "--db", str(tmp_path / "store.sqlite3"), "export", "projects"]
    for at in (1_800_000_000, 1_800_000_001):
        clock.freeze(at)
        try:
            assert run(capsys, *args)[0] == ExitCode.OK
        finally:
            clock.freeze(None)
    written = sorted(path.name for path in tmp_path.glob("*.csv"))
    assert written == ["cftui-projects-20270115-080000.csv", "cftui-projects-20270115-080001.csv"]


def test_m12_doctor_exits_5_when_a_store_cannot_be_reached(capsys, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[[btcpay]]\nname = "main"\nurl = "http://127.0.0.1:{free_port()}"\nstore_id = "S"\n'
                      'api_key = "k-123456"\ntimeout = 1\n', encoding="utf-8")  # fmt: skip
    config.chmod(0o600)
    code, out, _ = run(capsys, "--config", str(config), "--db", str(tmp_path / "store.sqlite3"), "doctor")
    assert "FAIL reachable" in out
    assert code == ExitCode.UNREACHABLE  # the README's code for a server that cannot be reached


def test_m12_doctor_after_config_init_says_where_to_add_the_store_not_to_run_init_again(capsys, no_config):
    assert run(capsys, *no_config, "config", "init")[0] == ExitCode.OK
    code, _, err = run(capsys, *no_config, "doctor")
    assert code == ExitCode.CONFIG
    assert "config init" not in err and "[[btcpay]]" in err and no_config[1] in err


def test_m12_a_misspelt_config_key_suggests_the_one_meant(capsys, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[btcpay]]\nname = "main"\nurl = "https://btcpay.example"\nstore_id = "S"\napi_kye = "k"\n',
                      encoding="utf-8")  # fmt: skip
    config.chmod(0o600)
    code, _, err = run(capsys, "--config", str(config), "--db", str(tmp_path / "db.sqlite3"), "config", "show")
    assert code == ExitCode.CONFIG
    assert "unknown key 'btcpay[0].api_kye'" in err and "Did you mean 'api_key'?" in err


def test_m12_every_option_of_every_command_says_what_it_does():
    parser = build_parser()
    undocumented = []

    def walk(p, path):
        for action in p._actions:
            if action.option_strings and action.help is None:
                undocumented.append(f"{path} {'/'.join(action.option_strings)}")
            for name, child in getattr(action, "choices", None).items() if hasattr(action, "_name_parser_map") else ():
                walk(child, f"{path} {name}")

    walk(parser, "cftui")
    assert undocumented == []
    export_help = build_parser()._subparsers._group_actions[0].choices["export"].format_help()
    descriptions = re.findall(r"^    (invoices|deliveries|projects)\s+(.*)$", export_help, flags=re.MULTILINE)
    assert len(descriptions) == 3 and all(text.startswith("the ") for _, text in descriptions), descriptions


def test_m12_replay_with_no_store_says_so_and_creates_none(capsys, tmp_path):
    """Like an export: a command that reads recorded deliveries never creates an empty store to find nothing in."""
    db = tmp_path / "store.sqlite3"
    code, _, err = run(capsys, "--config", str(tmp_path / "none.toml"), "--db", str(db), "webhook", "replay", "#1")
    assert code == ExitCode.CONFIG and "nothing to replay" in err and "No recorded delivery" not in err
    assert not db.exists()
