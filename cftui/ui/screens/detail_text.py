"""Plain-text formatting shared by the Angor and Webhooks tabs and their detail screens."""

from __future__ import annotations

from decimal import Decimal

from rich.table import Table
from rich.text import Text

from cftui import clock
from cftui.money import format_btc

NONE = "—"


def aligned(rows: list[tuple[str, str]]) -> Table:
    """Name / value rows, the values in one column; a long value wraps under itself, not under
    the names (review L2)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(Text(name), Text(value))
    return table


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def btc(sats: int) -> str:
    """Satoshis as BTC with all 8 decimals, so a column lines up: 37_500_000 -> '0.37500000' (review M8)."""
    return format_btc(sats).removesuffix(" BTC")


def day(ts: int | None) -> str:
    """Unix seconds as a UTC date, '2026-06-01'."""
    return clock.to_datetime(ts).strftime("%Y-%m-%d") if ts is not None else NONE


def pct(value: Decimal | None) -> str:
    return f"{value}%" if value is not None else NONE
