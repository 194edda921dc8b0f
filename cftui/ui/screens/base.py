"""What every screen opened on top of the tabs shares: ``esc`` and ``q`` go back.

k9s and lazygit close a view with ``q`` or ``esc``; quitting the whole app from
a detail screen loses the session (review H2). The screen's own binding wins
over the app's ``q``, and the footer shows "esc Back".
"""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import ModalScreen, Screen

BACK = Binding("escape,q", "back", "Back", key_display="esc", id="back")


class DetailScreen(Screen[None]):
    """A full screen over the tabs (a project, a delivery, BTCPay's list)."""

    BINDINGS = [BACK]

    def action_back(self) -> None:
        self.dismiss()


class DetailModal(ModalScreen[None]):
    """A framed screen over the tabs (an invoice, the keys)."""

    BINDINGS = [BACK]

    def action_back(self) -> None:
        self.dismiss()
