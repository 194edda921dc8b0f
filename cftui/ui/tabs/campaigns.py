"""Tab 6, Campaigns: each BTCPay crowdfund toward its goal, and what it sold.

A row per crowdfund app: settled (█) and pending (▒) toward the goal, what
was raised, when it ends. Under the list, the highlighted campaign in full:
goal, settled and pending, contributions, BTC paid, start and end, the reset
period, and the perks sold as BTCPay counts them (``top-items``); below them,
when there is room, how each figure is counted (``i`` shows it anyway).
Every figure comes from :func:`cftui.store.crowdfund.crowdfund_progress`, the
one crowdfund query. Enter opens its invoices (the Invoices tab filtered by
the app). Everything fits 80×24 without scrolling.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import var
from textual.widgets import DataTable, Static

from cftui import clock
from cftui.money import E8, format_btc
from cftui.printable import printable
from cftui.store.campaign_queries import CampaignDetail, campaign_detail, campaigns
from cftui.store.crowdfund import CrowdfundProgress
from cftui.ui.focus import keep_focus
from cftui.ui.formatting import NONE, cut, money, percent, relative
from cftui.ui.keys import shared_keys
from cftui.ui.messages import ShowInvoices, Source
from cftui.ui.reloading import Loaded
from cftui.ui.screens.campaign_rules import RulesScreen, rules_text
from cftui.ui.screens.detail_text import aligned, day
from cftui.ui.stores import next_store, store_ids
from cftui.ui.tabs.base import ReloadingTab
from cftui.ui.widgets.empty_state import EmptyState
from cftui.ui.widgets.list_table import ListTable

WIDE = 100
VERY_WIDE = 140  # room for the contributions count too (it is in the detail below anyway)
PERKS_SHOWN = 4
MAX_ROWS = 6  # campaigns listed before the list scrolls (80x24 keeps the detail whole)


@dataclass
class CampaignsLoaded(Loaded):
    details: list[CampaignDetail]


def amount(campaign: CrowdfundProgress, value: Decimal | None) -> str:
    """``value`` in the goal's currency, rounded as BTCPay's crowdfund page rounds it."""
    if value is None or campaign.currency is None:
        return NONE
    return money(campaign.shown(value), campaign.currency)


def share_of_goal(campaign: CrowdfundProgress, value: Decimal) -> str:
    return percent(value / campaign.target) if campaign.target else NONE


def cells_of_goal(campaign: CrowdfundProgress, value: Decimal, width: int) -> int:
    return min(width, int(value * width / campaign.target)) if campaign.target else 0


def progress(campaign: CrowdfundProgress, width: int, styles: dict[str, Style]) -> Text:
    """Settled █ and pending ▒ toward the goal, then the settled percentage; 'no goal' without one."""
    if not campaign.target:
        return Text("no goal", style="dim")
    settled = cells_of_goal(campaign, campaign.settled, width)
    both = cells_of_goal(campaign, campaign.raised, width)
    text = Text(no_wrap=True)
    text.append("█" * settled, style=styles["settled"])
    text.append("▒" * (both - settled), style=styles["pending"])
    text.append("░" * (width - both), style="dim")
    text.append(f" {share_of_goal(campaign, campaign.settled)}".rjust(8))
    return text


def runs(campaign: CrowdfundProgress) -> str:
    start = day(campaign.start_time) if campaign.start_time else "its creation"
    if campaign.end_time is None:
        return f"since {start}, no end date"
    verb = "ended" if campaign.end_time <= clock.now_s() else "ends"
    return f"{start} → {day(campaign.end_time)} ({verb} {relative(campaign.end_time)})"


def resets(campaign: CrowdfundProgress) -> str | None:
    """The goal's reset period, when it has one: what the figures count since."""
    if campaign.period_start is None:
        return None
    unit = campaign.reset_every.lower() + ("s" if campaign.reset_every_amount != 1 else "")
    every = f"every {campaign.reset_every_amount} {unit}" if campaign.reset_every_amount != 1 else f"every {unit}"
    upcoming = f", next {day(campaign.next_reset)}" if campaign.next_reset else ""
    return f"{every}: counted since {day(campaign.period_start)}{upcoming}"


def ends(campaign: CrowdfundProgress) -> str:
    if campaign.days_left is None:
        return "open"
    return "ended" if not campaign.days_left else f"{campaign.days_left} d left"


def perks_table(detail: CampaignDetail, shown: int = PERKS_SHOWN) -> Table | Text:
    if not detail.perks:
        return Text("no perk sold yet (or the API key cannot read the app's statistics)", style="dim")
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Perks sold (BTCPay's count)", overflow="ellipsis", no_wrap=True, max_width=30)
    table.add_column("Sold", justify="right")
    table.add_column("Total", justify="right")
    if len(detail.perks) > shown:
        shown = max(1, shown - 1)  # a line for "+N more"
    currency = detail.campaign.currency
    for perk in detail.perks[:shown]:
        total = NONE if currency is None else money(Decimal(perk.total_e8) / E8, currency)
        table.add_row(printable(perk.title), f"{perk.sales_count:,}", total)
    if len(detail.perks) > shown:
        table.add_row(Text(f"+{len(detail.perks) - shown} more", style="dim"), "", "")
    return table


def figure_rows(c: CrowdfundProgress) -> list[tuple[str, str]]:
    """Goal, settled, pending (with the share both make), BTC paid, dates and the reset period."""
    settled = amount(c, c.settled) + (f" ({share_of_goal(c, c.settled)})" if c.target else "")
    pending = amount(c, c.pending) + (f" · {share_of_goal(c, c.raised)} with it" if c.target and c.pending else "")
    rows = [
        ("Goal", amount(c, c.target) if c.target else "none set"),
        ("Settled", f"{settled} · {c.contributions:,} contributions"),
        ("Pending", pending),
        ("BTC paid", format_btc(c.btc_paid_sats)),
        ("Runs", runs(c)),
    ]
    if (period := resets(c)) is not None:
        rows.append(("Resets", period))
    return rows


def detail_view(detail: CampaignDetail, perk_lines: int = PERKS_SHOWN, *, rules: bool = False) -> Group:
    c = detail.campaign
    title = Text.assemble((printable(c.title_or_name), "bold"), ("  ·  " + printable(c.store_name), "dim"),
                          ("  ·  not accepting contributions" if not c.enabled else "", "dim"))  # fmt: skip
    parts: list[RenderableType] = [title, aligned(figure_rows(c)), perks_table(detail, perk_lines)]
    if rules:
        parts += [Text(""), rules_text(c)]
    else:
        parts.append(Text("i  how these figures are counted (BTCPay's rule)", style="dim"))
    return Group(*parts)


class CampaignsTab(ReloadingTab[CampaignsLoaded]):
    """The Campaigns tab (pane ``campaigns``)."""

    TITLE = "Campaigns"
    BINDINGS = [
        Binding("enter", "invoices", "Invoices", key_display="⏎", id="campaigns.invoices"),
        Binding("i", "rules", "How counted", id="campaigns.rules"),
        *shared_keys("campaigns", "store", "copy_id"),
    ]
    RELOAD_ON = frozenset({Source.INVOICES})

    store: var[str | None] = var(None, init=False)  # the store filter (w); None: every store

    def __init__(self, config) -> None:
        super().__init__(config, id="campaigns-tab")
        self.details: list[CampaignDetail] = []

    def compose(self) -> ComposeResult:
        yield ListTable(id="campaigns-table")
        yield EmptyState(id="campaigns-empty")
        yield Static("", id="campaign-detail")
        yield Static("", id="campaigns-info", classes="info-line")

    def focus_targets(self) -> tuple:
        return self.query_one(ListTable), self.query_one(EmptyState)

    def watch_store(self) -> None:
        self.load()

    def start_load(self, seq: int):
        return self._load(seq, self.store)

    @work(thread=True, exclusive=True, group="campaigns-load", exit_on_error=False, description="read the campaigns")
    def _load(self, seq: int, store: str | None) -> None:
        self.post_message(CampaignsLoaded(seq, [campaign_detail(c) for c in campaigns(store_ids(store))]))

    def show_loaded(self, message: CampaignsLoaded) -> None:
        self.details = message.details
        self._show_rows()

    # ------------------------------------------------------------ rendering

    def _columns(self) -> list[tuple[str, str]]:
        wide = self.size.width >= WIDE
        columns = [("title", "Campaign")]
        if len(self.config.btcpay) > 1:
            columns.append(("store", "Store"))
        columns += [("progress", "Toward the goal"), ("settled", "Settled")]
        if wide:
            columns += [("pending", "Pending"), ("goal", "Goal")]
        if self.size.width >= VERY_WIDE:
            columns.append(("backers", "Contributions"))
        columns.append(("ends", "Ends"))
        return columns

    def _show_rows(self) -> None:
        table = self.query_one(ListTable)
        wide = self.size.width >= WIDE
        selected = self._selected_index()
        columns = self._columns()
        table.start_over(columns)
        styles = {"settled": table.theme_style("success"), "pending": table.theme_style("warning")}
        for index, detail in enumerate(self.details):
            cells = self._cells(detail.campaign, wide, styles)
            table.add_row(*(cells[key] for key, _ in columns), key=str(index))
        if self.details:
            table.move_cursor(row=min(selected, len(self.details) - 1), animate=False)
        # As tall as its rows (the header and at most MAX_ROWS): the detail below gets the rest.
        table.styles.height = min(len(self.details), MAX_ROWS) + 1
        empty = self.query_one(EmptyState)
        empty.update("No crowdfund yet. Campaigns come from BTCPay's crowdfund apps: the sync reads them when the "
                     "API key has canmodifystoresettings (see `cftui doctor`)." if self.store is None else
                     "No crowdfund in this store (w changes the store).")  # fmt: skip
        empty.display = not self.details
        table.display = bool(self.details)
        self.query_one("#campaign-detail").display = bool(self.details)
        keep_focus(self, table, empty)
        self._show_detail()
        count = len(self.details)
        self.query_one("#campaigns-info", Static).update(
            f"{count:,} campaign{'' if count == 1 else 's'} · store {self.store or 'all'} · "
            "█ settled ▒ pending · ⏎ its invoices · UTC"
        )

    @staticmethod
    def _cells(c: CrowdfundProgress, wide: bool, styles: dict[str, Style]) -> dict[str, object]:
        return {
            "title": cut(printable(c.title_or_name), 26 if wide else 18),
            "store": cut(printable(c.store_name), 12 if wide else 9),
            "progress": progress(c, 12 if wide else 8, styles),
            "settled": Text(amount(c, c.settled), justify="right"),
            "pending": Text(amount(c, c.pending), justify="right"),
            "goal": Text(amount(c, c.target) if c.target else NONE, justify="right"),
            "backers": Text(f"{c.contributions:,}", justify="right"),
            "ends": ends(c),
        }

    def _selected_index(self) -> int:
        table = self.query_one(ListTable)
        return table.cursor_row if table.row_count else 0

    def selected(self) -> CampaignDetail | None:
        return self.details[self._selected_index()] if self.details else None

    @on(DataTable.RowHighlighted, "#campaigns-table")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        self._render_detail()
        # Again once the layout has settled: a new list height changes the room the detail has.
        self.call_after_refresh(self._render_detail)

    def _render_detail(self) -> None:
        detail = self.selected()
        panel = self.query_one("#campaign-detail", Static)
        if detail is None:
            panel.update("")
            return
        height, width = panel.content_size.height, max(1, panel.content_size.width)
        # The title, the figures, the perks' header and the last line (the rules, or the key that shows them).
        fixed = 1 + len(figure_rows(detail.campaign)) + 1
        perk_lines = max(1, height - fixed - 1)
        perks = min(len(detail.perks), perk_lines) if detail.perks else 0
        rules_lines = 2 + sum(-(-len(rule) // max(1, width - 2)) for rule in detail.campaign.rules)
        panel.update(detail_view(detail, perk_lines, rules=height - fixed - perks >= rules_lines))

    def on_resize(self) -> None:
        if not self.details:
            return
        if [key for key, _ in self._columns()] != self.query_one(ListTable).column_keys():
            self._show_rows()
        else:
            self._show_detail()  # as many perks, and the rules, as the new height has room for

    # ------------------------------------------------------------ actions

    @on(DataTable.RowSelected, "#campaigns-table")
    def _chosen(self) -> None:
        self.action_invoices()

    def action_invoices(self) -> None:
        """The campaign's invoices, one key away: the Invoices tab filtered by the app (by its store when it counts
        every invoice of the store)."""
        detail = self.selected()
        if detail is None:
            return
        c = detail.campaign
        if c.all_store_invoices:
            # Its figures count every invoice of the store (crowdfund_all_invoices): those are its invoices.
            self.post_message(ShowInvoices(store=c.store_name))
            self.notify(f"{printable(c.title_or_name)} counts every invoice of {c.store_name}: all of them are "
                        "listed.", markup=False)  # fmt: skip
        else:
            self.post_message(ShowInvoices(app=(c.app_id, c.title_or_name), store=c.store_name))

    def action_cycle_store(self) -> None:
        self.store = next_store(self.config, self.store)

    def action_rules(self) -> None:
        """How the highlighted campaign's figures are counted, in full (the detail may lack the room)."""
        detail = self.selected()
        if detail is not None:
            self.app.push_screen(RulesScreen(detail.campaign))

    def action_copy_id(self) -> None:
        detail = self.selected()
        if detail is not None:
            self.app.copy_to_clipboard(detail.campaign.app_id)
            self.notify(f"Copied app id {detail.campaign.app_id}", markup=False)
