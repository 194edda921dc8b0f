"""Core subcommands: `config`, `sync`, `export invoices`, `doctor`, `demo`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cftui import clock
from cftui import config as config_mod
from cftui.cli.args import OUTPUT_HELP, SOURCE_CHOICES, SourceChoice, Subcommands, int_in
from cftui.domain import ALL_STATUSES, EXPORT_FORMATS, btcpay_source, source_kind
from cftui.errors import ConfigError, DataError, ExitCode, UsageError
from cftui.printable import printable
from cftui.private_files import open_private

if TYPE_CHECKING:
    from cftui.cli import Context  # the package imports this module
    from cftui.sync.events import SyncEvent, SyncResult


def register(sub: Subcommands, export_sub: Subcommands) -> None:
    config = sub.add_parser("config", help="show, create or locate the config file")
    config_sub = config.add_subparsers(dest="config_cmd", metavar="ACTION", required=True)
    config_sub.add_parser("show", help="print the config with every secret masked").set_defaults(func=cmd_config_show)
    config_sub.add_parser("init", help="write a commented starter config (0600)").set_defaults(func=cmd_config_init)
    config_path = config_sub.add_parser("path", help="print the config, store and log paths in use")
    config_path.set_defaults(func=cmd_config_path)

    sync = sub.add_parser("sync", help="pull invoices (and Angor projects) into the store")
    sync.add_argument("--store", metavar="NAME", action="append", help="only this store (repeatable)")
    sync.add_argument("--source", metavar="SRC", choices=SOURCE_CHOICES, default="all",
                      help="btcpay, angor or all (default)")
    sync.add_argument(
        "--once", action="store_true", help="sync once and exit (default: every [sync] interval until ctrl+c)"
    )
    sync.set_defaults(func=cmd_sync)

    invoices = export_sub.add_parser("invoices", help="the synced invoices as CSV or JSON")
    invoices.add_argument("--format", choices=EXPORT_FORMATS, default="csv", help="csv (default) or json")
    invoices.add_argument("--store", metavar="NAME", action="append", help="only this store (repeatable)")
    invoices.add_argument(
        "--status", metavar="S", nargs="+", help="only these statuses (New Processing Settled Expired Invalid)"
    )
    invoices.add_argument("--since", metavar="DATE", help="created on or after (YYYY-MM-DD or ISO-8601, UTC)")
    invoices.add_argument("--until", metavar="DATE", help="created before (YYYY-MM-DD or ISO-8601, UTC)")
    invoices.add_argument("-o", "--output", metavar="FILE", help=OUTPUT_HELP)
    invoices.set_defaults(func=cmd_export_invoices)

    doctor = sub.add_parser("doctor", help="check each store: reachable, version, key, permissions")
    doctor.add_argument("--store", metavar="NAME", action="append", help="only this store (repeatable)")
    doctor.set_defaults(func=cmd_doctor)

    demo = sub.add_parser("demo", help="the dashboard on a built-in BTCPay/Angor simulator (no account needed)")
    demo.add_argument(
        "--invoices", type=int_in(0, 10_000_000), default=3000, metavar="N",
        help="invoices per simulated store (default 3000)",
    )
    demo.add_argument(
        "--headless", action="store_true", help="sync the demo and print a summary instead of opening the dashboard"
    )
    from cftui.cli.dashboard import add_ui_flags

    add_ui_flags(demo, after_command=True)
    demo.set_defaults(func=cmd_demo)


# ---------------------------------------------------------------- config


def warn_if_shared(config: config_mod.Config) -> None:
    """Point out a config file others can read (doctor, config show, and where the receiver starts)."""
    warning = config_mod.shared_config_warning(config.path)
    if warning:
        print(f"cftui: warning: {warning}", file=sys.stderr)


def cmd_config_show(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config
    warn_if_shared(config)
    if config.path is None:
        print(f"# No config file at {ctx.paths.config}; these are the defaults. Run `cftui config init`.")
    else:
        print(f"# {config.path} (secrets masked)")
    print(config_mod.masked_text(config), end="")
    return ExitCode.OK


def cmd_config_init(ctx: Context, args: argparse.Namespace) -> int:
    config_mod.write_starter(ctx.paths.config)
    print(f"Wrote {ctx.paths.config} (mode 0600). Add a [[btcpay]] store, then run `cftui doctor`.")
    return ExitCode.OK


def cmd_config_path(ctx: Context, args: argparse.Namespace) -> int:
    paths = ctx.paths
    try:
        store = ctx.store_paths
    except ConfigError:  # an invalid config file: `config show` says why; the file is still shown here
        store = paths
    rows: list[tuple[str, Path | str, str]] = [
        ("config", paths.config, "CFTUI_CONFIG or --config"),
        ("store", store.store_shown, "CFTUI_DB or --db, CFTUI_DB_URL or --db-url, [store] url"),
        ("logs", paths.log_file, "CFTUI_LOG_DIR"),
    ]
    for name, path, override in rows:
        state = "PostgreSQL" if store.db_url and name == "store" else "exists" if Path(path).exists() else "missing"
        print(f"{name:<7} {path}  ({state}; override with {override})")
    return ExitCode.OK


# ---------------------------------------------------------------- sync


def _selected_sources(ctx: Context, stores: list[str] | None, source: SourceChoice) -> list[str]:
    from cftui.sync.service import sources

    config = ctx.config
    available = sources(config)
    if stores:
        for name in stores:
            ctx.store_named(name)  # a clear usage error for an unknown name
        chosen = [btcpay_source(name) for name in stores]
    else:
        chosen = [s for s in available if source == "all" or source_kind(s) == source]
    if source == "angor" and not config.angor.enabled:
        raise ConfigError("Angor is disabled.", hint="Set enabled = true under [angor] in the config.")
    if not chosen:
        raise ConfigError(f"Nothing to sync: no stores in {ctx_config_name(config)}.", hint=add_a_store_hint(config))
    return chosen


def add_a_store_hint(config: config_mod.Config) -> str:
    """Where to add a store: the file when there is one (after `config init`), else how to get one."""
    if config.path is not None:
        return (f"Add a [[btcpay]] table to {config.path} (name, url, store_id, api_key; the commented example "
                "in it shows each), or try `cftui demo`.")
    return "Add a [[btcpay]] store (`cftui config init` writes a starter), or try `cftui demo`."


def ctx_config_name(config: config_mod.Config) -> str:
    return str(config.path) if config.path else "the config (no file yet)"


def _run_sources(config: config_mod.Config, chosen: list[str], *, quiet: bool = False) -> list[SyncResult]:
    """Sync each source once, with a progress bar per source; return the results."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from cftui.sync.events import SyncFinished, SyncProgress
    from cftui.sync.service import run_sync

    console = Console(stderr=True)
    results = []
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False, disable=quiet or not console.is_terminal,
    ) as progress:
        for source in chosen:
            task = progress.add_task(source, total=None)

            def report(event: SyncEvent, task: TaskID = task) -> None:
                if isinstance(event, SyncProgress):
                    progress.update(task, completed=event.fetched, total=event.total)
                elif isinstance(event, SyncFinished):
                    progress.update(task, total=event.result.fetched or 1, completed=event.result.fetched or 1)

            result = run_sync(source, config, reporter=report)
            results.append(result)
    for result in results:
        # A summary can quote a server (an error message, a relay's notice): shown escaped like a request's text.
        print(printable(result.summary()), file=sys.stderr if result.error else sys.stdout)
    return results


def sync_exit_code(results: list[SyncResult]) -> int:
    """0 when every sync succeeded; else the most telling code of the failures (6 for a store that
    cannot be written, before 5 for everything else a sync meets)."""
    failed = [r for r in results if not r.ok]
    if not failed:
        return ExitCode.OK
    return max((r.error_code or ExitCode.UNREACHABLE) for r in failed)


def cmd_sync(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config
    chosen = _selected_sources(ctx, args.store, args.source)
    ctx.open_store()
    if args.once:
        return sync_exit_code(_run_sources(config, chosen))
    print(f"Syncing {', '.join(chosen)} every {config.sync.interval} s; ctrl+c to stop.", file=sys.stderr)
    while True:
        _run_sources(config, chosen)
        time.sleep(config.sync.interval)


# ---------------------------------------------------------------- export


@contextmanager
def open_output(target: str | None, default: Path) -> Iterator[tuple[IO[str], Path | None]]:
    """Yield (stream, shown_path). '-' is stdout; a file is written whole or not at all.

    A path that cannot be opened is a usage error (2); a disk that fills up
    while writing is a :class:`DataError` (6); either way no file is left.
    """
    if target == "-":
        yield sys.stdout, None
        return
    path = Path(target) if target else default
    if path.is_dir():
        raise UsageError(f"Cannot write -o {path}: it is a directory.", hint="Give a file name.")
    tmp = path.with_name(f".{path.name}.part")
    try:
        # Owner-only: exports hold buyer emails, order ids and checkout links.
        handle = open_private(tmp, newline="")
    except OSError as exc:
        flag = f"-o {path}" if target else str(path)
        raise UsageError(
            f"Cannot write {flag}: {exc.strerror}.", hint="Give a path in a directory you can write."
        ) from None
    try:
        with handle:
            yield handle, path
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"Could not finish writing {path}: {exc.strerror}; nothing was written.") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _date_arg(value: str | None, flag: str) -> int | None:
    if value is None:
        return None
    try:
        return clock.parse_date(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}.") from None


def cmd_export_invoices(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.export import default_export_path, export_invoices
    from cftui.store import InvoiceFilter, store_names

    ctx.open_existing_store("invoices")
    store_ids: tuple[int, ...] = ()
    if args.store:
        rows = {name: pk for pk, name in store_names().items()}
        missing = [n for n in args.store if n not in rows]
        if missing:
            raise UsageError(
                f"No synced store named {', '.join(missing)}.", hint="Run `cftui sync` first, or check the name."
            )
        store_ids = tuple(rows[n] for n in args.store)
    statuses: tuple[str, ...] = ()
    if args.status:
        by_lower = {s.lower(): s for s in ALL_STATUSES}
        unknown = [s for s in args.status if s.lower() not in by_lower]
        if unknown:
            # BTCPay itself silently ignores unknown statuses; we refuse them instead.
            raise UsageError(f"Unknown status {', '.join(unknown)}.", hint=f"Use {', '.join(ALL_STATUSES)}.")
        statuses = tuple(by_lower[s.lower()] for s in args.status)
    filt = InvoiceFilter(
        stores=store_ids, statuses=statuses,
        since=_date_arg(args.since, "--since"), until=_date_arg(args.until, "--until"),
    )
    with open_output(args.output, default_export_path("invoices", args.format)) as (stream, path):
        count = export_invoices(filt, args.format, stream)
    if path is not None:
        print(f"Exported {count} invoices to {path}")
    return ExitCode.OK


# ---------------------------------------------------------------- doctor


def cmd_doctor(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.btcpay.doctor import check_store, format_report

    config = ctx.config
    warn_if_shared(config)
    stores = [ctx.store_named(n) for n in args.store] if args.store else list(config.btcpay)
    if not stores:
        raise ConfigError(f"No stores to check in {ctx_config_name(config)}.", hint=add_a_store_hint(config))
    from cftui.store import retry

    # The retry list lives in the store: read it if there is one (doctor never creates a store).
    has_store = ctx.has_store()
    if has_store:
        ctx.open_store()
    codes = set()
    for store in stores:
        report = asyncio.run(check_store(store))
        if has_store:
            report.unread = retry.summary(store.name)
        print(format_report(report))
        if not report.ok:
            codes.add(ExitCode.AUTH if report.reachable else ExitCode.UNREACHABLE)
    # A server that cannot be reached is 5, a key or permission that fails 4 (the README's codes).
    return max(codes, default=ExitCode.OK)


# ---------------------------------------------------------------- demo


def cmd_demo(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.demo import Demo

    db_path = Path(args.db) if getattr(args, "db", None) else ctx.paths.db.with_name("demo.sqlite3")
    with Demo(db_path=db_path, invoices=args.invoices) as demo:
        from cftui.store.db import open_database

        open_database(db_path)
        if args.headless:
            results = _run_sources(demo.config, list(demo.sources()))
            print(f"Demo store: {db_path}")
            return sync_exit_code(results)
        from cftui.cli.dashboard import run_app

        demo_paths = config_mod.Paths(config=demo.config_path, db=db_path, log_dir=ctx.paths.log_dir)
        return run_app(demo.config, demo_paths, demo=True, theme=args.theme, mouse=not args.no_mouse)

