"""Tab 6, Campaigns: each BTCPay crowdfund toward its goal, and what it sold.

A row per crowdfund app: settled (█) and pending (▒) toward the goal, what
was raised, when it ends. Under the list, the highlighted campaign in full:
goal, settled and pending with their counts, start and end, and the perks
sold as BTCPay counts them (``top-items``). Enter opens its invoices (the
Invoices tab filtered by the app). Everything fits 80×24 without scrolling.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from cftui import clock
from cftui.money import E8, format_btc
from cftui.store import queries
from cftui.store.campaign_queries import Campaign, CampaignDetail, campaign_detail, campaigns
from cftui.ui.focus import keep_focus
from cftui.ui.formatting import NONE, cut, money, relative
from cftui.ui.keys import shared_keys
from cftui.ui.messages import DataChanged
from cftui.ui.screens.detail_text import aligned, day
from cftui.ui.widgets.empty_state import EmptyState
from cftui.ui.widgets.list_table import ListTable

WIDE = 100
VERY_WIDE = 140  # room for the contributions count too (it is in the detail below anyway)
PERKS_SHOWN = 4
MAX_ROWS = 6  # campaigns listed before the list scrolls (80x24 keeps the detail whole)


@dataclass
class CampaignsLoaded(Message):
    generation: int
    details: list[CampaignDetail]


def amount(e8: int, currency: str | None) -> str:
    return NONE if currency is None else money(Decimal(e8) / E8, currency)


def progress(campaign: Campaign, width: int, styles: dict[str, object]) -> Text:
    """Settled █ and pending ▒ toward the goal, then the settled percentage; 'no goal' without one."""
    if not campaign.target_e8:
        return Text("no goal", style="dim")
    settled = min(width, campaign.settled_e8 * width // campaign.target_e8)
    both = min(width, (campaign.settled_e8 + campaign.pending_e8) * width // campaign.target_e8)
    text = Text(no_wrap=True)
    text.append("█" * settled, style=styles["settled"])
    text.append("▒" * (both - settled), style=styles["pending"])
    text.append("░" * (width - both), style="dim")
    text.append(f" {campaign.percent()}%".rjust(8))
    return text


def runs(campaign: Campaign) -> str:
    start = day(campaign.start_time) if campaign.start_time else "its creation"
    if campaign.end_time is None:
        return f"since {start}, no end date"
    verb = "ended" if campaign.end_time <= clock.now_s() else "ends"
    return f"{start} → {day(campaign.end_time)} ({verb} {relative(campaign.end_time)})"


def ends(campaign: Campaign) -> str:
    if campaign.end_time is None:
        return "open"
    left = campaign.days_left(clock.now_s())
    return "ended" if not left else f"{left} d left"


def perks_table(detail: CampaignDetail, shown: int = PERKS_SHOWN) -> Table | Text:
    if not detail.perks:
        return Text("no perk sold yet (or the API key cannot read the app's statistics)", style="dim")
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold", pad_edge=False)
    table.add_column("Perks sold (BTCPay's count)", overflow="ellipsis", no_wrap=True, max_width=30)
    table.add_column("Sold", justify="right")
    table.add_column("Total", justify="right")
    if len(detail.perks) > shown:
        shown = max(1, shown - 1)  # a line for "+N more"
    for perk in detail.perks[:shown]:
        table.add_row(perk.title, f"{perk.sales_count:,}", amount(perk.total_e8, detail.campaign.currency))
    if len(detail.perks) > shown:
        table.add_row(Text(f"+{len(detail.perks) - shown} more", style="dim"), "", "")
    return table


def detail_view(detail: CampaignDetail, perk_lines: int = PERKS_SHOWN) -> Group:
    c = detail.campaign
    with_pending = c.percent(with_pending=True)
    settled = f"{amount(c.settled_e8, c.currency)}" + (f" ({c.percent()}%)" if c.target_e8 else "")
    rows = [
        ("Goal", amount(c.target_e8 or 0, c.currency) if c.target_e8 else "none set"),
        ("Settled", f"{settled} · {c.contributions:,} contributions · {format_btc(c.settled_sats)}"),
        ("Pending", f"{amount(c.pending_e8, c.currency)} · {c.pending_count:,} confirming"
         + (f" · {with_pending}% with it" if c.target_e8 and c.pending_e8 else "")),
        ("Runs", runs(c)),
    ]  # fmt: skip
    title = Text.assemble((c.title, "bold"), ("  ·  " + c.store_name, "dim"),
                          ("  ·  not accepting contributions" if not c.enabled else "", "dim"))  # fmt: skip
    return Group(title, aligned(rows), perks_table(detail, perk_lines))


class CampaignsTab(Container):
    """The Campaigns tab (pane ``campaigns``)."""

    TITLE = "Campaigns"
    BINDINGS = [
        Binding("enter", "invoices", "Invoices", key_display="⏎", id="campaigns.invoices"),
        *shared_keys("campaigns", "store", "copy_id"),
    ]

    def __init__(self) -> None:
        super().__init__(id="campaigns-tab")
        self.store: str | None = None
        self.details: list[CampaignDetail] = []
        self._generation = 0
        self._stale = True
        self._inflight: Worker | None = None

    def compose(self) -> ComposeResult:
        yield ListTable(id="campaigns-table")
        yield EmptyState(id="campaigns-empty", classes="empty-state")
        yield Static("", id="campaign-detail")
        yield Static("", id="campaigns-info", classes="info-line")

    def focus_targets(self) -> tuple:
        return self.query_one(ListTable), self.query_one(EmptyState)

    def on_show(self) -> None:
        if self._stale:
            self.reload()

    @on(DataChanged)
    def _data_changed(self, message: DataChanged) -> None:
        if message.sources & {"invoices", "config"}:
            self._stale = True
            if self.parent is not None and self.parent.display:
                self.reload()

    def reload(self) -> None:
        self._stale = False
        self._generation += 1
        self._inflight = self._load(self._generation, self.store)

    @work(thread=True, exclusive=True, group="campaigns-load", exit_on_error=False, description="read the campaigns")
    def _load(self, generation: int, store: str | None) -> None:
        stores = ()
        if store is not None:
            stores = tuple(pk for pk, name in queries.store_names().items() if name == store) or (-1,)
        self.post_message(CampaignsLoaded(generation, [campaign_detail(c) for c in campaigns(stores)]))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._inflight and event.worker.state == WorkerState.ERROR:
            self.notify(f"Could not read the campaigns: {event.worker.error}", severity="error", markup=False)

    @on(CampaignsLoaded)
    def _loaded(self, message: CampaignsLoaded) -> None:
        if message.generation == self._generation:
            self.details = message.details
            self._show_rows()

    # ------------------------------------------------------------ rendering

    def _columns(self) -> list[tuple[str, str]]:
        wide = self.size.width >= WIDE
        columns = [("title", "Campaign")]
        if len(self.app.config.btcpay) > 1:
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
        table.clear(columns=True)
        columns = self._columns()
        for key, label in columns:
            table.add_column(label, key=key)
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
    def _cells(c: Campaign, wide: bool, styles) -> dict[str, object]:
        return {
            "title": cut(c.title, 26 if wide else 18),
            "store": cut(c.store_name, 12 if wide else 9),
            "progress": progress(c, 12 if wide else 8, styles),
            "settled": Text(amount(c.settled_e8, c.currency), justify="right"),
            "pending": Text(amount(c.pending_e8, c.currency), justify="right"),
            "goal": Text(amount(c.target_e8, c.currency) if c.target_e8 else NONE, justify="right"),
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
        detail = self.selected()
        panel = self.query_one("#campaign-detail", Static)
        # As many perks as the panel has lines for: title, four figures and the perks' header come first.
        perk_lines = max(PERKS_SHOWN, panel.content_size.height - 6)
        panel.update(detail_view(detail, perk_lines) if detail else "")

    def on_resize(self) -> None:
        if self.details:
            self._show_rows()

    # ------------------------------------------------------------ actions

    @on(DataTable.RowSelected, "#campaigns-table")
    def _chosen(self) -> None:
        self.action_invoices()

    def action_invoices(self) -> None:
        """The campaign's invoices, one key away: the Invoices tab filtered by the app."""
        detail = self.selected()
        if detail is None:
            return
        c = detail.campaign
        self.app.action_show_tab("invoices")
        self.app.tab("invoices").show_filtered(app=(c.app_id, c.title), store=c.store_name)

    def action_cycle_store(self) -> None:
        choices: list[str | None] = [None, *(store.name for store in self.app.config.btcpay)]
        index = choices.index(self.store) if self.store in choices else 0
        self.store = choices[(index + 1) % len(choices)]
        self.reload()

    def action_copy_id(self) -> None:
        detail = self.selected()
        if detail is not None:
            self.app.copy_to_clipboard(detail.campaign.app_id)
            self.notify(f"Copied app id {detail.campaign.app_id}", markup=False)
