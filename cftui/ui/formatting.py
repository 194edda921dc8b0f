"""How numbers, amounts and cut lines look on every screen (one rule each).

* Percentages: one decimal, no space (``52.4%``); a share rounds to a whole
  percent but a small non-zero one says ``<1%`` rather than ``0%``.
* Amounts keep their unit together: the number and the currency are joined by
  a no-break space, so a wrapped line never separates them.
* A list of amounts that does not fit drops whole items and says how many
  (``… · +2 more``); an item is never cut in the middle.
* Text cut to a width ends in ``…``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from cftui.money import currency_places, format_fiat

NBSP = "\u00a0"
SEPARATOR = " · "
NONE = "—"


def percent(ratio: Decimal | None) -> str:
    """A ratio (0..1) as ``52.4%``."""
    return NONE if ratio is None else f"{(ratio * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"


def share(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a whole percent; ``<1%`` for a small non-zero share."""
    if whole <= 0:
        return NONE
    if part and part * 100 < whole:
        return "<1%"
    return f"{part * 100 // whole}%"


def money(value: Decimal, currency: str, *, rounded: bool = False) -> str:
    """``1,234.50 USD`` with the unit bound to the number. ``rounded``: to the currency's minor unit
    (averages, conversions); otherwise exact, as ``format_fiat`` shows it."""
    if rounded:
        value = value.quantize(Decimal(1).scaleb(-currency_places(currency)), rounding=ROUND_HALF_EVEN)
    return format_fiat(value, currency).replace(" ", NBSP)


def approx(value: Decimal, currency: str, exact: bool) -> str:
    """A converted amount: rounded to the currency's minor unit, ``≈`` unless nothing was converted."""
    text = money(value, currency, rounded=True)
    return text if exact else f"≈{NBSP}{text}"


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ending in ``…`` when cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def fit_items(items: Sequence[str], width: int, lines: int = 1) -> str:
    """Whole items joined by `` · `` on at most ``lines`` lines of ``width``; ``+N more`` for the rest."""
    if width <= 0 or not items:
        return ""
    rows: list[str] = [""]
    for index, item in enumerate(items):
        candidate = item if not rows[-1] else rows[-1] + SEPARATOR + item
        if len(candidate) <= width:
            rows[-1] = candidate
        elif len(rows) < lines and len(item) <= width:
            rows.append(item)
        else:
            return "\n".join([*rows[:-1], _with_more(rows[-1], len(items) - index, width)])
    return "\n".join(rows)


def _with_more(row: str, left: int, width: int) -> str:
    """``row`` ending in ``+N more``, dropping its last items until that fits."""
    parts = row.split(SEPARATOR) if row else []
    while True:
        more = f"+{left} more"
        text = SEPARATOR.join([*parts, more])
        if len(text) <= width or not parts:
            return cut(text, width)
        parts.pop()
        left += 1


def relative(ts: float | None) -> str:
    """'3 h ago' for the past, 'in 19 h' for the future (clock.ago only speaks of the past)."""
    from cftui import clock

    if ts is None:
        return NONE
    ahead = int(ts - clock.now())
    if ahead < 10:
        return clock.ago(ts)
    for size, unit in ((86_400, "d"), (3600, "h"), (60, "min")):
        if ahead >= size:
            return f"in {ahead // size} {unit}"
    return f"in {ahead} s"
