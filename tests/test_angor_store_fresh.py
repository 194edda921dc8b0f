"""An unchanged Angor project still records when its figures were read (review M3)."""

from __future__ import annotations

from cftui.angor import store as angor_store
from cftui.store.angor_models import AngorProject


def record(stats_time: int | None, synced_time: int) -> angor_store.ProjectRecord:
    project = angor_store.ProjectRow(
        project_id="angor1qfresh", network="Angornet", name=None, founder_key="02ab", founder_recovery_key=None,
        nostr_pubkey="p", event_id="e", event_pubkey="p", event_kind=3030, event_created=1, onchain_event_id=None,
        creation_txid=None, created_block=None, version=1, project_type=0, target_sats=10_000, start_time=None,
        end_time=None, expiry_time=None, penalty_days=0, penalty_threshold_sats=None, raised_sats=5_000,
        raised_source=None, investor_count=0, founder_spent_sats=0, penalties_count=0, penalties_sats=0,
        refunds_count=None, refunds_sats=None, status="active", verified=True, flags="", content="{}",
        stats_time=stats_time, synced_time=synced_time,
    )  # fmt: skip
    return angor_store.ProjectRecord(project)


def test_figures_read_again_unchanged_move_the_read_time_on(db):
    assert angor_store.upsert(record(1_000, 1_000), known=False) == "new"
    assert angor_store.upsert(record(4_600, 4_600)) == "unchanged"
    row = AngorProject.get_by_id("angor1qfresh")
    assert (row.stats_time, row.synced_time) == (4_600, 4_600)
    # A sync that could not read the figures keeps the time they were last read.
    assert angor_store.upsert(record(None, 8_200)) == "unchanged"
    row = AngorProject.get_by_id("angor1qfresh")
    assert (row.stats_time, row.synced_time) == (4_600, 8_200)
