"""An unchanged Angor project still records when its figures were read (review M3)."""

from __future__ import annotations

from cftui.angor import store as angor_store
from cftui.store.angor_models import AngorProject
from cftui.store.db import open_database


def record(stats_time: int | None, synced_time: int) -> angor_store.ProjectRecord:
    project = dict(project_id="angor1qfresh", network="Angornet", founder_key="02ab", nostr_pubkey="p", event_id="e",
                   event_pubkey="p", event_kind=3030, event_created=1, content="{}", raised_sats=5_000,
                   stats_time=stats_time, synced_time=synced_time)  # fmt: skip
    return angor_store.ProjectRecord(project)


def test_figures_read_again_unchanged_move_the_read_time_on(tmp_path):
    db = open_database(tmp_path / "store.sqlite")
    assert angor_store.upsert(record(1_000, 1_000), known=False) == "new"
    assert angor_store.upsert(record(4_600, 4_600)) == "unchanged"
    row = AngorProject.get_by_id("angor1qfresh")
    assert (row.stats_time, row.synced_time) == (4_600, 4_600)
    # A sync that could not read the figures keeps the time they were last read.
    assert angor_store.upsert(record(None, 8_200)) == "unchanged"
    row = AngorProject.get_by_id("angor1qfresh")
    assert (row.stats_time, row.synced_time) == (4_600, 8_200)
    db.close()
