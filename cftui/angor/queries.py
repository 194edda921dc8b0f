"""Read queries for the Angor tab: the project list and one project's detail.

Projects are few (hundreds), so the list is one query sorted and filtered in
SQL. Percentages are exact (Decimal from integer sats); "days left" is
computed against the caller's ``now`` so a frozen clock gives a fixed screen.

These reads live in ``cftui.angor``, beside the rules they apply (the status
window, each investment's stage dates from the project's ProjectInfo), rather
than in ``cftui.store``: the store is the layer below the sources and must
not import them, as ``angor/store.py`` (the writer) already imports the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from peewee import JOIN, Case, fn

from cftui.angor import status as angor_status
from cftui.angor.projectinfo import pattern_by_id, schedule_patterns
from cftui.angor.schedule import stage_times
from cftui.domain import INDEXER, PROJECT_STATUSES, ProjectSort
from cftui.store.angor_models import AngorInvestment, AngorProfile, AngorProject, AngorStage

STATUSES = PROJECT_STATUSES
PROJECT_TYPES = {0: "Invest", 1: "Fund", 2: "Subscribe"}
# The detail screen lists at most this many investments (newest first).
INVESTMENTS_SHOWN = 500

_NAME = fn.COALESCE(AngorProject.name, AngorProject.project_id)
# Basis points funded, in integer SQL arithmetic (no REAL); -1 sorts "no target" first.
_FUNDED_BP = Case(
    None, [(AngorProject.target_sats > 0, AngorProject.raised_sats * 10_000 / AngorProject.target_sats)], -1
)

SORT_COLUMNS: dict[ProjectSort, Any] = {
    "name": fn.LOWER(_NAME),
    "status": AngorProject.status,
    "target": AngorProject.target_sats,
    "raised": AngorProject.raised_sats,
    "funded": _FUNDED_BP,
    "investors": AngorProject.investor_count,
    "start": AngorProject.start_time,
    # A Fund/Subscribe project has no end: its window closes at its expiry (the Angor app's rule).
    "end": fn.COALESCE(AngorProject.end_time, AngorProject.expiry_time),
    # Days left orders like the end; closed windows show none.
    "days_left": fn.COALESCE(AngorProject.end_time, AngorProject.expiry_time),
    "type": AngorProject.project_type,
}


def days_left(end_time: int | None, now: int, expiry_time: int | None = None) -> int | None:
    """Whole days (rounded up) until the funding window closes (the end, or the expiry for a project
    without one); None once closed. The export and the tab use this one rule (cftui.angor.status)."""
    return angor_status.days_left(now=now, end_time=end_time, expiry_time=expiry_time)


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal place, exact; None without a whole."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class ProjectRow:
    project_id: str
    name: str
    status: str
    target_sats: int
    raised_sats: int
    investor_count: int
    start_time: int | None
    end_time: int | None
    verified: bool
    flags: tuple[str, ...]
    project_type: str = "Invest"
    expiry_time: int | None = None

    @property
    def percent_funded(self) -> Decimal | None:
        return percent(self.raised_sats, self.target_sats)

    @property
    def window_end(self) -> int | None:
        """When funding closes: the end date, or the expiry of an open-ended Fund/Subscribe project."""
        return angor_status.window_end(self.end_time, self.expiry_time)


@dataclass(frozen=True)
class StageRow:
    index: int
    release_time: int
    percent: str  # decimal text as the project states it
    amount_sats: int
    released: bool
    spent_sats: int


@dataclass(frozen=True)
class InvestmentRow:
    investor_key: str
    txid: str
    amount_sats: int
    is_seeder: bool
    block_height: int | None
    time: int | None
    # Fund/Subscribe: the investment's own schedule, as of ``now`` (None when unknown).
    stage_times: tuple[int, ...] | None = None
    released_stages: int | None = None
    next_release: int | None = None
    # What the investor took back (refunds of unfunded stages and exits after the expiry), of which
    # refunds, and what went into the penalty lock; None when the source cannot tell (the indexer).
    recovered_sats: int | None = None
    refunded_sats: int | None = None
    penalty_sats: int | None = None


@dataclass(frozen=True)
class ProjectDetail:
    row: ProjectRow
    network: str
    project_type: str
    founder_key: str
    nostr_pubkey: str
    event_id: str
    creation_txid: str | None
    expiry_time: int | None
    penalty_days: int
    penalty_threshold_sats: int | None
    raised_source: str | None
    founder_spent_sats: int
    penalties_count: int
    penalties_sats: int
    refunds_count: int | None  # None: not told apart from the penalties (the indexer) or not read yet
    refunds_sats: int | None
    stats_time: int | None
    synced_time: int
    description: str | None
    website: str | None
    nip05: str | None
    lud16: str | None
    stages: tuple[StageRow, ...]
    investments: tuple[InvestmentRow, ...]
    investment_count: int
    schedule_patterns: tuple[str, ...] = ()  # Fund/Subscribe: how each investment's own stages are dated


def _flags(text: str) -> tuple[str, ...]:
    return tuple(flag.strip() for flag in text.split(",") if flag.strip())


def _row(project: AngorProject) -> ProjectRow:
    return ProjectRow(
        project_id=project.project_id,
        name=project.name or project.project_id,
        status=project.status,
        target_sats=project.target_sats,
        raised_sats=project.raised_sats,
        investor_count=project.investor_count,
        start_time=project.start_time,
        end_time=project.end_time,
        verified=project.verified,
        flags=_flags(project.flags),
        project_type=PROJECT_TYPES.get(project.project_type, str(project.project_type)),
        expiry_time=project.expiry_time,
    )


def list_projects(
    *,
    sort: ProjectSort = "name",
    descending: bool = False,
    status: str | None = None,
    text: str = "",
    network: str | None = None,
    project_type: str | None = None,
) -> list[ProjectRow]:
    """Every project matching the filters, sorted in SQL (ties by project id).

    ``text`` matches inside a name (any case) or the start of a project id: every id starts
    with ``angor1``, so a few letters inside one would match them all (review M10).
    """
    column = SORT_COLUMNS[sort]
    order = column.desc(nulls="LAST") if descending else column.asc(nulls="LAST")
    tie = AngorProject.project_id.desc() if descending else AngorProject.project_id.asc()
    query = AngorProject.select().order_by(order, tie)
    if status:
        query = query.where(AngorProject.status == status)
    if network:
        query = query.where(AngorProject.network == network)
    if project_type is not None:
        codes = [code for code, name in PROJECT_TYPES.items() if name == project_type]
        query = query.where(AngorProject.project_type.in_(codes))
    if text.strip():
        needle = text.strip()
        query = query.where(AngorProject.name.contains(needle) | AngorProject.project_id.startswith(needle))
    return [_row(project) for project in query]


def project_detail(project_id: str, *, now: int) -> ProjectDetail | None:
    """One project with its profile, stage timeline and newest investments."""
    project = (
        AngorProject.select(AngorProject, AngorProfile)
        .join(AngorProfile, JOIN.LEFT_OUTER, on=(AngorProfile.pubkey == AngorProject.nostr_pubkey), attr="profile")
        .where(AngorProject.project_id == project_id)
        .first()
    )
    if project is None:
        return None
    profile = getattr(project, "profile", None)
    investments_query = AngorInvestment.select().where(AngorInvestment.project == project_id)
    return ProjectDetail(
        row=_row(project),
        network=project.network,
        project_type=PROJECT_TYPES.get(project.project_type, str(project.project_type)),
        founder_key=project.founder_key,
        nostr_pubkey=project.nostr_pubkey,
        event_id=project.event_id,
        creation_txid=project.creation_txid,
        expiry_time=project.expiry_time,
        penalty_days=project.penalty_days,
        penalty_threshold_sats=project.penalty_threshold_sats,
        raised_source=project.raised_source,
        founder_spent_sats=project.founder_spent_sats,
        penalties_count=project.penalties_count,
        penalties_sats=project.penalties_sats,
        refunds_count=project.refunds_count,
        refunds_sats=project.refunds_sats,
        stats_time=project.stats_time,
        synced_time=project.synced_time,
        description=(profile.description or profile.about) if profile else None,
        website=profile.website if profile else None,
        nip05=profile.nip05 if profile else None,
        lud16=profile.lud16 if profile else None,
        stages=_stage_rows(project_id, now),
        investments=_newest_investments(project, investments_query, now),
        investment_count=investments_query.count(),
        schedule_patterns=tuple(schedule_patterns(project.content)) if project.project_type != 0 else (),
    )


def _stage_rows(project_id: str, now: int) -> tuple[StageRow, ...]:
    return tuple(
        StageRow(
            index=stage.index,
            release_time=stage.release_time,
            percent=stage.percent,
            amount_sats=stage.amount_sats,
            # The stored flag is as of the last sync; a date that has passed since counts too.
            released=stage.released or stage.release_time <= now,
            spent_sats=stage.spent_sats,
        )
        for stage in AngorStage.select().where(AngorStage.project == project_id).order_by(AngorStage.index)
    )


def _newest_investments(project: AngorProject, query: Any, now: int) -> tuple[InvestmentRow, ...]:
    """The newest INVESTMENTS_SHOWN investments, each with its own release schedule (Fund/Subscribe projects)."""
    patterns = pattern_by_id(project.content) if project.project_type != 0 else {}
    newest = query.order_by(AngorInvestment.time.desc(nulls="FIRST"), AngorInvestment.id.desc())
    return tuple(
        InvestmentRow(
            investor_key=inv.investor_key,
            txid=inv.txid,
            amount_sats=inv.amount_sats,
            is_seeder=inv.is_seeder,
            block_height=inv.block_height,
            time=inv.time,
            recovered_sats=inv.recovered_sats,
            refunded_sats=inv.refunded_sats,
            penalty_sats=inv.penalty_sats,
            **_investment_schedule(inv, patterns, now),
        )
        for inv in newest.limit(INVESTMENTS_SHOWN)
    )


def _investment_schedule(inv: AngorInvestment, patterns: dict[Any, Any], now: int) -> dict[str, Any]:
    """When an investor's own stages release (dynamic projects); empty when it has no schedule of its own."""
    pattern = patterns.get(inv.pattern_id) if inv.pattern_id is not None else None
    if pattern is None or inv.schedule_start is None:
        return {}
    times = stage_times(pattern, inv.schedule_start, inv.stage_count or 0)
    if times is None:
        return {}
    released = sum(1 for t in times if t <= now)
    return {
        "stage_times": tuple(times),
        "released_stages": released,
        "next_release": times[released] if released < len(times) else None,
    }


@dataclass(frozen=True)
class FounderView:
    """What the founder can do with the money now (an Invest project's fixed stages)."""

    released_sats: int  # in stages whose release date has passed
    claimed_sats: int  # of those, what the founder has spent
    claimable_sats: int  # released and not yet spent
    next_release: int | None  # the next stage's date, None when all are out
    next_release_sats: int
    locked_sats: int  # in stages still to come


def stage_spends_known(detail_source: str | None) -> bool:
    """Only the chain says which stage the founder spent from; the indexer has the total alone."""
    return detail_source != INDEXER


def stage_state(stage: StageRow, *, per_stage: bool = True) -> str:
    """``claimed`` (released and spent), ``claimable`` (released, not all spent) or ``locked``;
    ``released`` when the source cannot tell which stage was spent (``per_stage`` False)."""
    if not stage.released:
        return "locked"
    if not per_stage:
        return "released"
    return "claimed" if stage.spent_sats >= stage.amount_sats else "claimable"


def founder_view(stages: tuple[StageRow, ...], founder_spent_sats: int = 0, *, per_stage: bool = True) -> FounderView:
    """What the founder has claimed and can claim. Without per-stage spends (the indexer) the founder's
    total spend counts against the released stages, up to what they hold."""
    released = [s for s in stages if s.released]
    locked = [s for s in stages if not s.released]
    upcoming = min(locked, key=lambda s: s.release_time, default=None)
    claimed = sum(min(s.spent_sats, s.amount_sats) for s in released)
    if not per_stage:
        claimed = min(founder_spent_sats, sum(s.amount_sats for s in released))
    return FounderView(
        released_sats=sum(s.amount_sats for s in released),
        claimed_sats=claimed,
        claimable_sats=sum(s.amount_sats for s in released) - claimed,
        next_release=upcoming.release_time if upcoming else None,
        next_release_sats=upcoming.amount_sats if upcoming else 0,
        locked_sats=sum(s.amount_sats for s in locked),
    )
