"""One Angor project: its story, links, figures (and where each came from), stages and investors."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from cftui import clock
from cftui.store import angor_queries
from cftui.store.angor_queries import ProjectDetail
from cftui.ui.screens.detail_text import NONE, aligned, btc, day, pct, yes_no

# What each `raised_source` means (angor CONTRACT §2: the two servers count investments differently).
SOURCES = {
    "indexer": "Angor indexer: gross, each investment counted as its 1% fee output × 100; the status compares it "
               "net of the fee, as the app does",
    "esplora": "on-chain stage outputs: net of the 1% Angor fee",
}
FLAG_TEXT = {
    "bad_signature": "the Nostr event's signature does not verify",
    "id_mismatch": "the project id does not derive from the founder key",
}


def source_text(source: str | None) -> str:
    if source is None:
        return "not read yet (sync to fetch funding figures)"
    return SOURCES.get(source, source)


def refunds_text(detail: ProjectDetail) -> str:
    """Recovery-path spends paid back to the investor (a failed project's unfunded releases)."""
    if detail.refunds_count is not None and detail.refunds_sats is not None:
        return f"{detail.refunds_count} ({btc(detail.refunds_sats)} BTC)"
    if detail.raised_source == "indexer":
        return "not told apart: the indexer counts them among the penalties"
    return NONE


def figures(detail: ProjectDetail, now: int) -> list[tuple[str, str]]:
    row = detail.row
    left = angor_queries.days_left(row.end_time, now)
    return [
        ("Project id", row.project_id),
        ("Network", f"{detail.network} · {detail.project_type}"),
        ("Target", f"{btc(row.target_sats)} BTC"),
        ("Raised", f"{btc(row.raised_sats)} BTC ({pct(row.percent_funded)})"),
        ("  source", source_text(detail.raised_source)),
        ("Investors", str(row.investor_count)),
        ("Start", day(row.start_time)),
        ("End", day(row.end_time) + (f" ({left} days left)" if left is not None else "")),
        ("Expiry", day(detail.expiry_time)),
        ("Penalty", f"{detail.penalty_days} days"
         + (f", none under {btc(detail.penalty_threshold_sats)} BTC" if detail.penalty_threshold_sats else "")),
        ("Founder spent", f"{btc(detail.founder_spent_sats)} BTC"),
        ("Penalties", f"{detail.penalties_count} ({btc(detail.penalties_sats)} BTC)"),
        ("Refunds", refunds_text(detail)),
        ("Figures read", clock.ago(detail.stats_time) if detail.stats_time else NONE),
    ]


def links(detail: ProjectDetail) -> str:
    rows = [("Website", detail.website), ("NIP-05", detail.nip05), ("Lightning", detail.lud16)]
    return aligned([(name, value) for name, value in rows if value]) or "No links in the project's profile."


def verification(detail: ProjectDetail) -> str:
    if detail.row.verified and not detail.row.flags:
        return "✓ Verified: the event signature checks and the project id derives from the founder key."
    problems = [f"⚠ {FLAG_TEXT.get(flag, flag)}" for flag in detail.row.flags] or ["⚠ not verified yet"]
    return "\n".join(problems)


@dataclass
class ProjectDetailLoaded(Message):
    detail: ProjectDetail | None


class ProjectDetailScreen(Screen[None]):
    # Styles: project_detail.tcss, loaded by the app with every screen's stylesheet.
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="project.back")]

    def __init__(self, project_id: str) -> None:
        super().__init__()
        self.project_id = project_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="project-scroll"):
            yield Label(self.project_id, id="project-title", markup=False)
            yield Static("Loading…", id="project-description", markup=False)
            yield Static("", id="project-links", markup=False)
            yield Label("Figures", classes="project-heading")
            yield Static("", id="project-figures", markup=False)
            yield Label("Verification", classes="project-heading")
            yield Static("", id="project-verification", markup=False)
            yield Label("Stages", classes="project-heading")
            yield Static("", id="project-schedule", markup=False)
            yield DataTable(id="project-stages", cursor_type="row", zebra_stripes=True)
            yield Label("Investors", id="project-investors-heading", classes="project-heading")
            yield DataTable(id="project-investors", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self._load(clock.now_s())

    @work(thread=True, exclusive=True, group="project-detail", exit_on_error=False)
    def _load(self, now: int) -> None:
        self.post_message(ProjectDetailLoaded(angor_queries.project_detail(self.project_id, now=now)))

    def on_project_detail_loaded(self, message: ProjectDetailLoaded) -> None:
        detail = message.detail
        if detail is None:
            self.query_one("#project-description", Static).update("This project is no longer in the store.")
            return
        row = detail.row
        title = self.query_one("#project-title", Label)
        title.update(f"{row.name}  ·  {row.status}" + ("" if row.verified else "  ·  unverified"))
        self.query_one("#project-description", Static).update(detail.description or "No description published.")
        self.query_one("#project-links", Static).update(links(detail))
        self.query_one("#project-figures", Static).update(aligned(figures(detail, clock.now_s())))
        verified = self.query_one("#project-verification", Static)
        verified.update(verification(detail))
        verified.set_class(not row.verified or bool(row.flags), "-flagged")
        self._fill_stages(detail)
        self._fill_investors(detail)

    def _fill_stages(self, detail: ProjectDetail) -> None:
        table = self.query_one("#project-stages", DataTable)
        schedule = self.query_one("#project-schedule", Static)
        dynamic = not detail.stages and detail.project_type in ("Fund", "Subscribe")
        schedule.display = dynamic
        table.display = not dynamic
        if dynamic:
            # Fund/Subscribe: no fixed release dates; each investment's stages count from the day it was made.
            patterns = "\n".join(f"  {line}" for line in detail.schedule_patterns) or "  (no pattern published)"
            schedule.update(
                f"{detail.project_type} project: no fixed release dates. Each investment releases its stages on its "
                f"own schedule, chosen from:\n{patterns}"
            )
            return
        table.add_columns("#", "Release date", "%", "Amount BTC", "Released", "Spent BTC")
        for stage in detail.stages:
            table.add_row(
                str(stage.index + 1),
                day(stage.release_time),
                Text(f"{stage.percent}%", justify="right"),
                Text(btc(stage.amount_sats), justify="right"),
                yes_no(stage.released),
                Text(btc(stage.spent_sats), justify="right"),
            )
        table.styles.height = len(detail.stages) + 1

    def _fill_investors(self, detail: ProjectDetail) -> None:
        shown = len(detail.investments)
        if detail.investment_count > shown:
            self.query_one("#project-investors-heading", Label).update(
                f"Investors (newest {shown} of {detail.investment_count})"
            )
        table = self.query_one("#project-investors", DataTable)
        # Fund/Subscribe: each investment's own schedule, right after its amount.
        scheduled = any(inv.stage_times is not None for inv in detail.investments)
        table.add_columns("Investor", "Amount BTC", *(("Released", "Next release") if scheduled else ()),
                          "Seeder", "Block", "Time", "Transaction")
        for inv in detail.investments:
            schedule = ()
            if scheduled:
                schedule = (
                    f"{inv.released_stages} of {len(inv.stage_times)}" if inv.stage_times is not None else NONE,
                    day(inv.next_release) if inv.next_release is not None else NONE,
                )
            table.add_row(
                inv.investor_key[:16] + "…",
                Text(btc(inv.amount_sats), justify="right"),
                *schedule,
                yes_no(inv.is_seeder),
                str(inv.block_height) if inv.block_height is not None else "pending",
                clock.iso(inv.time) or NONE,
                inv.txid[:16] + "…",
            )
        table.styles.height = max(shown, 1) + 1
