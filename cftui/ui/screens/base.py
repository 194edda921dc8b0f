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
    """A framed screen over the tabs (an invoice, a campaign's rules, the keys)."""

    BINDINGS = [BACK]

    @property
    def _modal_binding_chain(self):
        # A ModalScreen hides the app's bindings; a framed detail is a detail like the full-screen ones, so the tab
        # numbers, r and ? work on it too (README: "from a detail screen too"). Its own keys still come first.
        return self._binding_chain

    def action_back(self) -> None:
        self.dismiss()
