"""`cftui` subcommands for Angor: `export projects`.

(`cftui sync --source angor` lives with the other sync sources in ``cli/core.py``.)
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cftui import config as config_mod
from cftui.cli.args import OUTPUT_HELP, Subcommands
from cftui.domain import EXPORT_FORMATS
from cftui.errors import ExitCode

if TYPE_CHECKING:
    from cftui.cli import Context  # the package imports this module


def register(sub: Subcommands, export_sub: Subcommands) -> None:
    projects = export_sub.add_parser("projects", help="the synced Angor projects as CSV or JSON")
    projects.add_argument("--format", choices=EXPORT_FORMATS, default="csv", help="csv (default) or json")
    projects.add_argument("-o", "--output", metavar="FILE", help=OUTPUT_HELP)
    projects.add_argument("--network", choices=config_mod.NETWORKS, help="only this network (default: all stored)")
    projects.set_defaults(func=cmd_export_projects)


def cmd_export_projects(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.angor.export import write
    from cftui.cli.core import open_output
    from cftui.export import default_export_path

    ctx.open_existing_store("Angor projects")
    # A new file each time (cftui-projects-<time>), as the other exports and the dashboard's Angor export.
    with open_output(args.output, default_export_path("projects", args.format)) as (stream, path):
        count = write(stream, args.format, args.network)
    if path is not None:
        print(f"Exported {count} Angor projects to {path}", file=sys.stderr)
    return ExitCode.OK
