"""The README's tables say what the code does: exit codes, config ranges, the receiver's limits."""

from __future__ import annotations

import re
from pathlib import Path

from cftui import config as cfg
from cftui.angor import nostr
from cftui.errors import ExitCode
from cftui.webhooks import connections

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def test_the_exit_code_table_lists_every_code():
    table = re.findall(r"^\| (\d+) \| ", section("Files, logs and exit codes"), flags=re.MULTILINE)
    codes = {value for name, value in vars(ExitCode).items() if name.isupper()}
    assert sorted(int(code) for code in table) == sorted(codes)


def test_every_range_is_the_one_the_code_checks():
    block = section("Configuration")
    current = None
    shown: dict[str, str] = {}
    for line in block.splitlines():
        if header := re.match(r"^\[+(\w+)\]+", line):
            current = header.group(1)
        elif (key := re.match(r"^(\w+) = ", line)) and current:
            if found := re.search(r"\((\d+)-(\d+)\)\s*$", line):
                shown[f"{current}.{key.group(1)}"] = f"{found.group(1)}-{found.group(2)}"
    assert shown == {key: f"{low}-{high}" for key, (low, high) in cfg.RANGES.items()}


def test_the_receivers_limits_are_the_ones_it_enforces():
    answers = section("Webhooks")
    assert f"closed after {connections.KEEPALIVE_S:g} s" in answers
    assert f"more than {connections.PER_ADDRESS} connections from one address" in answers
    assert f"less {connections.RESERVED_FDS} kept" in answers
    assert f"messages over {nostr.MAX_FRAME_BYTES >> 20} MiB are refused" in section("Angor")
