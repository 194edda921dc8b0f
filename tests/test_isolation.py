"""The suite's own isolation: a test that leaves its store open and bound cannot leak it into the next."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_a_store_left_open_by_one_test_is_closed_and_unbound_before_the_next():
    # In a pytest of its own, so the two run in this order on one process whatever -n the suite has.
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly",
         str(HERE / "data" / "two_tests_in_a_row.py")],
        cwd=HERE.parent, capture_output=True, text=True, timeout=100,
        # Without the options the suite was given (CI's PYTEST_ADDOPTS has -n 2, which needs xdist).
        env={name: value for name, value in os.environ.items() if name != "PYTEST_ADDOPTS"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
