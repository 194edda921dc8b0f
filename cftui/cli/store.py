"""`cftui store migrate --to URL`: copy the store in use into another one (a team's PostgreSQL), exactly."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cftui import logs
from cftui import store_location as location
from cftui.cli.args import Subcommands
from cftui.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from cftui.cli import Context  # the package imports this module

# The sums shown per table: money and counts (every integer column is checked; these are the ones worth reading).
SHOWN_SUMS = ("_sats", "_e8", "count")


def register(sub: Subcommands, export_sub: Subcommands) -> None:
    store = sub.add_parser("store", help="copy the store into another one (e.g. a team's PostgreSQL)")
    store_sub = store.add_subparsers(dest="store_cmd", metavar="ACTION", required=True)
    migrate = store_sub.add_parser(
        "migrate",
        help="copy every row of the store in use into another store, checked, all or nothing",
        description="Copies the store in use (--db, --db-url, [store] url, or the per-user file) into the "
        "store at --to, in one transaction: rows, sums and values are checked before it commits.",
    )
    migrate.add_argument("--to", metavar="URL", required=True, help="postgresql://user@host:5432/db (or sqlite:////path)")
    migrate.add_argument("--replace", action="store_true", help="overwrite a target that already holds data")
    migrate.set_defaults(func=cmd_store_migrate)


def cmd_store_migrate(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.store.copy import copy_store

    problem = location.check(args.to, where="--to")
    if problem:
        raise ConfigError(f"{problem}.")
    logs.redact(*location.secrets(args.to))
    source = ctx.store_paths.store
    target = location.masked(args.to)
    print(f"Copying {location.masked(source)} into {target} (one transaction: all or nothing) ...", file=sys.stderr)
    started: set[str] = set()

    def progress(table: str, rows: int) -> None:
        if table not in started:  # one line per table as it starts: a long copy shows where it is
            started.add(table)
            print(f"  copying {table} ...", file=sys.stderr, flush=True)

    result = copy_store(source, args.to, replace=args.replace, progress=progress)
    print(f"Copied into {target} in {result.seconds:.1f} s; every table matches (rows, integer sums, values):")
    for tally in result.tables:
        sums = "  ".join(f"{name} {total:,}" for name, total in tally.sums.items() if name.endswith(SHOWN_SUMS))
        print(f"  {tally.table:<24} {tally.rows:>12,} rows  {sums}".rstrip())
    print(
        f'Use it: [store] url = "{location.without_password(args.to)}" in the config (or CFTUI_DB_URL / --db-url); '
        "the password in PGPASSWORD or ~/.pgpass, or in the URL."
    )
    return ExitCode.OK
