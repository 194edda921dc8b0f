"""A throwaway PostgreSQL server for the tests and benchmarks, and a schema per test in it.

Where the server comes from (:func:`test_server_url`), first match:

1. ``CFTUI_TEST_PG_URL``: a database whose role may create schemas in it
   (``GRANT CREATE ON DATABASE``) and databases (``CREATEDB``). CI sets it
   (``.ci/run`` starts a server with this module).
2. ``initdb`` on PATH or in ``/usr/lib/postgresql/*/bin``: a cluster in a
   temporary folder, started for the session and removed at its end (as the
   ``postgres`` user when running as root, which initdb refuses).
3. Neither: the PostgreSQL variants of the tests are left out (deselected),
   and one line at the end of the run says how to run them; with
   ``CFTUI_REQUIRE_PG=1`` (CI) they run and fail instead.

Each test gets a schema of its own (owned by the test role, exactly what the
README grants a production role), so parallel workers never meet.

Also a command line for ``.ci/run``: ``python3 tests/pg_server.py start DIR``
prints the URL of a new server in DIR; ``... stop DIR`` stops it. Standard
library only: it runs before the venv exists.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ENV_URL = "CFTUI_TEST_PG_URL"
ENV_REQUIRE = "CFTUI_REQUIRE_PG"
ROLE = "cftui_test"
HOW_TO = (
    f"The PostgreSQL variants of the tests did not run (deselected): no server. Install PostgreSQL (initdb) or set "
    f"{ENV_URL}=postgresql://user:pass@host:port/db (a database where that role may create schemas; CREATEDB)."
)
# Test-only server settings: nothing here must survive a crash, so skip the fsyncs.
FAST = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def find_bin() -> Path | None:
    """The directory of PostgreSQL's server programs (the newest installed version)."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    """initdb and postgres refuse root: run them as `postgres` then (Debian's package creates it)."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(_as_server_user(argv), check=True, capture_output=True, text=True, **kwargs)


class Server:
    """A cluster in ``base`` (data, socket, log), on a free loopback port."""

    def __init__(self, base: Path, *, durable: bool = False) -> None:
        self.base = base
        self.data = base / "data"
        self.durable = durable  # benchmarks: the default fsync settings, as a real server has
        self.bin = find_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL's initdb was not found")
        self.port = 0
        self.password = secrets.token_hex(12)

    def start(self) -> str:
        self.base.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
        _run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
              "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C"])  # fmt: skip
        for attempt in range(5):
            self.port = free_port()
            try:
                self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.base / "server.log"), "-o", self._options())
                break
            except subprocess.CalledProcessError:
                if attempt == 4:
                    raise
        self._psql(
            # CREATEDB for the test that a database sorting text another way is refused; a production role
            # needs none of it (README, "A team store on PostgreSQL").
            f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{self.password}'",
            f"CREATE DATABASE {ROLE} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
            f"REVOKE ALL ON DATABASE {ROLE} FROM PUBLIC",
            f"GRANT CONNECT, CREATE ON DATABASE {ROLE} TO {ROLE}",
        )
        return self.url

    @property
    def url(self) -> str:
        return f"postgresql://{ROLE}:{quote(self.password)}@127.0.0.1:{self.port}/{ROLE}"

    def _options(self) -> str:
        options = ["-p", str(self.port), "-k", str(self.base), "-c", "listen_addresses=127.0.0.1",
                   "-c", "max_connections=200"]  # fmt: skip
        return " ".join(options if self.durable else [*options, *FAST])

    def _pg_ctl(self, *args: str) -> None:
        _run([str(self.bin / "pg_ctl"), "-D", str(self.data), *args])

    def _psql(self, *statements: str) -> None:
        commands = [arg for sql in statements for arg in ("-c", sql)]  # each -c its own transaction
        _run([str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.base), "-p",
              str(self.port), "-U", "postgres", "-d", "postgres", *commands])  # fmt: skip

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "-m", "fast", "-w")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.base, ignore_errors=True)


def with_schema(url: str, schema: str) -> str:
    """``url`` with ``schema`` first on the search path (libpq's ``options``)."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"


def new_schema(url: str) -> tuple[str, str]:
    """A fresh schema owned by the URL's role: (its name, the URL that uses it)."""
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return name, with_schema(url, name)


def drop_schema(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        # A connection a test left inside a transaction must not hang the run: the server is throwaway.
        conn.execute("SET lock_timeout = '10s'")
        try:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        except psycopg.errors.LockNotAvailable:
            pass


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print("usage: pg_server.py start|stop DIR", file=sys.stderr)
        return 2
    base = Path(argv[2])
    server = Server(base)
    if argv[1] == "stop":
        server.stop()
        return 0
    try:
        url = server.start()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        print(f"pg_server: could not start PostgreSQL: {exc} {detail}".strip(), file=sys.stderr)
        server.stop()
        return 1
    print(url)
    return 0


def start_for_session() -> tuple[str, Server] | None:
    """A server for this test process, or None when PostgreSQL is not installed."""
    if find_bin() is None:
        return None
    server = Server(Path(tempfile.mkdtemp(prefix="cftui-pg-")))
    try:
        return server.start(), server
    except (subprocess.CalledProcessError, OSError):
        server.stop()
        raise


def wait_until_accepting(url: str, timeout: float = 30) -> None:
    import psycopg

    end = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
