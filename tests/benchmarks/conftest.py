"""Benchmarks: collected only when asked for (`pytest tests/benchmarks -s`).

Files are named bench_*.py so the default test run never picks them up; this
hook collects them when this folder is on the command line.
"""

from __future__ import annotations

import pytest


def pytest_collect_file(parent, file_path):
    # A file named on the command line is collected by pytest itself.
    if parent.session.isinitpath(file_path):
        return None
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
