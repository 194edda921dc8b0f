"""What every screen opened on top of the tabs shares: ``esc`` and ``q`` go back.

k9s and lazygit close a view with ``q`` or ``esc``; quitting the whole app from
a detail screen loses the session (review H2). The screen's own binding wins
over the app's ``q``, and the footer shows "esc Back".
"""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen

BACK = Binding("escape,q", "back", "Back", key_display="esc", id="back")


class DetailScreen(Screen[None]):
    """A full screen over the tabs (a project, a delivery, BTCPay's list)."""

    BINDINGS = [BACK]

    def action_back(self) -> None:
        self.dismiss()


class DetailModal(DetailScreen):
    """A framed screen over the tabs (an invoice, a campaign's rules, the keys), the tab dimmed around it.

    Not a Textual ``ModalScreen``: a modal screen hides the app's keys, and a framed detail is a detail like the
    full-screen ones, so the tab numbers, r and ? work on it too (README: "from a detail screen too"). A
    translucent background is what shows the tab underneath (Textual draws the screen below any screen whose
    background is not opaque); the styles are ModalScreen's.
    """

    DEFAULT_CSS = """
    DetailModal {
        layout: vertical;
        overflow-y: auto;
        background: $background 60%;
        &:ansi {
            background: transparent;
        }
    }
    """
