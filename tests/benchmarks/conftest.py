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


class BenchPostgres:
    """A PostgreSQL server for the benchmarks, with a fresh schema per use."""

    def __init__(self, url: str, described: str) -> None:
        self.url = url
        self.described = described  # printed beside the figures

    def schema(self, name: str) -> str:
        """An empty schema ``name`` (dropped first if a previous run left it); the URL that uses it."""
        import psycopg
        from pg_server import with_schema

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{name}"')
        return with_schema(self.url, name)


@pytest.fixture(scope="session")
def bench_pg():
    """``CFTUI_BENCH_PG_URL`` (a database whose role may create schemas), else a throwaway server started here
    with PostgreSQL's default, durable settings (fsync on: the figures must be what a real server gives)."""
    import os
    import tempfile
    from pathlib import Path

    import pg_server

    url = os.environ.get("CFTUI_BENCH_PG_URL")
    if url:
        yield BenchPostgres(url, "CFTUI_BENCH_PG_URL")
        return
    if pg_server.find_bin() is None:
        pytest.fail("the PostgreSQL benchmarks need a server: install PostgreSQL (initdb) or set CFTUI_BENCH_PG_URL")
    server = pg_server.Server(Path(tempfile.mkdtemp(prefix="cftui-bench-pg-")), durable=True)
    try:
        url = server.start()
        version = server_version(server)
        yield BenchPostgres(url, f"PostgreSQL {version}, local throwaway server, default settings (fsync on)")
    finally:
        server.stop()


def server_version(server) -> str:
    import subprocess

    out = subprocess.run([str(server.bin / "postgres"), "--version"], capture_output=True, text=True).stdout
    return out.split()[2] if out else "?"  # "postgres (PostgreSQL) 15.18 (Debian ...)"


@pytest.fixture(scope="module")
def big_store():
    """A store of :data:`BIG` invoices (built once, kept between runs), open, with the clock at its end."""
    from store_fill import BIG, END, filled_store

    from cftui import clock
    from cftui.store.db import open_database

    path = filled_store(BIG)
    clock.freeze(END)
    db = open_database(path)
    yield path
    db.close()
    clock.freeze(None)
