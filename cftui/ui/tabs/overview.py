"""Overview tab: KPIs for a date range and a store, a daily chart, crowdfund
progress, and the Angor and webhook summaries.

All figures come from ``cftui.store.queries`` (exact: the daily roll-up plus
the edge days) in one thread worker; the tab renders them when the result
comes back. Compact at 80×24 (the KPI grid wraps to fewer columns), richer
at 120×40.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.content import Content
from textual.reactive import var
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cftui import clock
from cftui.domain import ALL_STATUSES
from cftui.money import format_btc, format_sats
from cftui.printable import printable
from cftui.store import queries
from cftui.store.currency_totals import CurrencyTotals, currency_totals, default_currency
from cftui.store.problem_queries import Problems, problems
from cftui.ui import ranges
from cftui.ui.focus import keep_focus
from cftui.ui.formatting import NONE, approx, money, percent, share
from cftui.ui.messages import Source
from cftui.ui.problems import BTCPAY_CHECK_COUNT, BTCPAY_CHECK_SECONDS, ProblemList, open_problem, problem_choices
from cftui.ui.reloading import Loaded
from cftui.ui.stores import next_store, store_ids
from cftui.ui.tabs.base import ReloadingTab
from cftui.ui.widgets.chart import DailyChart
from cftui.ui.widgets.kpi import Kpi

BAR_WIDTH = 20
DEFAULT_RANGE = "30d"


@dataclass(frozen=True)
class OverviewData:
    kpis: queries.Kpis
    money: CurrencyTotals
    series: list[queries.DayPoint]
    progress: list[queries.CrowdfundProgress]
    angor: queries.AngorSummary
    webhooks: queries.WebhookSummary
    problems: Problems


@dataclass
class OverviewLoaded(Loaded):
    data: OverviewData


def load(range_key: str, store_ids: tuple[int, ...]) -> OverviewData:
    since = ranges.since(range_key)
    return OverviewData(
        kpis=queries.kpis(store_ids, since, None),
        money=currency_totals(default_currency(store_ids), store_ids, since, None),
        series=queries.daily_series(store_ids, since, None),
        progress=queries.crowdfund_progress(store_ids),
        angor=queries.angor_summary(),
        webhooks=queries.webhook_summary(clock.now_s()),
        problems=problems(store_ids, since, clock.now_s()),
    )


# ---------------------------------------------------------------- formatting


def _by_use(amounts: dict[str, Decimal], money_totals: CurrencyTotals) -> list[tuple[str, Decimal]]:
    """Per-currency amounts: the headline currency first, then the most used (never by raw number:
    7,516,259 JPY is not more than 130,437.70 USD)."""
    counts = money_totals.counts
    first = money_totals.currency
    return sorted(amounts.items(), key=lambda item: (item[0] != first, -counts.get(item[0], 0), item[0]))


def _amounts(amounts: dict[str, Decimal], money_totals: CurrencyTotals, *, rounded: bool = False) -> list[str]:
    return [money(value, currency, rounded=rounded) for currency, value in _by_use(amounts, money_totals)]


def _sats_whole(value: Decimal | None) -> str:
    return NONE if value is None else format_sats(int(value))


def bar(percent_done: Decimal | None, width: int = BAR_WIDTH) -> str:
    """A text progress bar; full past 100 %."""
    if percent_done is None:
        return "░" * width
    filled = min(width, int(percent_done * width / 100))
    return "█" * filled + "░" * (width - filled)


def _converted(value: Decimal | None, totals: CurrencyTotals) -> str:
    return NONE if value is None else approx(value, totals.currency, totals.exact)


def _median_headline(k: queries.Kpis, totals: CurrencyTotals) -> tuple[str, list[str]]:
    medians = _amounts(k.median_fiat, totals, rounded=True)
    if not medians:
        return _sats_whole(k.median_sats), []
    return medians[0], [*medians[1:], _sats_whole(k.median_sats)]


def kpi_cards(k: queries.Kpis, totals: CurrencyTotals) -> dict[str, tuple[str, list[str], str | None]]:
    """Card id -> (main figure, small items, new title or None).

    The headline currency is the store's default currency in BTCPay (``totals.currency``):
    other currencies are converted into it (``≈``), and listed beside it, most used first.
    """
    raised_items = _amounts(k.settled.fiat, totals)
    if totals.not_converted:
        raised_items.append(f"{totals.not_converted:,} marked not converted")
    median, median_items = _median_headline(k, totals)
    pending = [f"{k.pending.count:,} processing"]
    if k.pending.count and totals.pending is not None:
        pending.append(_converted(totals.pending, totals))
    return {
        "kpi-raised": (format_btc(k.settled.sats), [format_sats(k.settled.sats)], None),
        "kpi-money": (_converted(totals.settled, totals), raised_items, f"Raised in {totals.currency}"),
        "kpi-pending": (format_btc(k.pending.sats), pending, None),
        "kpi-settled": (f"{k.settled.count:,}", [f"of {k.total:,} invoices"], None),
        "kpi-average": (_converted(totals.average, totals), ["per settled invoice", _sats_whole(k.average_sats)], None),
        "kpi-median": (median, median_items, None),
        "kpi-conversion": (percent(k.conversion), ["of ended invoices", f"{k.abandoned:,} abandoned"], None),
    }


def status_lines(k: queries.Kpis) -> Content:
    total = sum(k.status_counts.values())
    peak = max(k.status_counts.values(), default=0) or 1
    parts: list[tuple[str, str] | str] = [("Status\n", "bold")]
    for status in ALL_STATUSES:
        count = k.status_counts.get(status, 0)
        width = count * 12 // peak
        parts.append(f"{status:<11}{count:>8,} {share(count, total):>4} ")
        parts.append(("▇" * width, "$accent"))
        parts.append("\n")
    return Content.assemble(*parts)


def progress_lines(progress: list[queries.CrowdfundProgress]) -> Content:
    """Each app's goal as BTCPay's crowdfund page counts it: settled, and pending beside it when any."""
    parts: list[tuple[str, str] | str] = [("Crowdfunds", "bold"), ("  as BTCPay counts them\n", "dim")]
    if not progress:
        parts.append(("No crowdfund app synced (the API key needs canmodifystoresettings to read apps).", "dim"))
    for app in progress:
        parts.append((printable(app.title_or_name), "bold"))
        parts.append((f"  {printable(app.store_name)}\n", "dim"))
        if app.currency is None:
            parts.append(f"{format_sats(app.btc_paid_sats)} received (no target currency)")
        else:
            if app.target:
                ratio = app.settled / app.target
                parts.append((bar(ratio * 100), "$success"))
                parts.append(f" {percent(ratio)}\n")
            parts.append(_crowdfund_amounts(app))
        if app.days_left is not None:
            parts.append(" · ended" if app.days_left == 0 else f" · {app.days_left} days left")
        parts.append(f" · {app.contributions:,} contributions\n")
    return Content.assemble(*parts)


def _crowdfund_amounts(app: queries.CrowdfundProgress) -> str:
    def shown(value: Decimal) -> str:
        return money(app.shown(value), app.currency or "")

    text = shown(app.settled)
    if app.pending:
        text += f" settled + {shown(app.pending)} pending"
    return text + (f" of {shown(app.target)}" if app.target else " raised (no target)")


def summary_lines(angor: queries.AngorSummary, webhooks: queries.WebhookSummary, angor_enabled: bool) -> Content:
    parts: list[tuple[str, str] | str] = [("Angor\n", "bold")]
    if angor.projects:
        statuses = " · ".join(f"{n} {s}" for s, n in sorted(angor.by_status.items()))
        parts.append(f"{angor.projects:,} projects: {statuses}\n")
        parts.append(f"{format_btc(angor.raised_sats)} raised of {format_btc(angor.target_sats)}\n")
        parts.append(f"{angor.investors:,} investments\n")
    else:
        parts.append(("no projects yet\n" if angor_enabled else "off (enable it in Settings)\n", "dim"))
    parts.append(("\nWebhooks (24 h)\n", "bold"))
    parts.append(f"{webhooks.received_24h:,} received")
    if webhooks.rejected_24h:
        parts.append(" · ")
        parts.append((f"{webhooks.rejected_24h:,} rejected", "$error"))
    if webhooks.last_received_ms is not None:
        parts.append(f"\nlast {clock.ago(webhooks.last_received_ms // 1000)}")
    return Content.assemble(*parts)


def series_caption(values: list[int], unit: str) -> str:
    """The chart's peak day, short enough for a half-width chart at 80 columns."""
    if not values:
        return "(no data)"
    return f"peak {format_btc(max(values))}" if unit == "sat" else f"peak {max(values):,} {unit}"


# ---------------------------------------------------------------- the tab


class OverviewTab(ReloadingTab[OverviewLoaded]):
    """The Overview tab (pane ``overview``)."""

    TITLE = "Overview"
    # The same keys as the lists: d/D (or ]/[) step the range, w the store.
    BINDINGS = [
        Binding("d,right_square_bracket", "range(1)", "Range", id="overview.range"),
        Binding("D,left_square_bracket", "range(-1)", "Range back", show=False, id="overview.range_back"),
        Binding("w", "cycle_store", "Store", id="overview.store"),
    ]
    CARDS = (
        ("kpi-raised", "Raised"),
        ("kpi-money", "Raised in your currency"),
        ("kpi-pending", "Pending"),
        ("kpi-settled", "Settled"),
        ("kpi-average", "Average"),
        ("kpi-median", "Median"),
        ("kpi-conversion", "Conversion"),
    )
    # Every figure here: the invoices', the Angor projects' and the webhook deliveries'.
    RELOAD_ON = frozenset(Source)

    # What the figures are for; a change shows it on the bar and reads the figures again.
    range_key: var[str] = var(DEFAULT_RANGE, init=False)
    store_name: var[str | None] = var(None, init=False)  # None: every store
    # What BTCPay sent that never arrived, per store (asked at most every BTCPAY_CHECK_SECONDS).
    btcpay_missed: var[dict[str, int]] = var(dict, init=False)

    def __init__(self, config) -> None:
        super().__init__(config)
        self._problems: Problems | None = None
        self._btcpay_asked: float | None = None  # when BTCPay was last asked

    def compose(self) -> ComposeResult:
        yield Static("", id="overview-bar", classes="info-line")
        with VerticalScroll(id="overview-body"):
            # What needs a look comes first, as k9s puts its alerts on top; the key figures right under it.
            yield Static("Problems", id="problems-title")
            yield ProblemList(id="overview-problems")
            with Grid(id="kpis"):
                for card_id, title in self.CARDS:
                    yield Kpi(title, id=card_id)
            with Horizontal(id="charts"):
                chart = self.config.ui.chart
                yield DailyChart("Raised per day", style=chart, id="chart-raised")
                yield DailyChart("Invoices per day", style=chart, id="chart-count")
            with Horizontal(id="overview-bottom"):
                yield Static("", id="overview-status", classes="overview-box")
                yield Static("", id="overview-progress", classes="overview-box")
                yield Static("", id="overview-summary", classes="overview-box")

    def on_mount(self) -> None:
        self._render_bar()

    def focus_targets(self) -> tuple:
        """The problems (↑↓ pick one, enter opens its list), else the page."""
        return self.query_one(ProblemList), self.query_one("#overview-body")

    # ------------------------------------------------------------ selectors

    def action_range(self, by: int) -> None:
        self.range_key = ranges.step(self.range_key, by)

    def action_cycle_store(self) -> None:
        self.store_name = next_store(self.config, self.store_name)

    def watch_range_key(self) -> None:
        self._render_bar()
        self.load()

    def watch_store_name(self) -> None:
        self._render_bar()
        self.load()

    def _render_bar(self) -> None:
        store = self.store_name or "all stores"
        self.query_one("#overview-bar", Static).update(
            Content.assemble(
                "Range ", (self.range_key, "bold"), " (UTC days)  ·  Store ", (store, "bold"),
                ("   d range  w store", "dim"),
            )  # fmt: skip
        )

    # ------------------------------------------------------------ loading

    def start_load(self, seq: int):
        return self._load(seq, self.range_key, self.store_name)

    @work(thread=True, exclusive=True, group="overview-load", exit_on_error=False,
          description="read the overview figures")  # fmt: skip
    def _load(self, seq: int, range_key: str, store_name: str | None) -> None:
        self.post_message(OverviewLoaded(seq, load(range_key, store_ids(store_name))))

    def show_loaded(self, message: OverviewLoaded) -> None:
        data = message.data
        for card_id, (value, items, title) in kpi_cards(data.kpis, data.money).items():
            self.query_one(f"#{card_id}", Kpi).show(value, items, title=title)
        raised = [p.settled_sats for p in data.series]
        counts = [p.invoices for p in data.series]
        self.query_one("#chart-raised", DailyChart).set_series(raised, series_caption(raised, "sat"))
        self.query_one("#chart-count", DailyChart).set_series(counts, series_caption(counts, "invoices"))
        self.query_one("#overview-status", Static).update(status_lines(data.kpis))
        self.query_one("#overview-progress", Static).update(progress_lines(data.progress))
        self.query_one("#overview-summary", Static).update(
            summary_lines(data.angor, data.webhooks, self.config.angor.enabled)
        )
        self._problems = data.problems
        self._show_problems()
        self._check_btcpay()

    # ------------------------------------------------------------ problems

    def watch_btcpay_missed(self) -> None:
        self._show_problems()

    def _show_problems(self) -> None:
        if self._problems is None:
            return
        choices = problem_choices(self._problems, self.btcpay_missed, self.range_key)
        listing = self.query_one(ProblemList)
        highlighted = listing.highlighted
        listing.set_options(
            [Option(Text(text, no_wrap=True, overflow="ellipsis"), id=key) for key, text in choices]
            or [Option("✓ Nothing needs a look.", id="none")]
        )
        # The line that was highlighted, else the first: enter opens it at once, as the first row of a list.
        listing.highlighted = highlighted if highlighted is not None and highlighted < listing.option_count else 0
        keep_focus(self, listing, self.query_one("#overview-body"))

    def _check_btcpay(self) -> None:
        """Ask BTCPay what it sent (at most every few minutes: it is a request per store)."""
        stores = tuple(store for store in self.config.btcpay if store.webhook_id)
        asked = self._btcpay_asked
        if stores and (asked is None or clock.now() - asked >= BTCPAY_CHECK_SECONDS):
            self._btcpay_asked = clock.now()
            self._ask_btcpay(stores)

    @work(exclusive=True, group="overview-btcpay", exit_on_error=False, description="ask BTCPay what it sent")
    async def _ask_btcpay(self, stores) -> None:
        import asyncio

        from cftui.errors import CftuiError
        from cftui.webhooks.btcpay_view import btcpay_deliveries, compare

        missed: dict[str, int] = {}
        for store in stores:
            try:
                listed = await btcpay_deliveries(store, count=BTCPAY_CHECK_COUNT)
            except CftuiError:
                continue  # the BTCPay view (b on Webhooks) says why
            rows = await asyncio.to_thread(compare, store.name, listed)
            missed[store.name] = sum(1 for row in rows if row.missed)
        self.btcpay_missed = missed

    @on(OptionList.OptionSelected, "#overview-problems")
    def _open_problem(self, event: OptionList.OptionSelected) -> None:
        open_problem(self, event.option.id or "")
