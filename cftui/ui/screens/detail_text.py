"""Plain-text formatting shared by the Angor and Webhooks tabs and their detail screens."""

from __future__ import annotations

from decimal import Decimal

from cftui import clock
from cftui.money import format_btc

NONE = "—"


def aligned(rows: list[tuple[str, str]]) -> str:
    """'Name   value' lines with the values in one column."""
    if not rows:
        return ""
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


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
