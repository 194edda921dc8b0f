"""Writing a list to a file from any tab: a thread worker, then one toast with the path.

The file goes to the current directory with a timestamped name
(``cftui-<kind>-<time>.<fmt>``), as ``cftui export`` does; a failure is one
line saying what and where.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TextIO

from textual.widget import Widget

from cftui.domain import EXPORT_FORMATS, ExportFormat


def export_format(name: str) -> ExportFormat:
    """An action's argument (``export('csv')`` in a binding) as the format it names."""
    for fmt in EXPORT_FORMATS:
        if fmt == name:
            return fmt
    raise ValueError(f"no export format {name!r} (one of {', '.join(EXPORT_FORMATS)})")


def start_export(widget: Widget, kind: str, fmt: ExportFormat, write: Callable[[TextIO], int]) -> None:
    """Run ``write(stream)`` (returns the row count) into a new file, in a named worker of ``widget``."""
    widget.run_worker(
        partial(_export, widget, kind, fmt, write),
        thread=True,
        group=f"{kind}-export",
        description=f"export {kind} as {fmt}",
        exit_on_error=False,
    )


def _export(widget: Widget, kind: str, fmt: ExportFormat, write: Callable[[TextIO], int]) -> None:
    from cftui import export
    from cftui.private_files import open_private

    path = export.default_export_path(kind, fmt)
    try:
        with open_private(path, newline="") as out:  # owner-only: buyer emails, checkout links
            count = write(out)
    except OSError as exc:
        widget.notify(f"Export failed: cannot write {path}: {exc.strerror}", severity="error", markup=False)
        return
    # The name on a line of its own: a long path wraps at its slashes, not mid-word.
    widget.notify(f"Exported {count:,} {kind} to\n{path.name}\nin {path.parent}", title="Export", markup=False,
                  timeout=10)
