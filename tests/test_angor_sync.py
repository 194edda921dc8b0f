"""Angor sync end to end: real relays, the simulator's indexer/esplora, a real SQLite store."""

from __future__ import annotations

import csv
import io
import json

import pytest

from angor_relay import free_port, nostr_relays, publish  # noqa: F401 - fixture
from cftui import clock
from cftui.angor import events, identity
from cftui.angor.sync import sync_angor
from cftui.cli import main as cli_main
from cftui.config import AngorConfig
from cftui.sim.angor import AngorSimulator
from cftui.sim.angor_data import DAY, investment_start, secret
from cftui.store.angor_models import AngorInvestment, AngorProfile, AngorProject
from cftui.store.db import open_database

NOW = 1_800_000_000
BAD = {"event-differs", "id-mismatch"}


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def store(tmp_path):
    db = open_database(tmp_path / "store.sqlite3")
    yield tmp_path / "store.sqlite3"
    db.close()


async def served(sim: AngorSimulator, relays: list[str]) -> AngorConfig:
    for url in relays:
        await publish(url, sim.events)
    _, indexer = await sim.start()
    dead = f"ws://127.0.0.1:{free_port()}/"
    return AngorConfig(enabled=True, network="Angornet", relays=(dead, *relays), indexer_url=indexer, timeout=5)


async def test_indexer_sync_stores_every_project_verified_and_flagged(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW)
    config = await served(sim, nostr_relays(2))
    seen = []
    try:
        result = await sync_angor(config, reporter=seen.append)
        again = await sync_angor(config)
    finally:
        await sim.stop()

    assert result.ok, result.error
    assert result.new == len(sim.world.projects)
    assert result.skipped == {
        "invalid event: bad signature": 1, "invalid event: wrong event id": 1, "wrong network": 1,
        "malformed ProjectInfo JSON": 1, "not a ProjectInfo (content is not a JSON object)": 1,
    }
    assert type(seen[0]).__name__ == "SyncStarted" and type(seen[-1]).__name__ == "SyncFinished"
    for project in sim.world.projects:
        row = AngorProject.get(AngorProject.project_id == project.project_id)
        if project.label in BAD:
            assert not row.verified and row.flags == project.label
            continue
        assert row.verified and row.flags == "", project.label
        assert row.status == project.label
        if project.is_dynamic:
            # Fund/Subscribe: the indexer does not index their investments; the chain is read instead,
            # with the schedule each investment committed.
            assert row.raised_sats == project.net_sats > 0 and row.raised_source == "esplora"
            stored = {i.txid: i for i in AngorInvestment.select().where(AngorInvestment.project == row)}
            for inv in project.investments:
                assert stored[inv.txid].schedule_start == investment_start(project, inv)
                assert (stored[inv.txid].pattern_id, stored[inv.txid].stage_count) == (2, 0)
        else:
            assert row.raised_sats == project.gross_sats and row.raised_source == "indexer"
        assert row.investor_count == len({i.investor_key for i in project.investments})
        assert row.name and row.name == AngorProfile.get_by_id(project.event.pubkey).name
        assert AngorInvestment.select().where(AngorInvestment.project == row).count() == len(project.investments)
        assert sum(s.amount_sats for s in row.stages) == (row.raised_sats if project.info["stages"] else 0)
    active = AngorProject.get(AngorProject.status == "active")
    assert active.penalties_count == 1 and active.penalties_sats > 0 and active.founder_spent_sats > 0
    profile = AngorProfile.get_by_id(sim.world.projects[0].event.pubkey)
    assert profile.description and json.loads(profile.faq)[0]["question"]
    # Nothing changed on the second run.
    assert again.ok and (again.new, again.updated, again.unchanged) == (0, 0, len(sim.world.projects))


async def test_esplora_sync_reads_net_amounts_and_exact_stage_spends(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW, indexer_api=False)
    config = await served(sim, nostr_relays(1))
    try:
        result = await sync_angor(config)
    finally:
        await sim.stop()
    assert result.ok, result.error
    for project in sim.world.projects:
        row = AngorProject.get(AngorProject.project_id == project.project_id)
        assert row.raised_source == "esplora"
        assert row.raised_sats == project.net_sats < project.gross_sats or not project.investments
        assert row.verified == (project.label not in BAD)
    completed = AngorProject.get(AngorProject.status == "completed")
    assert all(s.released and s.spent_sats == s.amount_sats > 0 for s in completed.stages)
    assert completed.founder_spent_sats == completed.raised_sats


async def test_incremental_run_picks_up_a_new_event_and_flags_it_off_chain(nostr_relays, store):
    (url,) = nostr_relays(1)
    sim = AngorSimulator(seed=5, now=NOW)
    config = await served(sim, [url])
    try:
        await sync_angor(config)
        # Someone announces a project that never made it on-chain.
        info = dict(sim.world.projects[1].info)
        founder = events.xonly_pubkey(secret("new founder"))  # any key; the id below is not derived from it
        key = secret("new nostr")
        info.update(nostrPubKey=events.xonly_pubkey(key), founderKey="02" + founder)
        info["projectIdentifier"] = identity.derive_project_id(info["founderKey"], "Angornet")
        late = events.sign(key, 3030, json.dumps(info, default=str), created_at=NOW + 30 * DAY)  # newer than anything stored
        await publish(url, [late])
        result = await sync_angor(config)
    finally:
        await sim.stop()
    assert result.ok and result.new == 1 and result.unchanged == len(sim.world.projects)
    row = AngorProject.get(AngorProject.project_id == info["projectIdentifier"])
    assert row.flags == "not-on-chain" and not row.verified


async def test_offline_keeps_what_is_stored_and_moves_statuses_on(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW)
    config = await served(sim, nostr_relays(1))
    try:
        await sync_angor(config)
    finally:
        await sim.stop()
    before = {p.project_id: p.raised_sats for p in AngorProject.select()}
    offline = AngorConfig(enabled=True, network="Angornet", relays=(f"ws://127.0.0.1:{free_port()}/",),
                          indexer_url=f"http://127.0.0.1:{free_port()}", timeout=2)
    clock.freeze(NOW + 400 * DAY)  # every funding window and stage is over by now
    result = await sync_angor(offline)
    assert not result.ok and "No Angor relay answered" in result.error and "On-chain data unavailable" in result.error
    assert {p.project_id: p.raised_sats for p in AngorProject.select()} == before
    statuses = {p.status for p in AngorProject.select()}
    assert statuses <= {"completed", "failed"} and "funding" not in statuses


async def test_export_projects_csv_and_json(nostr_relays, store, capsys):
    sim = AngorSimulator(seed=5, now=NOW)
    config = await served(sim, nostr_relays(1))
    try:
        await sync_angor(config)
    finally:
        await sim.stop()
    assert cli_main(["--db", str(store), "export", "projects", "--format", "json", "-o", "-"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert len(exported) == len(sim.world.projects)
    by_id = {row["project_id"]: row for row in exported}
    for project in sim.world.projects:
        row = by_id[project.project_id]
        assert row["verified"] == (project.label not in BAD)
        assert row["stages"] == len(project.info["stages"])
        assert row["raised_sats"] == (project.net_sats if project.is_dynamic else project.gross_sats)
        assert row["raised_source"] == ("esplora" if project.is_dynamic else "indexer")
    required = {"project_id", "name", "status", "network", "target_sats", "raised_sats", "investors", "start", "end",
                "expiry", "stages", "verified", "flags"}
    assert required <= set(exported[0])
    assert cli_main(["--db", str(store), "export", "projects", "-o", "-"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["flags"] for r in table} == {"", "event-differs", "id-mismatch"}
    assert {r["verified"] for r in table} == {"true", "false"}
