"""`cftui` with no command: the dashboard.

Textual is imported only inside :func:`run_app`, so every other command (and
the headless core) starts without it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cftui.cli.args import Subcommands
from cftui.config import Config, Paths
from cftui.errors import ExitCode

if TYPE_CHECKING:
    from cftui.cli import Context  # the package imports this module

NOTHING_CONFIGURED = """\
cftui: nothing is configured yet (no BTCPay store, Angor off).

  cftui demo          the dashboard on a built-in simulator (no account needed)
  cftui config init   write a starter config, then add a [[btcpay]] store to it

Config file: {path}
"""


def add_ui_flags(parser: argparse.ArgumentParser, *, after_command: bool = False) -> None:
    """--theme and --no-mouse. ``after_command``: the same flags on a subcommand that opens the dashboard
    (``cftui demo --theme nord``); they leave the value given before the command alone when absent."""
    # No default after a command: argparse then leaves the value parsed before the command in place.
    keep: dict[str, Any] = {"default": argparse.SUPPRESS} if after_command else {}
    parser.add_argument(
        "--theme", help="Textual theme (e.g. textual-dark, nord, ansi-dark); NO_COLOR gives ansi-dark", **keep
    )
    parser.add_argument(
        "--no-mouse", action="store_true", help="leave the mouse to the terminal (native text selection)", **keep
    )


def register(sub: Subcommands, export_sub: Subcommands) -> None:
    """The dashboard is the default command: nothing to add."""


def run_dashboard(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.cli.core import warn_if_shared

    config = ctx.config
    if config.is_empty:
        print(NOTHING_CONFIGURED.format(path=ctx.paths.config), end="")
        return ExitCode.CONFIG  # the README's code for a missing config, for scripts; a person reads the hint
    check_theme_flag(args.theme)  # before the store is created for nothing
    warn_if_shared(config)  # on stderr, seen again after the dashboard closes; the dashboard shows it too
    ctx.open_store()
    return run_app(config, ctx.store_paths, theme=args.theme, mouse=not args.no_mouse)


def check_theme_flag(theme: str | None) -> None:
    """A --theme that is not a Textual theme is a usage error; only a given one loads the UI to check it."""
    if theme:
        from cftui.ui.themes import check_theme_flag as check

        check(theme)


def run_app(config: Config, paths: Paths, *, demo: bool = False, theme: str | None = None, mouse: bool = True) -> int:
    """Run the dashboard on ``config``, on the store the caller has opened (``open_database``)."""
    check_theme_flag(theme)
    from cftui.ui.app import CftuiApp

    mouse = mouse and config.ui.mouse
    app = CftuiApp(config, paths, demo=demo, theme=theme, mouse=mouse)
    result = app.run(mouse=mouse)
    return int(result or 0)
