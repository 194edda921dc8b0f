"""Writing Angor projects and profiles to the store, each project in one transaction.

A project row, its stages and its investments change together or not at all,
so a sync killed halfway leaves every project either as it was or as it is now.
Writers take turns (the ``angor`` lock): two daemons syncing Angor into one
store read and write each project one after the other, never both inserting it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from peewee import fn

from cftui.angor.profiles import Profile
from cftui.angor.status import is_released, project_status, status_raised
from cftui.store.angor_models import AngorInvestment, AngorProfile, AngorProject, AngorStage
from cftui.store import engine
from cftui.store.models import database

# Columns that change on every sync without the project changing.
_VOLATILE = {"synced_time", "stats_time"}


@dataclass
class ProjectRecord:
    project: dict[str, Any]  # AngorProject columns
    stages: list[dict[str, Any]] = field(default_factory=list)  # AngorStage columns without `project`
    investments: list[dict[str, Any]] = field(default_factory=list)  # AngorInvestment columns without `project`


def _snapshot(project_id: str) -> tuple[dict[str, Any], list[tuple], list[tuple]] | None:
    row = AngorProject.get_or_none(AngorProject.project_id == project_id)
    if row is None:
        return None
    columns = {name: getattr(row, name) for name in AngorProject._meta.fields if name not in _VOLATILE}
    stages = sorted(tuple(sorted((k, v) for k, v in s.__data__.items() if k not in ("id", "project"))) for s in row.stages)
    investments = sorted(
        tuple(sorted((k, v) for k, v in i.__data__.items() if k not in ("id", "project"))) for i in row.investments
    )
    return columns, stages, investments


def _same(before: tuple[dict[str, Any], list[tuple], list[tuple]], record: ProjectRecord) -> bool:
    columns, stages, investments = before
    if any(columns.get(k) != v for k, v in record.project.items() if k not in _VOLATILE):
        return False
    return stages == sorted(tuple(sorted(s.items())) for s in record.stages) and investments == sorted(
        tuple(sorted(i.items())) for i in record.investments
    )


def _lock() -> None:
    engine.current().lock(database.obj, "angor")


def upsert(record: ProjectRecord, *, known: bool = True) -> str:
    """Store ``record``; return ``"new"``, ``"updated"`` or ``"unchanged"``.

    ``known=False`` says the caller found it not stored (then only an index probe checks that still holds).
    """
    project_id = record.project["project_id"]
    with database.atomic():
        _lock()
        # Another writer may have stored it since the caller looked: under the lock, look again (one index probe).
        if not known:
            known = AngorProject.select().where(AngorProject.project_id == project_id).exists()
        before = _snapshot(project_id) if known else None
        if before is not None and _same(before, record):
            AngorProject.update(synced_time=record.project["synced_time"]).where(
                AngorProject.project_id == project_id
            ).execute()
            return "unchanged"
        if before is None:
            AngorProject.insert(**record.project).execute()
        else:
            AngorProject.update(**record.project).where(AngorProject.project_id == project_id).execute()
        if before is not None:
            AngorStage.delete().where(AngorStage.project == project_id).execute()
            AngorInvestment.delete().where(AngorInvestment.project == project_id).execute()
        if record.stages:
            AngorStage.insert_many([{**s, "project": project_id} for s in record.stages]).execute()
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
                AngorProfile.update(event_created=max(row.event_created, profile.event_created), **profile.values).where(
                    AngorProfile.pubkey == profile.pubkey
                ).execute()


def refresh_statuses(now: int) -> int:
    """Recompute status and stage release from what is stored (time moves even offline); return rows changed."""
    changed = 0
    stages: dict[str, list[AngorStage]] = {}
    for stage in AngorStage.select():
        stages.setdefault(stage.project_id, []).append(stage)
    with database.atomic():
        _lock()
        for project in AngorProject.select():
            own = stages.get(project.project_id, [])
            status = project_status(
                now=now,
                start_time=project.start_time,
                end_time=project.end_time,
                expiry_time=project.expiry_time,
                target_sats=project.target_sats,
                raised_sats=status_raised(project.raised_sats, project.raised_source),
                stage_release_times=[s.release_time for s in own],
            )
            if status != project.status:
                changed += AngorProject.update(status=status).where(AngorProject.project_id == project.project_id).execute()
            for stage in own:
                if stage.released != is_released(stage.release_time, now):
                    stage.released = not stage.released
                    stage.save(only=[AngorStage.released])
    return changed


def profile_names() -> dict[str, str | None]:
    """nostrPubKey -> the name to show (display name first)."""
    query = AngorProfile.select(AngorProfile.pubkey, AngorProfile.display_name, AngorProfile.name).tuples()
    return {pubkey: display or name for pubkey, display, name in query}


def stored_project_ids() -> set[str]:
    return {pid for (pid,) in AngorProject.select(AngorProject.project_id).tuples()}


def newest_event_time(network: str) -> int | None:
    return AngorProject.select(fn.MAX(AngorProject.event_created)).where(AngorProject.network == network).scalar()
