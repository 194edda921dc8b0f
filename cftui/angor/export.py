"""`cftui export projects`: the stored Angor projects as CSV or JSON.

Times are ISO-8601 UTC; amounts integer sats. ``raised_source`` says where
``raised_sats`` came from (``indexer``: gross on the mempool-fork indexer,
``esplora``: net of the 1 % fee, read from the chain). Refunds are empty (JSON
null) where the source cannot tell them from penalties: the indexer counts
them among the penalties.
"""

from __future__ import annotations

import csv
import json
from typing import IO, Any

from peewee import fn

from cftui import clock
from cftui.angor.status import days_left
from cftui.domain import ExportFormat
from cftui.store.angor_models import AngorProject, AngorStage

FIELDS = (
    "project_id", "name", "status", "network", "project_type", "target_sats", "raised_sats", "raised_source",
    "investors", "founder_spent_sats", "penalties_count", "penalties_sats", "refunds_count", "refunds_sats",
    "start", "end", "expiry", "days_left", "stages", "verified", "flags",
)
PROJECT_TYPES = {0: "invest", 1: "fund", 2: "subscribe"}


def rows(network: str | None = None) -> list[dict[str, Any]]:
    stage_count = AngorStage.select(fn.COUNT(AngorStage.id)).where(AngorStage.project == AngorProject.project_id)
    query = AngorProject.select(AngorProject, stage_count.alias("stage_count")).order_by(
        AngorProject.start_time.desc(nulls="LAST"), AngorProject.project_id
    )
    if network:
        query = query.where(AngorProject.network == network)
    now = clock.now_s()
    return [
        {
            "project_id": p.project_id,
            "name": p.name,
            "status": p.status,
            "network": p.network,
            "project_type": PROJECT_TYPES.get(p.project_type, str(p.project_type)),
            "target_sats": p.target_sats,
            "raised_sats": p.raised_sats,
            "raised_source": p.raised_source,
            "investors": p.investor_count,
            "founder_spent_sats": p.founder_spent_sats,
            "penalties_count": p.penalties_count,
            "penalties_sats": p.penalties_sats,
            "refunds_count": p.refunds_count,
            "refunds_sats": p.refunds_sats,
            "start": clock.iso(p.start_time),
            "end": clock.iso(p.end_time),
            "expiry": clock.iso(p.expiry_time),
            "days_left": days_left(now=now, end_time=p.end_time, expiry_time=p.expiry_time),
            # The subquery selected above: peewee sets it on the row, the stubs know only declared fields.
            "stages": p.stage_count,  # type: ignore[attr-defined]  # see above
            "verified": p.verified,
            "flags": [f for f in p.flags.split(",") if f],
        }
        for p in query
    ]


def write(stream: IO[str], fmt: ExportFormat, network: str | None = None) -> int:
    """Write every stored project to ``stream``; return how many."""
    data = rows(network)
    if fmt == "json":
        json.dump(data, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    else:
        writer = csv.DictWriter(stream, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow({**row, "flags": ";".join(row["flags"]), "verified": str(row["verified"]).lower()})
    return len(data)
