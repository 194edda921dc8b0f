"""What every tab shares: the config the app hands down, and the keys' focus.

Attributes down, messages up: the app sets each tab's ``config`` (at start
and when Settings saved a new one) and a tab reacts in ``watch_config``; a
tab asks the app for anything beyond itself with a message
(:mod:`cftui.ui.messages`). A tab that reads the store is a
:class:`ReloadingTab` (:mod:`cftui.ui.reloading`): a new config reloads it.
"""

from __future__ import annotations

from textual.containers import Container
from textual.reactive import var
from textual.widget import Widget

from cftui.config import Config
from cftui.ui.reloading import LoadedT, Reloading, WorkerErrors


class TabBody(Container, WorkerErrors):
    """A tab's widget (the one child of its pane). Not named ``Tab``: CSS would take it for Textual's tab header."""

    TITLE = ""
    config: var[Config] = var(Config, init=False, always_update=True)  # set by the app: at start, and on each save

    def __init__(self, config: Config, **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_reactive(TabBody.config, config)

    def focus_targets(self) -> tuple[Widget, ...]:
        """What takes the focus when the tab is shown, the first of them that is shown."""
        return tuple(widget for widget in self.query("*") if widget.focusable)


class ReloadingTab(TabBody, Reloading[LoadedT]):
    """A tab that reads the store (see :mod:`cftui.ui.reloading`)."""

    def watch_config(self) -> None:
        self.load()
