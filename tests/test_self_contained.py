"""A clone of this repository alone passes its tests: nothing reads files from outside it.

The upstream files the tests need are copied into ``tests/data/`` with their
source commit and licence (``tests/data/btcpay/SOURCE.txt``).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BTCPAY_DATA = ROOT / "tests" / "data" / "btcpay"
# Ways code has reached beside the repository: the sibling `shared/` folder, by path or by parent walking.
OUTSIDE = re.compile(r"""\.\./shared|/work/shared|["']shared["']\s*/|parents\[\d+\]\.parent""")


def _project_files() -> list[Path]:
    files = [*ROOT.joinpath("cftui").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]
    files += [ROOT / "pyproject.toml", *ROOT.joinpath("tests").glob("conftest.py")]
    return [path for path in files if path.is_file()]


def test_no_project_file_reads_beside_the_repository():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _project_files()
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_the_copied_btcpay_files_name_their_source_and_carry_the_licence():
    source = (BTCPAY_DATA / "SOURCE.txt").read_text(encoding="utf-8")
    assert "https://github.com/btcpayserver/btcpayserver" in source
    assert "03345c2886a58ea4d2f603cb6554b2e3f5d690a4" in source and "v2.4.1" in source
    licence = (BTCPAY_DATA / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "Copyright (c) 2017-2023 btcpayserver" in licence
    copied = sorted(path.name for path in BTCPAY_DATA.glob("swagger.template*.json"))
    assert len(copied) == 8 and all(name in source for name in copied)
