"""`cftui` subcommands: webhooks (placeholder)."""

from __future__ import annotations


def register(sub, export_sub) -> None:
    pass
