"""Writing Angor projects and profiles to the store, each project in one transaction.

A project row, its stages and its investments change together or not at all,
so a sync killed halfway leaves every project either as it was or as it is now.
Writers take turns (the ``angor`` lock): two daemons syncing Angor into one
store read and write each project one after the other, never both inserting it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from peewee import fn

from cftui.angor.profiles import Profile
from cftui.angor.status import is_released, status_of
from cftui.store import engine
from cftui.store.angor_models import AngorInvestment, AngorProfile, AngorProject, AngorStage
from cftui.store.models import database

# What storing a project did (the sync counts projects by it).
UpsertOutcome = Literal["new", "updated", "unchanged"]

# Columns that change on every sync without the project changing.
_VOLATILE = {"synced_time", "stats_time"}


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """An ``AngorProject`` row as a sync builds it: one field per column (tests/test_angor_store.py keeps them
    equal)."""

    project_id: str
    network: str
    name: str | None
    founder_key: str
    founder_recovery_key: str | None
    nostr_pubkey: str
    event_id: str
    event_pubkey: str
    event_kind: int
    event_created: int
    onchain_event_id: str | None
    creation_txid: str | None
    created_block: int | None
    version: int
    project_type: int
    target_sats: int
    start_time: int | None
    end_time: int | None
    expiry_time: int | None
    penalty_days: int
    penalty_threshold_sats: int | None
    raised_sats: int
    raised_source: str | None
    investor_count: int
    founder_spent_sats: int
    penalties_count: int
    penalties_sats: int
    refunds_count: int | None
    refunds_sats: int | None
    status: str
    verified: bool
    flags: str
    content: str
    stats_time: int | None
    synced_time: int

    def columns(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class StageRow:
    """An ``AngorStage`` row without its project."""

    index: int
    release_time: int
    percent: str  # decimal text, 0-100
    amount_sats: int
    released: bool
    spent_sats: int

    def columns(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class ProjectRecord:
    project: ProjectRow
    stages: list[StageRow] = field(default_factory=list)
    investments: list[dict[str, Any]] = field(default_factory=list)  # AngorInvestment columns without `project`


# One stage's or investment's columns (but its id and project) as sorted (name, value) pairs.
_ChildColumns = tuple[tuple[str, Any], ...]
# A stored project as _same compares it: its columns (but the volatile ones), its stages', its investments'.
_Snapshot = tuple[dict[str, Any], list[_ChildColumns], list[_ChildColumns]]


def _child_columns(rows: Iterable[AngorStage | AngorInvestment]) -> list[_ChildColumns]:
    # Sorted: the database returns the rows in no particular order.
    return sorted(tuple(sorted((k, v) for k, v in r.__data__.items() if k not in ("id", "project"))) for r in rows)


def _snapshot(project_id: str) -> _Snapshot | None:
    row = AngorProject.get_or_none(AngorProject.project_id == project_id)
    if row is None:
        return None
    columns = {name: getattr(row, name) for name in AngorProject._meta.fields if name not in _VOLATILE}
    stages = _child_columns(AngorStage.select().where(AngorStage.project == project_id))
    investments = _child_columns(AngorInvestment.select().where(AngorInvestment.project == project_id))
    return columns, stages, investments


def _same(before: _Snapshot, record: ProjectRecord) -> bool:
    columns, stages, investments = before
    if any(columns.get(k) != v for k, v in record.project.columns().items() if k not in _VOLATILE):
        return False
    return stages == sorted(tuple(sorted(s.columns().items())) for s in record.stages) and investments == sorted(
        tuple(sorted(i.items())) for i in record.investments
    )


def _lock() -> None:
    engine.current().lock(database.obj, "angor")


def upsert(record: ProjectRecord, *, known: bool = True) -> UpsertOutcome:
    """Store ``record``; return ``"new"``, ``"updated"`` or ``"unchanged"``.

    ``known=False`` says the caller found it not stored (then only an index probe checks that still holds).
    """
    project_id = record.project.project_id
    with database.atomic():
        _lock()
        # Another writer may have stored it since the caller looked: under the lock, look again (one index probe).
        if not known:
            known = AngorProject.select().where(AngorProject.project_id == project_id).exists()
        before = _snapshot(project_id) if known else None
        if before is not None and _same(before, record):
            # Unchanged figures were still read now: "Figures read 1 h ago" must not age (review M3).
            fresh = {"synced_time": record.project.synced_time}
            if record.project.stats_time is not None:
                fresh["stats_time"] = record.project.stats_time
            AngorProject.update(**fresh).where(AngorProject.project_id == project_id).execute()
            return "unchanged"
        if before is None:
            AngorProject.insert(**record.project.columns()).execute()
        else:
            AngorProject.update(**record.project.columns()).where(AngorProject.project_id == project_id).execute()
        if before is not None:
            AngorStage.delete().where(AngorStage.project == project_id).execute()
            AngorInvestment.delete().where(AngorInvestment.project == project_id).execute()
        if record.stages:
            AngorStage.insert_many([{**s.columns(), "project": project_id} for s in record.stages]).execute()
        if record.investments:
            AngorInvestment.insert_many([{**i, "project": project_id} for i in record.investments]).execute()
    return "new" if before is None else "updated"


def upsert_profiles(profiles: Iterable[Profile]) -> None:
    """Merge ``profiles`` into the stored ones; a document missing from this read keeps its stored value."""
    profiles = list(profiles)
    with database.atomic():
        _lock()
        stored = {
            row.pubkey: row
            for row in AngorProfile.select().where(AngorProfile.pubkey.in_([p.pubkey for p in profiles]))
        }
        fresh = [p for p in profiles if p.pubkey not in stored]
        if fresh:
            AngorProfile.insert_many(
                [{"pubkey": p.pubkey, "event_created": p.event_created, **p.values} for p in fresh]
            ).execute()
        for profile in profiles:
            row = stored.get(profile.pubkey)
            if row is not None:
                event_created = max(row.event_created, profile.event_created)
                AngorProfile.update(event_created=event_created, **profile.values).where(
                    AngorProfile.pubkey == profile.pubkey
                ).execute()


def refresh_statuses(now: int) -> int:
    """Recompute status and stage release from what is stored (time moves even offline); return rows changed."""
    changed = 0
    stages: dict[str, list[AngorStage]] = {}
    # Joined for the project's id only: stage.project then needs no query of its own.
    for stage in AngorStage.select(AngorStage, AngorProject.project_id).join(AngorProject):
        stages.setdefault(stage.project.project_id, []).append(stage)
    with database.atomic():
        _lock()
        for project in AngorProject.select():
            own = stages.get(project.project_id, [])
            status = status_of(
                project,
                raised_sats=project.raised_sats,
                raised_source=project.raised_source,
                stage_release_times=[s.release_time for s in own],
                now=now,
            )
            if status != project.status:
                update = AngorProject.update(status=status).where(AngorProject.project_id == project.project_id)
                changed += update.execute()
            for stage in own:
                if stage.released != is_released(stage.release_time, now):
                    stage.released = not stage.released
                    stage.save(only=[AngorStage.released])
    return changed


def profile_names() -> dict[str, str | None]:
    """nostrPubKey -> the name to show (display name first)."""
    query = AngorProfile.select(AngorProfile.pubkey, AngorProfile.display_name, AngorProfile.name)
    return {profile.pubkey: profile.display_name or profile.name for profile in query}


def stored_project_ids() -> set[str]:
    return {project.project_id for project in AngorProject.select(AngorProject.project_id)}


def newest_event_time(network: str) -> int | None:
    # peewee's stubs leave scalar() untyped; MAX of a BIGINT column is an int, or NULL for no rows.
    newest = AngorProject.select(fn.MAX(AngorProject.event_created)).where(AngorProject.network == network).scalar()
    return None if newest is None else int(newest)
