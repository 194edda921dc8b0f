"""One way for a tab or a detail screen to read the store: off the event loop, the latest result shown.

A :class:`Reloading` widget reads in a thread worker and shows what came back:

* **One load in flight.** A thread cannot be cancelled; while a sync writes
  every second, a request that comes during a load runs once after it,
  however many came (threads piling up starve the renderer of the GIL).
* **Two kinds of request.** :meth:`~Reloading.reload` says the data changed:
  the load in flight still shows its result, then one more load reads the
  change. :meth:`~Reloading.load` says what to show changed (a filter, a
  page): results of every earlier request are dropped.
* **Hidden, it waits.** A tab in a hidden pane only notes that it is stale
  and loads when shown (``LOAD_WHEN_HIDDEN`` opts out: Payments must notice a
  settlement wherever the user is).
* **One result pattern.** The worker posts a :class:`Loaded` message carrying
  its request's number; only the latest request's result reaches
  :meth:`~Reloading.show_loaded`.
* **One error handler.** :class:`WorkerErrors`: any worker of the widget
  that fails says what could not be done ("Could not read the invoices: …",
  from the worker's ``description``); a failed load also reaches
  :meth:`~Reloading.load_failed`, to say it in place.

A subclass implements :meth:`~Reloading.start_load` (start its
``@work(thread=True, …)`` method for the current request) and
:meth:`~Reloading.show_loaded`, and lists in ``RELOAD_ON`` the sources whose
:class:`~cftui.ui.messages.DataChanged` concern it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from textual import events, on
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from cftui.ui.messages import DataChanged, Source

log = logging.getLogger(__name__)


@dataclass
class Loaded(Message, bubble=False):
    """A load's result, posted by the worker to its own widget. ``seq`` numbers the request it answers."""

    seq: int

    def __init_subclass__(cls, **kwargs) -> None:
        # Textual makes a subclass bubble again unless told: a result is for its own widget only.
        kwargs.setdefault("bubble", False)
        super().__init_subclass__(**kwargs)


LoadedT = TypeVar("LoadedT", bound=Loaded)


def failure_text(worker: Worker) -> str:
    """"Could not read the invoices: <error>": the worker's description says what it was doing."""
    what = worker.description or worker.name or "finish a background task"
    return f"Could not {what}: {worker.error}"


class WorkerErrors(Widget):
    """A widget whose failed workers say so, in one place: a toast with what failed and why, and the log.

    Mix in after the widget's class (``class SyncStatusLine(Static, WorkerErrors)``), as :class:`Reloading`.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR:
            log.error("worker %r of %s failed: %r", worker.description, type(self).__name__, worker.error)
            self.notify(failure_text(worker), severity="error", markup=False)


class Reloading(Generic[LoadedT], WorkerErrors):  # Generic first, as in Textual's Screen
    """Mix in after the widget's class, with the result it shows:
    ``class InvoiceDetailScreen(DetailModal, Reloading[InvoiceDetailLoaded])``; a tab is a
    :class:`~cftui.ui.tabs.base.ReloadingTab`. (Textual takes a widget's CSS type names from its first base
    only: first, this mixin would hide the widget's own ``Screen`` or ``Container`` styles.)"""

    RELOAD_ON: ClassVar[frozenset[Source]] = frozenset()
    LOAD_WHEN_HIDDEN: ClassVar[bool] = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._seq = 0  # the latest request's number: results of others are dropped
        self._wanted = True  # a load is asked for and has not started (the first one, from the start)
        self._loading: Worker | None = None
        self._started = False  # mounted: requests before that wait for the mount

    # ------------------------------------------------------------ for subclasses

    def start_load(self, seq: int) -> Worker | None:
        """Start the worker for the current request; it posts a :class:`Loaded` with ``seq``.

        None: nothing to read (Angor turned off), shown at once.
        """
        raise NotImplementedError

    def show_loaded(self, message: LoadedT) -> None:
        """Show a result (the latest request's only)."""
        raise NotImplementedError

    def load_failed(self, error: BaseException | None) -> None:
        """A load raised (the toast is already shown): say it in place, if there is a place."""

    # ------------------------------------------------------------ requests

    def reload(self) -> None:
        """The data changed: one more load after the one in flight (which still shows its result)."""
        self._wanted = True
        self._pump()

    def load(self) -> None:
        """What to show changed: load it; results of earlier requests are dropped."""
        self._seq += 1
        self._wanted = True
        self._pump()

    @property
    def loading_now(self) -> bool:
        """A load is in flight."""
        return self._loading is not None

    def _pump(self) -> None:
        if self._loading is not None or not self._wanted or not self._started:
            return  # after the load in flight, or nothing asked for, or before the mount
        if not (self.LOAD_WHEN_HIDDEN or self._showing()):
            return  # stale: loads when shown
        self._wanted = False
        self._seq += 1
        self._loading = self.start_load(self._seq)

    def _showing(self) -> bool:
        """Shown, or would be with its screen on top: no ancestor up to the screen is hidden (a tab's pane)."""
        node: Widget | None = self
        while node is not None:
            if not node.display:
                return False
            if isinstance(node, Screen):
                return True
            parent = node.parent
            node = parent if isinstance(parent, Widget) else None
        return True

    # ------------------------------------------------------------ events

    # Handlers under their own names: each class's own are called (no super() needed), and the widget's
    # Screen or Container keeps its own mount and show handlers.
    @on(events.Mount)
    def _start_loading(self) -> None:
        self._started = True
        # After the first refresh: by then a tab's pane is hidden if it is not the active one.
        self.call_after_refresh(self._pump)

    @on(events.Show)
    def _load_if_stale(self) -> None:
        self._pump()

    @on(DataChanged)
    def _data_changed(self, message: DataChanged) -> None:
        if message.sources & self.RELOAD_ON:
            self.reload()

    @on(Loaded)
    def _loaded(self, message: LoadedT) -> None:
        if message.seq == self._seq:
            self.show_loaded(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker is not self._loading or not worker.is_finished:
            return
        self._loading = None
        if event.state is WorkerState.ERROR:
            self.load_failed(worker.error)
        if event.state is not WorkerState.CANCELLED:  # cancelled: the widget is going away
            self._pump()
