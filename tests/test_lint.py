"""Lint and types, configured in pyproject.toml, checked in the suite (so the README's test command and CI
run them): ruff over the package and the tests, mypy strict over the core and checked bodies in the UI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "RUFF_CACHE_DIR": str(cache / "ruff")})  # fmt: skip


def test_ruff_finds_nothing(tmp_path):
    out = _run("ruff", "check", "--no-fix", "--output-format", "concise", "cftui", "tests", cache=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "All checks passed!" in out.stdout


def test_mypy_finds_nothing(tmp_path):
    # Its own cache folder: a developer's .mypy_cache never hides an error, and runs in parallel never share one.
    out = _run("mypy", "--cache-dir", str(tmp_path / "mypy"), cache=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("Success: no issues found in ") and int(out.stdout.split()[5]) > 150, out.stdout
