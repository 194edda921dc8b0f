"""How a campaign's figures are counted: the crowdfund query's rules, one sentence per figure (Campaigns, ``i``)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from cftui.printable import printable
from cftui.store.crowdfund import CrowdfundProgress
from cftui.ui.screens.base import DetailModal
from cftui.ui.widgets.footer import AppFooter


def rules_text(campaign: CrowdfundProgress) -> Group:
    """How each figure is counted, one sentence each (BTCPay's rule, from the crowdfund query); a long
    sentence wraps under itself, not under the bullet."""
    bullets = Table.grid(padding=(0, 1))
    bullets.add_column(no_wrap=True, style="dim")
    bullets.add_column(overflow="fold", style="dim")
    for rule in campaign.rules:
        bullets.add_row("•", rule)
    return Group(Text("How these figures are counted", style="bold"), bullets)


class RulesScreen(DetailModal):
    """A framed screen over the Campaigns tab, as the invoice detail; esc or q close it."""

    CSS_PATH = "campaign_rules.tcss"
    TITLE = "How a campaign is counted"

    def __init__(self, campaign: CrowdfundProgress) -> None:
        super().__init__()
        self.campaign = campaign

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="campaign-rules"):
            yield Static(rules_text(self.campaign))
        yield AppFooter()

    def on_mount(self) -> None:
        frame = self.query_one("#campaign-rules")
        c = self.campaign
        frame.border_title = f"{printable(c.title_or_name)} · {printable(c.store_name)}"
        frame.focus()  # the arrow and page keys scroll it
