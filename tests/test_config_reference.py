"""The config's defaults live once, on the dataclass fields: the README's key reference and the
starter file are generated from them, and these tests keep all three in agreement."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from cftui import config, config_reference

README = Path(__file__).resolve().parent.parent / "README.md"


def _all_fields():
    for name, cls, _doc, _is_array in config_reference.sections():
        for f in dataclasses.fields(cls):
            yield name, cls, f


def test_the_readme_key_reference_is_the_generated_one():
    shown = config_reference.readme_block(README.read_text(encoding="utf-8"))
    assert shown == config_reference.reference_toml(), (
        "README's config reference differs from the dataclasses: run `python -m cftui.config_reference --readme`"
    )


def test_every_key_of_every_table_is_documented_in_the_reference():
    reference = config_reference.reference_toml()
    for section, _cls, f in _all_fields():
        assert f.metadata.get("doc"), f"{section}.{f.name} has no words in config.setting(doc=...)"
        assert f"{f.name} = " in reference or f"[{section}.{f.name}]" in reference, f"{section}.{f.name} not shown"
    assert set(name for name, *_ in config_reference.sections()) == {
        "btcpay",
        "sync",
        "webhooks",
        "angor",
        "ui",
        "store",
    }


def test_the_reference_is_a_valid_config_whose_values_are_the_defaults():
    loaded = config.from_dict(tomllib.loads(config_reference.reference_toml()))
    defaults = config.Config()
    for section in ("sync", "webhooks", "angor", "ui", "db"):
        assert getattr(loaded, section) == getattr(defaults, section)
    (store,) = loaded.btcpay
    assert (store.name, store.url, store.timeout, store.verify_tls) == ("main", "https://btcpay.example.com", 30, True)


def test_a_range_check_and_its_documented_range_agree():
    reference = config_reference.reference_toml()
    tables = {block.split("]", 1)[0].strip("[# "): block for block in reference.split("\n\n")}
    for key, (low, high) in config.RANGES.items():
        section, name = key.split(".")
        line = next(line for line in tables[section].splitlines() if line.startswith(f"{name} = "))
        assert f"({low}-{high})" in line, key


def test_the_starter_file_loads_to_the_defaults_with_no_store(tmp_path):
    path = tmp_path / "config.toml"
    config.write_starter(path)
    loaded = config.load(path)
    assert loaded.btcpay == () and loaded.db == config.DbConfig()
    assert dataclasses.replace(loaded, path=None) == config.Config()
    text = path.read_text(encoding="utf-8")
    assert "# [[btcpay]]" in text and "# api_key = " in text and "\n[sync]\n" in text
    assert path.stat().st_mode & 0o777 == 0o600
