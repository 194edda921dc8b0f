"""`cftui` with no command: the dashboard.

Textual is imported only inside :func:`run_app`, so every other command (and
the headless core) starts without it.
"""

from __future__ import annotations

import argparse

from cftui.config import Config, Paths

NOTHING_CONFIGURED = """\
cftui: nothing is configured yet (no BTCPay store, Angor off).

  cftui demo          the dashboard on a built-in simulator (no account needed)
  cftui config init   write a starter config, then add a [[btcpay]] store to it

Config file: {path}
"""


def add_ui_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--theme", help="Textual theme (e.g. textual-dark, nord, ansi-dark); NO_COLOR gives ansi-dark")
    parser.add_argument("--no-mouse", action="store_true", help="leave the mouse to the terminal (native text selection)")


def register(sub, export_sub) -> None:
    """The dashboard is the default command: nothing to add."""


def run_dashboard(ctx, args) -> int:
    config = ctx.config
    if config.is_empty:
        print(NOTHING_CONFIGURED.format(path=ctx.paths.config), end="")
        return 0
    ctx.open_store()
    return run_app(config, ctx.store_paths, theme=args.theme, mouse=not args.no_mouse)


def run_app(config: Config, paths: Paths, *, demo: bool = False, theme: str | None = None, mouse: bool = True) -> int:
    """Run the dashboard on ``config`` (the store is opened here if it is not yet)."""
    from cftui.store.models import database

    if database.obj is None:
        from cftui.store.db import open_database

        open_database(paths.store)
    from cftui.ui.app import CftuiApp

    mouse = mouse and config.ui.mouse
    app = CftuiApp(config, paths, demo=demo, theme=theme, mouse=mouse)
    result = app.run(mouse=mouse)
    return int(result or 0)
