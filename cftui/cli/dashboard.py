"""`cftui` with no command: the dashboard (placeholder until the UI lands)."""

from __future__ import annotations

import argparse


def add_ui_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--theme", help="Textual theme (e.g. textual-dark, nord, ansi-dark)")
    parser.add_argument("--no-mouse", action="store_true", help="leave the mouse to the terminal (native text selection)")


def register(sub, export_sub) -> None:
    pass


def run_dashboard(ctx, args) -> int:
    print("The dashboard is not built yet. Try `cftui demo`.")
    return 0
