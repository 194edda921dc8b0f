"""A daily series as a chart: Textual's Sparkline, or a block-character fallback.

``ui.chart = "braille"`` (the default) uses ``Sparkline``; ``"block"`` draws
bars with the full and lower-half block characters only, which every
terminal font has (for consoles and fonts where the sparkline's eighth
blocks render badly).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

FULL, HALF = "█", "▄"


def block_bars(values: Sequence[int], width: int, height: int) -> list[str]:
    """Rows (top first) of a bar chart of ``values`` squeezed to ``width`` columns.

    Each column shows the largest value among the days it covers, scaled in
    half-rows, so a non-zero day is never drawn as empty.
    """
    if not values or width <= 0 or height <= 0:
        return [" " * max(width, 0)] * max(height, 0)
    columns = _bucket(values, width)
    peak = max(columns) or 1
    half_rows = height * 2
    levels = [0 if v <= 0 else max(1, (v * half_rows + peak - 1) // peak) for v in columns]
    rows = []
    for row in range(height):
        floor = (height - 1 - row) * 2  # half-rows below this text row
        line = []
        for level in levels:
            filled = level - floor
            line.append(FULL if filled >= 2 else HALF if filled == 1 else " ")
        rows.append("".join(line))
    return rows


def _bucket(values: Sequence[int], width: int) -> list[int]:
    if len(values) <= width:
        return list(values)
    out = []
    for column in range(width):
        start = column * len(values) // width
        end = max(start + 1, (column + 1) * len(values) // width)
        out.append(max(values[start:end]))
    return out


class BlockChart(Static):
    """The fallback chart: redraws to fit its size."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._values: list[int] = []

    def set_values(self, values: Sequence[int]) -> None:
        self._values = list(values)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        width, height = self.content_size
        self.update("\n".join(block_bars(self._values, width, height)))


class DailyChart(Vertical):
    """A titled chart of one daily series (values are integers: sats or counts)."""

    DEFAULT_CSS = """
    DailyChart {
        width: 1fr;
        height: 100%;
        margin-right: 1;
        & > .chart-title {
            color: $text-muted;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        & > .chart-body {
            height: 1fr;
        }
        & Sparkline > .sparkline--max-color {
            color: $success;
        }
        & Sparkline > .sparkline--min-color {
            color: $success 40%;
        }
    }
    """

    def __init__(self, title: str, *, style: str = "braille", **kwargs) -> None:
        super().__init__(**kwargs)
        self._title = title
        self._style = style

    def compose(self) -> ComposeResult:
        yield Static(self._title, classes="chart-title")
        if self._style == "block":
            yield BlockChart(classes="chart-body")
        else:
            yield Sparkline([], classes="chart-body")

    def set_series(self, values: Sequence[int], caption: str) -> None:
        self.query_one(".chart-title", Static).update(f"{self._title}  {caption}")
        body = self.query_one(".chart-body")
        if isinstance(body, BlockChart):
            body.set_values(values)
        elif isinstance(body, Sparkline):
            body.data = list(values)
