"""The `cftui` command line.

Each area registers its own subcommands (``cli/core.py``, ``cli/webhooks.py``,
``cli/angor.py``, ``cli/dashboard.py``); this module builds the parser, loads
config lazily, and turns every :class:`~cftui.errors.CftuiError` into one line
on stderr and an exit code (see README, "Exit codes"). Tracebacks only with
``--debug``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from cftui import __version__, logs
from cftui import config as config_mod
from cftui import store_location as location
from cftui.cli import dashboard
from cftui.errors import CftuiError, ConfigError, DataError, ExitCode, UsageError

if TYPE_CHECKING:
    from peewee import Database

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What every command handler gets: resolved paths and the (lazily read) config."""

    args: argparse.Namespace
    paths: config_mod.Paths
    debug: bool = False
    log_file: object = field(default=None)
    opened: str | None = None  # the store this command opened (named in a storage error)

    @cached_property
    def config(self) -> config_mod.Config:
        config = config_mod.load(self.paths.config)
        logs.redact(*config.secret_values())
        return config

    @property
    def store_paths(self) -> config_mod.Paths:
        """The paths with the store resolved: a flag or the environment, else ``[store] url``, else the file."""
        if self.paths.db_url or self.paths.db_given:
            return self.paths  # no need to read the config for it
        return self.paths.with_config(self.config)

    def open_store(self) -> Database:
        from cftui.store.db import open_database

        self.opened = self.store_paths.store
        return open_database(self.opened)

    def has_store(self) -> bool:
        """Whether there is a store to read (a PostgreSQL store is a server's: there is)."""
        store = self.store_paths.store
        return location.is_postgres(store) or os.path.exists(location.sqlite_path(store))

    def open_existing_store(self, what: str, doing: str = "export") -> Database:
        """Open the store to read ``what`` from (to export or replay it): never create an empty one to read
        nothing from. (A PostgreSQL store is a server's: it is opened, and an empty one has nothing to read.)"""
        if not self.has_store():
            file = location.sqlite_path(self.store_paths.store)
            if not self.paths.config.exists():
                raise ConfigError(
                    f"No config file at {self.paths.config} and no store at {file}: nothing to {doing}.",
                    hint=f"Run `cftui config init` and `cftui sync` first, or give --db the store to {doing} from.",
                )
            raise DataError(
                f"No store at {file} yet, so no {what} to {doing}.",
                hint=f"Run `cftui sync` first, or give --db the store to {doing} from.",
            )
        return self.open_store()

    def store_named(self, name: str) -> config_mod.StoreConfig:
        """The configured store a --store flag names; an unknown name is a usage error."""
        try:
            return self.config.store(name)
        except ConfigError as exc:
            raise UsageError(exc.message, hint="Use a name from a [[btcpay]] table of the config.") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cftui",
        description=(
            "A terminal dashboard for Bitcoin crowdfunding: BTCPay Server stores, live webhooks and Angor projects."
        ),
        epilog="Run `cftui demo` to try it with no account anywhere. Docs: README.md.",
    )
    parser.add_argument("--version", action="version", version=f"cftui {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (default: XDG config dir; env CFTUI_CONFIG)")
    parser.add_argument("--db", metavar="PATH", help="store file (default: XDG data dir; env CFTUI_DB)")
    parser.add_argument(
        "--db-url", metavar="URL", help="a PostgreSQL store, postgresql://user@host/db (env CFTUI_DB_URL; [store] url)"
    )
    parser.add_argument("--debug", action="store_true", help="log debug detail and show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    export = sub.add_parser("export", help="export invoices, webhook deliveries or Angor projects")
    export_sub = export.add_subparsers(dest="export_what", metavar="WHAT", required=True)

    from cftui.cli import angor, core, dashboard, store, webhooks

    for module in (dashboard, core, webhooks, angor, store):
        module.register(sub, export_sub)
    dashboard.add_ui_flags(parser)
    parser.set_defaults(func=dashboard.run_dashboard)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log_file = None
    try:
        dashboard.check_theme_flag(args.theme)  # a typo is a usage error whatever the command
        paths = config_mod.resolve_paths(args.config, args.db, args.db_url)
        log_file = logs.setup(paths.log_dir, debug=args.debug)
        logs.redact(*location.secrets(paths.store), os.environ.get("PGPASSWORD"))
    except CftuiError as exc:
        print(f"cftui: {exc}", file=sys.stderr)
        return exc.exit_code
    ctx = Context(args=args, paths=paths, debug=args.debug, log_file=log_file)
    try:
        return int(args.func(ctx, args) or 0)
    except CftuiError as exc:
        log.warning("%s", exc)
        print(f"cftui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("cftui: interrupted.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # a store that cannot be used, or a bug: one line for users, the traceback in the log
        from cftui.store.db import storage_error

        problem = storage_error(exc, ctx.opened or paths.store)
        if problem is not None:
            log.warning("%s", problem, exc_info=args.debug)
            if args.debug:
                traceback.print_exc()
            print(f"cftui: {problem}", file=sys.stderr)
            return problem.exit_code
        log.exception("unexpected error")
        if args.debug:
            traceback.print_exc()
        where = f" Details are in {log_file}." if log_file else ""
        print(
            f"cftui: unexpected error: {type(exc).__name__}: {logs.scrub(str(exc)).rstrip('.')}.{where} "
            "Run again with --debug to see the traceback.",
            file=sys.stderr,
        )
        return ExitCode.FAILURE
