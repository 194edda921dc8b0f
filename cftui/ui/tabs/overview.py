"""Overview tab: KPIs for a date range and a store, a daily chart, crowdfund
progress, and the Angor and webhook summaries.

All figures come from ``cftui.store.queries`` (exact: the daily roll-up plus
the edge days) in one thread worker; the tab renders them when the result
comes back. Compact at 80×24 (the KPI grid wraps to fewer columns), richer
at 120×40.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Grid, Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from cftui import clock
from cftui.money import currency_places, format_btc, format_fiat, format_sats
from cftui.store import queries
from cftui.store.models import ALL_STATUSES
from cftui.ui import ranges
from cftui.ui.messages import DataChanged
from cftui.ui.widgets.chart import DailyChart
from cftui.ui.widgets.kpi import Kpi

BAR_WIDTH = 20
DEFAULT_RANGE = "30d"


@dataclass(frozen=True)
class OverviewData:
    kpis: queries.Kpis
    series: list[queries.DayPoint]
    progress: list[queries.CrowdfundProgress]
    angor: queries.AngorSummary
    webhooks: queries.WebhookSummary


@dataclass
class OverviewLoaded(Message):
    seq: int
    data: OverviewData


def load(range_key: str, store_ids: tuple[int, ...]) -> OverviewData:
    since = ranges.since(range_key)
    return OverviewData(
        kpis=queries.kpis(store_ids, since, None),
        series=queries.daily_series(store_ids, since, None),
        progress=queries.crowdfund_progress(store_ids),
        angor=queries.angor_summary(),
        webhooks=queries.webhook_summary(clock.now_s()),
    )


# ---------------------------------------------------------------- formatting


def _fiat_lines(amounts: dict[str, Decimal], *, rounded: bool = False) -> list[str]:
    """Per-currency amounts, largest first. ``rounded``: to the currency's minor
    unit, for averages and medians (sums are always shown exactly)."""
    ordered = sorted(amounts.items(), key=lambda item: (-item[1], item[0]))
    if rounded:
        ordered = [(c, v.quantize(Decimal(1).scaleb(-currency_places(c)), rounding=ROUND_HALF_EVEN)) for c, v in ordered]
    return [format_fiat(v, c) for c, v in ordered]


def _percent(ratio: Decimal | None) -> str:
    return "—" if ratio is None else f"{(ratio * 100).quantize(Decimal('0.1'))} %"


def _sats_whole(value: Decimal | None) -> str:
    return "—" if value is None else format_sats(int(value))


def bar(percent: Decimal | None, width: int = BAR_WIDTH) -> str:
    """A text progress bar; full past 100 %."""
    if percent is None:
        return "░" * width
    filled = min(width, int(percent * width / 100))
    return "█" * filled + "░" * (width - filled)


def kpi_cards(k: queries.Kpis) -> dict[str, tuple[str, str]]:
    """Card id -> (main figure, small line)."""
    raised_fiat = _fiat_lines(k.settled.fiat)
    pending_fiat = _fiat_lines(k.pending.fiat)
    average_fiat = _fiat_lines(k.average_fiat, rounded=True)
    median_fiat = _fiat_lines(k.median_fiat, rounded=True)
    return {
        "kpi-raised": (format_btc(k.settled.sats), format_sats(k.settled.sats)),
        "kpi-fiat": (raised_fiat[0] if raised_fiat else "—", " · ".join(raised_fiat[1:])),
        "kpi-pending": (
            format_btc(k.pending.sats),
            " · ".join([f"{k.pending.count:,} processing", *pending_fiat]),
        ),
        "kpi-settled": (f"{k.settled.count:,}", f"of {k.total:,} invoices"),
        "kpi-average": (average_fiat[0] if average_fiat else _sats_whole(k.average_sats),
                        " · ".join([*average_fiat[1:], _sats_whole(k.average_sats)]) if average_fiat else ""),
        "kpi-median": (median_fiat[0] if median_fiat else _sats_whole(k.median_sats),
                       " · ".join([*median_fiat[1:], _sats_whole(k.median_sats)]) if median_fiat else ""),
        "kpi-conversion": (_percent(k.conversion), "settled of paid-or-ended"),
        "kpi-issues": (
            f"{k.abandoned:,} abandoned",
            f"{k.partial:,} partial · {k.late:,} late · {k.overpaid:,} over",
        ),
    }  # fmt: skip


def status_lines(k: queries.Kpis) -> Content:
    total = sum(k.status_counts.values())
    peak = max(k.status_counts.values(), default=0) or 1
    parts: list[tuple[str, str] | str] = [("Status\n", "bold")]
    for status in ALL_STATUSES:
        count = k.status_counts.get(status, 0)
        share = f"{count * 100 // total:>3} %" if total else "  — "
        width = count * 12 // peak
        parts.append(f"{status:<11}{count:>8,} {share} ")
        parts.append(("▇" * width, "$accent"))
        parts.append("\n")
    return Content.assemble(*parts)


def progress_lines(progress: list[queries.CrowdfundProgress]) -> Content:
    """Each app's goal as BTCPay's crowdfund page counts it: settled, and pending beside it when any."""
    parts: list[tuple[str, str] | str] = [("Crowdfunds", "bold"), ("  as BTCPay counts them\n", "dim")]
    if not progress:
        parts.append(("No crowdfund app synced (the API key needs canmodifystoresettings to read apps).", "dim"))
    for app in progress:
        parts.append((app.title_or_name, "bold"))
        parts.append((f"  {app.store_name}\n", "dim"))
        if app.currency is None:
            parts.append(f"{format_sats(app.btc_paid_sats)} received (no target currency)")
        else:
            if app.target:
                parts.append((bar(app.percent), "$success"))
                parts.append(f" {app.percent} %\n")
            parts.append(_crowdfund_amounts(app))
        if app.days_left is not None:
            parts.append(" · ended" if app.days_left == 0 else f" · {app.days_left} days left")
        parts.append(f" · {app.contributions:,} contributions\n")
    return Content.assemble(*parts)


def _crowdfund_amounts(app: queries.CrowdfundProgress) -> str:
    def money(value: Decimal) -> str:
        return format_fiat(app.shown(value), app.currency or "")

    text = money(app.settled)
    if app.pending:
        text += f" settled + {money(app.pending)} pending"
    return text + (f" of {money(app.target)}" if app.target else " raised (no target)")


def summary_lines(angor: queries.AngorSummary, webhooks: queries.WebhookSummary, angor_enabled: bool) -> Content:
    parts: list[tuple[str, str] | str] = [("Angor\n", "bold")]
    if angor.projects:
        statuses = " · ".join(f"{n} {s}" for s, n in sorted(angor.by_status.items()))
        parts.append(f"{angor.projects:,} projects: {statuses}\n")
        parts.append(f"{format_sats(angor.raised_sats)} raised of {format_sats(angor.target_sats)}\n")
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
    if not values:
        return "(no data)"
    return f"peak {max(values):,} {unit} · total {sum(values):,}"


# ---------------------------------------------------------------- the tab


class OverviewTab(Container):
    """The Overview tab (pane ``overview``)."""

    TITLE = "Overview"
    BINDINGS = [
        Binding("right_square_bracket", "range(1)", "Range +", key_display="]", id="overview.range_next"),
        Binding("left_square_bracket", "range(-1)", "Range −", key_display="[", show=False, id="overview.range_prev"),
        Binding("t", "range(1)", "Range", show=False, id="overview.range"),
        Binding("s", "cycle_store", "Store", id="overview.store"),
    ]
    CARDS = (
        ("kpi-raised", "Raised"),
        ("kpi-fiat", "Raised (fiat)"),
        ("kpi-pending", "Pending"),
        ("kpi-settled", "Contributions"),
        ("kpi-average", "Average"),
        ("kpi-median", "Median"),
        ("kpi-conversion", "Conversion"),
        ("kpi-issues", "Problems"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.range_key = DEFAULT_RANGE
        self.store_name: str | None = None  # None: every store
        self._seq = 0
        self._stale = True
        # The load in flight, and whether new data arrived meanwhile (see _data_changed).
        self._inflight: Worker | None = None
        self._refresh_pending = False

    def compose(self) -> ComposeResult:
        yield Static("", id="overview-bar", classes="info-line")
        with VerticalScroll(id="overview-body"):
            with Grid(id="kpis"):
                for card_id, title in self.CARDS:
                    yield Kpi(title, id=card_id, classes="kpi")
            with Horizontal(id="charts"):
                chart = self.app.config.ui.chart
                yield DailyChart("Raised per day (sats)", style=chart, id="chart-raised")
                yield DailyChart("Invoices per day", style=chart, id="chart-count")
            with Horizontal(id="overview-bottom"):
                yield Static("", id="overview-status", classes="overview-box")
                yield Static("", id="overview-progress", classes="overview-box")
                yield Static("", id="overview-summary", classes="overview-box")

    def on_mount(self) -> None:
        self._render_bar()

    def on_show(self) -> None:
        if self._stale:
            self.reload()

    @on(DataChanged)
    def _data_changed(self, message: DataChanged) -> None:
        self._stale = True
        if self.parent is None or not self.parent.display:
            return
        # One load at a time: a thread cannot be cancelled, so while a sync
        # writes every second, reload after the load in flight instead of
        # piling threads up (they starve the renderer of the GIL).
        if self._inflight is not None and not self._inflight.is_finished:
            self._refresh_pending = True
        else:
            self.reload()

    # ------------------------------------------------------------ selectors

    def action_range(self, by: int) -> None:
        self.range_key = ranges.step(self.range_key, by)
        self.reload()

    def action_cycle_store(self) -> None:
        names = [None, *(s.name for s in self.app.config.btcpay)]
        index = names.index(self.store_name) if self.store_name in names else 0
        self.select_store(names[(index + 1) % len(names)])

    def select_store(self, name: str | None) -> None:
        """Show one store's figures (None: all stores). Also used by the palette."""
        self.store_name = name
        self.reload()

    def _render_bar(self) -> None:
        store = self.store_name or "all stores"
        self.query_one("#overview-bar", Static).update(
            Content.assemble(
                "Range ", (self.range_key, "bold"), "  ·  Store ", (store, "bold"),
                ("   [ ] range  s store  ctrl+p switch store", "dim"),
            )  # fmt: skip
        )

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        self._stale = False
        self._seq += 1
        self._render_bar()
        self._refresh_pending = False  # this load reads current data
        self._inflight = self._load(self._seq, self.range_key, self.store_name)

    @work(thread=True, exclusive=True, group="overview-load", exit_on_error=False)
    def _load(self, seq: int, range_key: str, store_name: str | None) -> None:
        store_ids: tuple[int, ...] = ()
        if store_name is not None:
            store_ids = tuple(pk for pk, name in queries.store_names().items() if name == store_name) or (-1,)
        data = load(range_key, store_ids)
        if not get_current_worker().is_cancelled:
            self.post_message(OverviewLoaded(seq, data))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._inflight and event.worker.is_finished and self._refresh_pending:
            self.reload()
        if event.worker.group == "overview-load" and event.worker.state == WorkerState.ERROR:
            self.notify(f"Could not read the overview figures: {event.worker.error}", severity="error", markup=False)

    @on(OverviewLoaded)
    def _loaded(self, message: OverviewLoaded) -> None:
        if message.seq != self._seq:
            return
        data = message.data
        for card_id, (value, sub) in kpi_cards(data.kpis).items():
            self.query_one(f"#{card_id}", Kpi).show(value, sub)
        raised = [p.settled_sats for p in data.series]
        counts = [p.invoices for p in data.series]
        self.query_one("#chart-raised", DailyChart).set_series(raised, series_caption(raised, "sat"))
        self.query_one("#chart-count", DailyChart).set_series(counts, series_caption(counts, "invoices"))
        self.query_one("#overview-status", Static).update(status_lines(data.kpis))
        self.query_one("#overview-progress", Static).update(progress_lines(data.progress))
        self.query_one("#overview-summary", Static).update(
            summary_lines(data.angor, data.webhooks, self.app.config.angor.enabled)
        )
