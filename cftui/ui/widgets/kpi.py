"""A KPI card: a title, a main figure and an optional smaller line or two."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


class Kpi(Vertical):
    """One figure of the Overview. Update with :meth:`show`."""

    def __init__(self, title: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._title = title

    def compose(self) -> ComposeResult:
        yield Static(self._title, classes="kpi-title", markup=False)
        yield Static("…", classes="kpi-value", markup=False)
        yield Static("", classes="kpi-sub", markup=False)

    def show(self, value: str, sub: str = "") -> None:
        self.query_one(".kpi-value", Static).update(value)
        self.query_one(".kpi-sub", Static).update(sub)
