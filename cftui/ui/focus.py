"""Keeping the keyboard focus inside the tab the user is looking at.

A tab swaps widgets in and out as data comes and goes (a table and its empty
state). When the focused widget is hidden, Textual leaves nothing focused, and
the tab's keys stop working until the user switches tabs (review H1, M6). Every
tab calls :func:`keep_focus` after such a swap: if the focus was lost, or sits
on a hidden widget inside the tab, it moves to the first of the tab's
candidates that is shown.
"""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane


def _shown(widget: Widget, within: Widget | None = None) -> bool:
    """``widget`` and its ancestors (up to ``within``, when given) are displayed."""
    for node in (widget, *widget.ancestors):
        if node is within:
            return True
        if isinstance(node, Widget) and not node.display:
            return False
    return True


def _first_shown(tab: Widget, candidates: tuple[Widget, ...]) -> Widget | None:
    return next((w for w in candidates if _shown(w, tab) and w.focusable), None)


def focus_lost(tab: Widget) -> bool:
    """True when nothing is focused, or the focus is on a hidden widget inside ``tab``."""
    focused = tab.screen.focused if tab.is_attached else None
    if focused is None:
        return True
    return tab in focused.ancestors and not _shown(focused, tab)


def _active(tab: Widget) -> bool:
    """``tab`` is on the screen on top, and in the active pane if it is in one.

    (Focusing a widget in another pane would switch to that pane.)
    """
    if not tab.is_attached or tab.app.screen is not tab.screen or not _shown(tab):
        return False
    pane = next((node for node in tab.ancestors_with_self if isinstance(node, TabPane)), None)
    if pane is None:
        return True
    tabbed = next((node for node in pane.ancestors if isinstance(node, TabbedContent)), None)
    return tabbed is None or tabbed.active == pane.id


def keep_focus(tab: Widget, *candidates: Widget) -> None:
    """Focus the first shown candidate if ``tab`` is on screen and its focus was lost."""
    if not _active(tab):
        return
    target = _first_shown(tab, candidates) if focus_lost(tab) else None
    if target is not None:
        target.focus()


def focus_first(tab: Widget, *candidates: Widget) -> None:
    """On showing a tab: keep a focus already inside it, else focus the first shown candidate."""
    focused = tab.screen.focused if tab.is_attached else None
    if focused is not None and tab in focused.ancestors and _shown(focused, tab):
        return
    target = _first_shown(tab, candidates)
    if target is not None:
        target.focus()
