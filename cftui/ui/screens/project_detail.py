"""One Angor project, as its founder and its investors need it.

The founder first: what is claimable now, what is claimed, the next release.
Then the figures (and where each came from), the verification in words, each
stage (amount, claimed / claimable / locked, release date) and each investor
(invested, recovered, penalty, and for Fund/Subscribe its own schedule).

The whole screen scrolls with the arrow and page keys; the tables inside are
for reading (no cursor of their own), so nothing traps the keys (review M5).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Static

from cftui import clock
from cftui.angor import queries as angor_queries
from cftui.angor.queries import InvestmentRow, ProjectDetail, founder_view, stage_spends_known, stage_state
from cftui.printable import printable
from cftui.ui.formatting import relative
from cftui.ui.reloading import Loaded, Reloading
from cftui.ui.screens.base import DetailScreen
from cftui.ui.screens.detail_text import NONE, aligned, btc, day, pct, yes_no
from cftui.ui.widgets.footer import AppFooter

WIDE = 100

# What each `raised_source` means (angor CONTRACT §2: the two servers count investments differently).
SOURCES = {
    "indexer": "Angor indexer: gross, each investment counted as its 1% fee output × 100; the status compares it "
               "net of the fee, as the app does",
    "esplora": "on-chain stage outputs: net of the 1% Angor fee",
}
# Each verification flag in words, with what to do (cftui/angor/verify.py sets them; review M9).
FLAG_TEXT = {
    "not-on-chain": "The project's creation transaction was not found on chain, so nothing ties this Nostr event "
    "to the founder. Wait for it to confirm, sync again, and do not invest until it is verified.",
    "event-differs": "The details shown are not the ones the founder committed on chain (that event was not found "
    "on the relays): they may have been changed since. Compare with the Angor app before investing.",
    "id-mismatch": "The project id does not derive from the founder key: this may be an impersonation. Do not "
    "invest; look the project up in the Angor app.",
    "founder-key-mismatch": "The founder key in the event differs from the one on chain: the event is not the "
    "founder's. Do not invest.",
    "author-mismatch": "The event is signed by another Nostr key than the project names: someone else published it.",
    # Flags of stores written by older versions.
    "bad_signature": "The Nostr event's signature does not verify: it was altered or forged.",
    "id_mismatch": "The project id does not derive from the founder key: this may be an impersonation.",
}


def source_text(source: str | None) -> str:
    if source is None:
        return "not read yet (sync to fetch funding figures)"
    return SOURCES.get(source, source)


def window(detail: ProjectDetail, now: int) -> str:
    row = detail.row
    left = angor_queries.days_left(row.end_time, now, row.expiry_time)
    suffix = f" ({left} days left)" if left is not None else ""
    if row.end_time is None and row.expiry_time is not None:
        return f"open-ended: invest until the expiry, {day(row.expiry_time)}{suffix}"
    return day(row.end_time) + suffix


def refunds_text(detail: ProjectDetail) -> str:
    """Recovery-path spends paid back to the investor (a failed project's unfunded releases)."""
    if detail.refunds_count is not None and detail.refunds_sats is not None:
        return f"{detail.refunds_count:,} ({btc(detail.refunds_sats)} BTC)" if detail.refunds_count else "none"
    if detail.raised_source == "indexer":
        return "not told apart: the indexer counts them among the penalties"
    return NONE


def figures(detail: ProjectDetail, now: int) -> list[tuple[str, str]]:
    row = detail.row
    penalties = (f"{detail.penalties_count:,} ({btc(detail.penalties_sats)} BTC)" if detail.penalties_count
                 else "none")  # fmt: skip
    return [
        ("Project id", row.project_id),
        ("Type", f"{detail.project_type} · {detail.network}"),
        ("Target", f"{btc(row.target_sats)} BTC" if row.target_sats else "none"),
        ("Raised", f"{btc(row.raised_sats)} BTC" + (f" ({pct(row.percent_funded)})" if row.target_sats else "")),
        ("  source", source_text(detail.raised_source)),
        ("Investors", f"{row.investor_count:,}"),
        ("Start", day(row.start_time)),
        ("End", window(detail, now)),
        ("Expiry", day(detail.expiry_time)),
        ("Penalty", f"{detail.penalty_days} days"
         + (f", none under {btc(detail.penalty_threshold_sats)} BTC" if detail.penalty_threshold_sats else "")),
        ("Founder spent", f"{btc(detail.founder_spent_sats)} BTC"),
        ("Penalties", penalties),
        ("Refunds", refunds_text(detail)),
        ("Figures read", clock.ago(detail.stats_time) if detail.stats_time else NONE),
    ]  # fmt: skip


def founder_lines(detail: ProjectDetail) -> list[tuple[str, str]]:
    """Claimable now, claimed, still locked, and the next release (Invest projects' fixed stages)."""
    if not detail.stages:
        upcoming = [inv.next_release for inv in detail.investments if inv.next_release is not None]
        nearest = day(min(upcoming)) if upcoming else NONE
        return [("Next release", f"{nearest} (the earliest among the investments' own schedules)")]
    view = founder_view(detail.stages, detail.founder_spent_sats, per_stage=stage_spends_known(detail.raised_source))
    next_text = NONE if view.next_release is None else (
        f"{day(view.next_release)} · {btc(view.next_release_sats)} BTC ({relative(view.next_release)})")
    return [
        ("Claimable now", f"{btc(view.claimable_sats)} BTC"),
        ("Claimed", f"{btc(view.claimed_sats)} BTC of {btc(view.released_sats)} BTC released"),
        ("Locked", f"{btc(view.locked_sats)} BTC in stages still to come"),
        ("Next release", next_text),
    ]


def links(detail: ProjectDetail) -> Table | str:
    rows = [("Website", detail.website), ("NIP-05", detail.nip05), ("Lightning", detail.lud16)]
    shown = [(name, printable(value)) for name, value in rows if value]  # a stranger's profile on Nostr
    return aligned(shown) if shown else "No links in the project's profile."


def verification(detail: ProjectDetail) -> str:
    if detail.row.verified and not detail.row.flags:
        return "✓ Verified: the event signature checks and the project id derives from the founder key."
    problems = [f"⚠ {FLAG_TEXT.get(flag, flag)}" for flag in detail.row.flags] or ["⚠ not verified yet"]
    return "\n".join(problems)


def amount_or_unknown(sats: int | None) -> str:
    return NONE if sats is None else btc(sats)


def investors_legend(detail: ProjectDetail, wide: bool) -> str:
    """What Recovered and Penalty mean, and why they may be unknown."""
    if any(inv.recovered_sats is None for inv in detail.investments):
        return ("Recovered and Penalty: — when the figures come from the Angor indexer, which does not say "
                "whose stage output a recovery spent (the project's totals are under Figures).")
    refunded = " (Refunded: the refunds alone)" if wide else ""
    return (f"Recovered: taken back by the investor, refunds of unfunded stages and exits after the expiry"
            f"{refunded}. Penalty: recovered early into the penalty lock ({detail.penalty_days} days).")


@dataclass
class ProjectDetailLoaded(Loaded):
    detail: ProjectDetail | None


class ReadingTable(DataTable):
    """A table to read, inside the scrolling screen: no cursor, never focused."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="none", zebra_stripes=True, show_cursor=False, **kwargs)
        self.can_focus = False


class ProjectDetailScreen(DetailScreen, Reloading[ProjectDetailLoaded]):
    TITLE = "Angor project"
    CSS_PATH = "project_detail.tcss"
    BINDINGS = [Binding("c", "copy_id", "Copy id", id="project.copy_id")]

    def __init__(self, project_id: str) -> None:
        super().__init__()
        self.project_id = project_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="project-scroll"):
            yield Label(self.project_id, id="project-title", markup=False)
            yield Static("Loading…", id="project-description", markup=False)
            yield Static("", id="project-links", markup=False)
            yield Label("For the founder", classes="project-heading")
            yield Static("", id="project-founder", markup=False)
            yield Label("Figures", classes="project-heading")
            yield Static("", id="project-figures", markup=False)
            yield Label("Verification", classes="project-heading")
            yield Static("", id="project-verification", markup=False)
            yield Label("Stages", classes="project-heading")
            yield Static("", id="project-schedule", markup=False)
            yield ReadingTable(id="project-stages")
            yield Label("Investors", id="project-investors-heading", classes="project-heading")
            yield Static("", id="project-investors-legend", markup=False)
            yield ReadingTable(id="project-investors")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#project-scroll").focus()  # arrows and page keys scroll the whole screen

    def start_load(self, seq: int):
        return self._load(seq, clock.now_s())

    @work(thread=True, exclusive=True, group="project-detail", exit_on_error=False, description="read the project")
    def _load(self, seq: int, now: int) -> None:
        self.post_message(ProjectDetailLoaded(seq, angor_queries.project_detail(self.project_id, now=now)))

    def load_failed(self, error: BaseException | None) -> None:
        self.query_one("#project-description", Static).update(f"Could not read the project: {error}")

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(self.project_id)
        self.notify(f"Copied project id {self.project_id}", markup=False)

    def show_loaded(self, message: ProjectDetailLoaded) -> None:
        detail = message.detail
        if detail is None:
            self.query_one("#project-description", Static).update("This project is no longer in the store.")
            return
        row = detail.row
        title = self.query_one("#project-title", Label)
        title.update(f"{printable(row.name)}  ·  {row.status}" + ("" if row.verified else "  ·  unverified"))
        description = printable(detail.description, multiline=True)
        self.query_one("#project-description", Static).update(description or "No description published.")
        self.query_one("#project-links", Static).update(links(detail))
        self.query_one("#project-founder", Static).update(aligned(founder_lines(detail)))
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
        per_stage = stage_spends_known(detail.raised_source)
        table.add_columns("#", "Release date", "Share", "Amount BTC", "State", "Claimed BTC")
        for stage in detail.stages:
            table.add_row(
                str(stage.index + 1),
                day(stage.release_time),
                Text(f"{stage.percent}%", justify="right"),
                Text(btc(stage.amount_sats), justify="right"),
                stage_state(stage, per_stage=per_stage),
                Text(btc(stage.spent_sats) if per_stage else NONE, justify="right"),
            )
        table.styles.height = len(detail.stages) + 1

    def _investor_columns(self, scheduled: bool) -> tuple[str, ...]:
        wide = self.app.size.width >= WIDE
        # Wide: the chain's details too, as many as fit beside a schedule (the table does not scroll sideways).
        chain = ("Time (UTC)",) if scheduled else ("Seeder", "Block", "Time (UTC)", "Transaction")
        return ("Investor", "Invested BTC", "Recovered", *(("Refunded",) if wide else ()), "Penalty",
                *(("Released", "Next release") if scheduled else ()), *(chain if wide else ()))  # fmt: skip

    def _fill_investors(self, detail: ProjectDetail) -> None:
        shown = len(detail.investments)
        if detail.investment_count > shown:
            self.query_one("#project-investors-heading", Label).update(
                f"Investors (newest {shown:,} of {detail.investment_count:,})"
            )
        table = self.query_one("#project-investors", DataTable)
        # Fund/Subscribe: each investment's own schedule, right after its amounts.
        scheduled = any(inv.stage_times is not None for inv in detail.investments)
        columns = self._investor_columns(scheduled)
        legend = investors_legend(detail, wide=self.app.size.width >= WIDE)
        self.query_one("#project-investors-legend", Static).update(legend)
        table.add_columns(*columns)
        for inv in detail.investments:
            cells = self._investor_cells(inv, unconfirmed="—" if detail.raised_source == "indexer" else "pending")
            table.add_row(*(cells[name] for name in columns))
        table.styles.height = max(shown, 1) + 1

    @staticmethod
    def _investor_cells(inv: InvestmentRow, unconfirmed: str) -> dict[str, object]:
        """``unconfirmed``: what a missing block height means (the indexer gives none: unknown, not pending)."""
        released = NONE if inv.stage_times is None else f"{inv.released_stages} of {len(inv.stage_times)}"
        return {
            "Investor": inv.investor_key[:12] + "…",
            "Invested BTC": Text(btc(inv.amount_sats), justify="right"),
            "Recovered": Text(amount_or_unknown(inv.recovered_sats), justify="right"),
            "Refunded": Text(amount_or_unknown(inv.refunded_sats), justify="right"),
            "Penalty": Text(amount_or_unknown(inv.penalty_sats), justify="right"),
            "Released": released,
            "Next release": day(inv.next_release) if inv.next_release is not None else NONE,
            "Seeder": yes_no(inv.is_seeder),
            "Block": str(inv.block_height) if inv.block_height is not None else unconfirmed,
            # Short enough that every column fits 120 (the table does not scroll sideways: review M5).
            "Time (UTC)": clock.to_datetime(inv.time).strftime("%Y-%m-%d %H:%M") if inv.time else NONE,
            "Transaction": inv.txid[:12] + "…",
        }
