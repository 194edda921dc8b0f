"""Opening a PostgreSQL store: what the database must be, one clear line when it is not, and a lost connection."""

from __future__ import annotations

import secrets
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import peewee
import pytest
from pg_server import with_schema

from cftui.errors import ConfigError, DataError
from cftui.store.db import SCHEMA_VERSION, open_database, schema_version
from cftui.store.models import Meta, Store

on_postgresql = pytest.mark.parametrize("engine_name", ["postgresql"])


def other_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def test_a_database_that_does_not_sort_by_code_point_is_refused(pg_server_url):
    import psycopg

    name = f"cftui_icu_{secrets.token_hex(4)}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
                      "LOCALE 'C.UTF-8' TEMPLATE template0")  # fmt: skip
    try:
        with pytest.raises(DataError, match="needs UTF8 and the C collation") as caught:
            open_database(other_database(pg_server_url, name))
        assert "LC_COLLATE 'C'" in str(caught.value) and ":" + "//" in str(caught.value)
        assert urlsplit(pg_server_url).password not in str(caught.value)
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_a_role_without_a_schema_of_its_own_gets_the_setup_hint(pg_server_url):
    with pytest.raises(DataError, match="has no schema to keep the store in"):
        open_database(with_schema(pg_server_url, "no_such_schema"))
    # PostgreSQL 15 lets only the database owner create in `public`.
    with pytest.raises(DataError, match="may not change the store's schema: permission denied") as caught:
        open_database(with_schema(pg_server_url, "public"))
    assert "README" in str(caught.value)


def test_without_the_driver_a_postgresql_url_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    with pytest.raises(ConfigError, match=r"pip install 'cftui\[postgresql\]'"):
        open_database("postgresql://cftui@127.0.0.1:1/cftui")


@on_postgresql
def test_a_connection_the_server_dropped_is_replaced_on_next_use(db):
    Store.create(name="main", url="http://x", store_id="S", added_time=1)
    (pid,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
    with __import__("psycopg").connect(db.database, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises((peewee.OperationalError, peewee.InterfaceError)):
        Store.select().count()  # the query that finds the connection dead fails
    assert Store.select().count() == 1  # the next one runs on a new connection
    assert db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != pid


OPEN = "import sys; from cftui.store.db import open_database; open_database(sys.argv[1]); print('ok')"


def test_processes_opening_a_new_store_at_once_migrate_it_once(store_target):
    procs = [
        subprocess.Popen([sys.executable, "-c", OPEN, store_target], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)  # fmt: skip
        for _ in range(4)
    ]
    outcomes = [proc.communicate(timeout=60) for proc in procs]
    finished = [(proc.returncode, out.strip()) for proc, (out, _) in zip(procs, outcomes, strict=True)]
    assert finished == [(0, "ok")] * 4, outcomes
    db = open_database(store_target)
    assert schema_version(db) == SCHEMA_VERSION and Meta.select().count() == 1
    db.close()


@on_postgresql
def test_a_read_only_server_is_one_clear_line_with_exit_6_and_no_password(store_target, tmp_path, capsys):
    """A hot standby (or a read-only default) refuses every write: said as such, not as a bug."""
    from urllib.parse import quote

    from cftui.cli import main
    from cftui.errors import ExitCode

    open_database(store_target).close()  # created and migrated while writable
    read_only = store_target + quote(" -cdefault_transaction_read_only=on")
    config = tmp_path / "config.toml"
    config.write_text('[[btcpay]]\nname = "main"\nurl = "http://127.0.0.1:9"\nstore_id = "S"\napi_key = "k-123456"\n'
                      "[sync]\nretry_budget = 1\n", encoding="utf-8")  # fmt: skip
    config.chmod(0o600)
    code = main(["--config", str(config), "--db-url", read_only, "sync", "--once", "--source", "btcpay"])
    err = capsys.readouterr().err
    assert code == ExitCode.DATA, err
    assert "cannot be written (cannot execute INSERT in a read-only transaction)" in err and "primary" in err
    assert urlsplit(store_target).password not in err and "nexpected" not in err and "Traceback" not in err
