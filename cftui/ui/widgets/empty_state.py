"""The text a list shows when it has no rows: what is missing and which key changes it.

It takes the focus while the list is hidden, so the tab's keys (which the text
names) keep working: bindings live on the tab, and a focused child reaches them.
"""

from __future__ import annotations

from textual.widgets import Static


class EmptyState(Static, can_focus=True):
    """A focusable, non-markup explanation shown instead of an empty list, in the list's room."""

    DEFAULT_CSS = """
    EmptyState {
        height: 1fr;
        padding: 1 2;
        color: $text-muted;
    }
    """

    def __init__(self, text: str = "", **kwargs) -> None:
        kwargs.setdefault("markup", False)
        super().__init__(text, **kwargs)
