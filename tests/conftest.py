"""Shared fixtures. Tests never read the developer's own config or store."""

from __future__ import annotations

import contextlib
import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path, monkeypatch):
    """Point every XDG location at the test's temp dir."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for var in ("CFTUI_CONFIG", "CFTUI_DB", "CFTUI_DB_URL", "CFTUI_LOG_DIR", "NO_COLOR", "TEXTUAL_THEME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CFTUI_LOG_DIR", str(tmp_path / "logs"))


def pytest_ignore_collect(collection_path, config):
    """Leave tests/benchmarks out of the default run; `pytest tests/benchmarks -s` runs them."""
    if collection_path.name == "benchmarks" and collection_path.parent.name == "tests":
        asked = [str(arg) for arg in config.args]
        return not any("benchmarks" in arg for arg in asked)
    return None


# ---------------------------------------------------------------- the store, on each engine

ENGINES = ("sqlite", "postgresql")


def _postgresql_reachable() -> bool:
    """A server is named, or can be started here (or CI insists: then a missing one fails the tests)."""
    import pg_server

    return bool(os.environ.get(pg_server.ENV_URL)) or pg_server.find_bin() is not None or (
        os.environ.get(pg_server.ENV_REQUIRE) == "1"
    )


def _on_postgresql(item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (callspec is not None and callspec.params.get("engine_name") == "postgresql") or (
        "pg_server_url" in getattr(item, "fixturenames", ())
    )


def pytest_report_header(config):
    """Where the PostgreSQL variants of the tests run."""
    import pg_server

    if os.environ.get(pg_server.ENV_URL):
        from cftui.store_location import masked

        return f"postgresql: {masked(os.environ[pg_server.ENV_URL])} ({pg_server.ENV_URL})"
    found = pg_server.find_bin()
    return f"postgresql: a throwaway server from {found}" if found else None


def pytest_collection_modifyitems(config, items):
    """Without PostgreSQL its variants are left out (counted as deselected), and one line at the end says why."""
    if _postgresql_reachable():
        return
    left_out = [item for item in items if _on_postgresql(item)]
    if left_out:
        items[:] = [item for item in items if not _on_postgresql(item)]
        config.hook.pytest_deselected(items=left_out)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _postgresql_reachable():
        import pg_server

        terminalreporter.write_line(pg_server.HOW_TO)


@pytest.fixture(scope="session")
def pg_server_url(request) -> str:
    """A PostgreSQL database the tests may create schemas in; skips (fails in CI) without one."""
    import pg_server

    url = os.environ.get(pg_server.ENV_URL)
    if url:
        return url
    reason = pg_server.HOW_TO
    try:
        started = pg_server.start_for_session()
    except Exception as exc:  # installed but unusable here: say why
        started, reason = None, f"PostgreSQL tests skipped: starting a server failed: {exc}"
    if started is None:
        if os.environ.get(pg_server.ENV_REQUIRE) == "1":
            pytest.fail(f"{pg_server.ENV_REQUIRE}=1 but {reason}")
        pytest.skip(reason)
    url, server = started
    request.addfinalizer(server.stop)
    return url


@pytest.fixture(params=ENGINES)
def engine_name(request) -> str:
    return request.param


@pytest.fixture
def new_store_target(engine_name, request, tmp_path):
    """``new_store_target(name)``: another empty store on the test's engine, as many as a test needs:
    a SQLite file, or a schema of its own on the PostgreSQL server (dropped after the test)."""
    made: list[tuple[str, str]] = []

    def make(name: str = "store") -> str:
        if engine_name == "sqlite":
            return str(tmp_path / f"{name}.sqlite3")
        import pg_server

        base = request.getfixturevalue("pg_server_url")
        schema, url = pg_server.new_schema(base)
        made.append((base, schema))
        return url

    yield make
    import pg_server

    if made:
        close_stores_left_open()  # an open connection would keep its schema from being dropped
    for base, schema in made:
        pg_server.drop_schema(base, schema)


@pytest.fixture
def store_target(new_store_target) -> str:
    """Where the test's store lives (``open_database`` takes it; so do ``--db-url`` and ``--db``)."""
    return new_store_target()


@pytest.fixture
def store_args(store_target) -> list[str]:
    """The command-line flag that points a cftui command at the test's store."""
    from cftui.store_location import is_postgres

    return ["--db-url" if is_postgres(store_target) else "--db", store_target]


@pytest.fixture
def db(store_target):
    """The test's store, opened (and migrated) on its engine; the models are bound to it."""
    from cftui.store.db import open_database

    database = open_database(store_target)
    yield database
    database.close()


# ---------------------------------------------------------------- BTCPay simulators


@contextlib.contextmanager
def _simulators():
    from cftui.sim.config import default_config
    from cftui.sim.server import SimulatorThread

    started: list = []

    def start(config=None, *, faults=None, before_start=None, **options):
        thread = SimulatorThread(config or default_config(**options), faults=faults)
        if before_start is not None:
            before_start(thread.sim)
        thread.start()
        started.append(thread)
        return thread

    try:
        yield start
    finally:
        for thread in started:
            thread.stop()


@pytest.fixture
def start_sim():
    """``start_sim(config=None, *, faults=None, before_start=None, **options)``: a BTCPay simulator serving on
    loopback from a thread of its own (``.base_url``, ``.sim``, ``.call``), stopped after the test.

    Without ``config``, ``default_config(**options)``. ``before_start(simulator)`` runs before it serves (a
    webhook sender's routes, say, can only be added then)."""
    with _simulators() as start:
        yield start


@pytest.fixture(scope="module")
def start_module_sim():
    """``start_sim`` for a module-scoped fixture: one simulator shared by a module's tests (a big store, built once)."""
    with _simulators() as start:
        yield start


@pytest.fixture
def nostr_relays(tmp_path):
    """``nostr_relays(n)`` -> n relay URLs, each a real relay process (tests/angor_relay.py); all stopped after."""
    import angor_relay

    yield from angor_relay.relays_in(tmp_path)


# ---------------------------------------------------------------- the models' database proxy

# Every database the models were bound to (``open_database``, the app, a CLI command run in-process)
# since the last test ended, in the order bound. Only this module adds to it, through the proxy's own callback.
_BOUND: list = []


def _remember_bound(db) -> None:
    if db is not None and not any(db is seen for seen in _BOUND):
        _BOUND.append(db)


def close_stores_left_open() -> None:
    """Close (on this thread) every store bound since the last test, then unbind the models."""
    from cftui.store.models import database

    while _BOUND:
        _BOUND.pop().close()
    database.initialize(None)


@pytest.fixture(autouse=True, scope="session")
def _watch_the_proxy():
    from cftui.store.models import database

    database.attach_callback(_remember_bound)


@pytest.fixture(autouse=True)
def _isolated_store(request, _watch_the_proxy):
    """No test sees another's database: what a test opened is closed after it, and the models left unbound,
    so a test that forgets to open a store fails instead of using the previous test's.

    (Benchmarks open a million-invoice store once per module, on purpose.)"""
    yield
    if "benchmarks" in request.node.path.parts:
        _BOUND.clear()
        return
    close_stores_left_open()
