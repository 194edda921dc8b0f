"""Angor sync end to end: real relays, the simulator's indexer/esplora, a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest
from angor_relay import free_port, publish

from cftui import clock
from cftui.angor import events, identity
from cftui.angor.status import status_raised
from cftui.cli import main as cli_main
from cftui.config import AngorConfig
from cftui.sim.angor import AngorSimulator
from cftui.sim.angor_data import DAY, FOUNDER, PENALTY, REFUND, investment_start, secret
from cftui.store.angor_models import AngorInvestment, AngorProfile, AngorProject, AngorStage
from cftui.sync.angor import sync_angor
from cftui.sync.events import SyncResult

NOW = 1_800_000_000
BAD = {"event-differs", "id-mismatch"}


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def store(db, store_args):
    """The open store, as the flag that points the CLI at it."""
    return store_args


async def served(sim: AngorSimulator, relays: list[str]) -> AngorConfig:
    for url in relays:
        await publish(url, sim.events)
    _, indexer = await sim.start()
    dead = f"ws://127.0.0.1:{free_port()}/"
    return AngorConfig(enabled=True, network="Angornet", relays=(dead, *relays), indexer_url=indexer, timeout=5)


async def synced(sim: AngorSimulator, relays: list[str]) -> SyncResult:
    """One sync against ``sim`` served to ``relays``; the simulator stops after it."""
    config = await served(sim, relays)
    try:
        return await sync_angor(config)
    finally:
        await sim.stop()


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
            # The indexer counts every recovery-path spend as a penalty: refunds cannot be told apart there.
            assert row.penalties_sats == project.spent_sats(PENALTY) + project.spent_sats(REFUND)
            assert row.refunds_sats is None and row.refunds_count is None
        assert row.investor_count == len({i.investor_key for i in project.investments})
        assert row.name and row.name == AngorProfile.get_by_id(project.event.pubkey).name
        assert AngorInvestment.select().where(AngorInvestment.project == row).count() == len(project.investments)
        # The stages hold the net: the indexer's gross less the 1% fee.
        net = status_raised(row.raised_sats, row.raised_source)
        assert sum(s.amount_sats for s in row.stages) == (net if project.info["stages"] else 0)
    active = AngorProject.get(AngorProject.status == "active")
    assert active.penalties_count == 1 and active.penalties_sats > 0 and active.founder_spent_sats > 0
    profile = AngorProfile.get_by_id(sim.world.projects[0].event.pubkey)
    assert profile.description and json.loads(profile.faq)[0]["question"]
    # Nothing changed on the second run.
    assert again.ok and (again.new, again.updated, again.unchanged) == (0, 0, len(sim.world.projects))


async def test_l7_the_sync_summary_adds_up_events_and_projects_each_in_its_unit(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW)
    result = await synced(sim, nostr_relays(1))
    assert result.ok, result.error
    assert result.new == len(sim.world.projects) == AngorProject.select().count()
    assert result.skipped_total <= result.fetched  # what was skipped was read
    summary = result.summary()
    assert summary.startswith(f"angor: {result.fetched} events read, {result.skipped_total} skipped; "
                              f"{result.new} projects: {result.new} new, 0 updated, 0 unchanged in ")


async def test_esplora_sync_reads_net_amounts_and_exact_stage_spends(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW, indexer_api=False)
    result = await synced(sim, nostr_relays(1))
    assert result.ok, result.error
    for project in sim.world.projects:
        row = AngorProject.get(AngorProject.project_id == project.project_id)
        assert row.raised_source == "esplora"
        assert row.raised_sats == project.net_sats < project.gross_sats or not project.investments
        assert row.verified == (project.label not in BAD)
    completed = AngorProject.get(AngorProject.status == "completed")
    assert all(s.released and s.spent_sats == s.amount_sats > 0 for s in completed.stages)
    assert completed.founder_spent_sats == completed.raised_sats


async def test_l7_an_investment_is_dated_inside_its_projects_window_not_years_before(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW, indexer_api=False)
    result = await synced(sim, nostr_relays(1))
    assert result.ok, result.error
    for project in sim.world.projects:
        row = AngorProject.get_by_id(project.project_id)
        for inv in AngorInvestment.select().where(AngorInvestment.project == row):
            assert row.start_time <= inv.time <= NOW, (project.label, inv.time, row.start_time)


async def test_esplora_sync_tells_founder_spends_penalties_and_refunds_apart(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW, indexer_api=False)
    result = await synced(sim, nostr_relays(1))
    assert result.ok, result.error
    kinds = {who for p in sim.world.projects for i in p.investments for who, _ in i.spends.values()}
    assert kinds == {FOUNDER, PENALTY, REFUND}  # the default data has each
    for project in sim.world.projects:
        row = AngorProject.get(AngorProject.project_id == project.project_id)
        assert row.founder_spent_sats == project.spent_sats(FOUNDER), project.label
        assert (row.penalties_sats, row.penalties_count) == (project.spent_sats(PENALTY), project.spend_count(PENALTY))
        assert (row.refunds_sats, row.refunds_count) == (project.spent_sats(REFUND), project.spend_count(REFUND))
        by_stage = [sum(i.stage_values[n] for i in project.investments if i.spends.get(n, ("",))[0] == FOUNDER)
                    for n in range(len(project.info["stages"]))]
        assert [s.spent_sats for s in row.stages.order_by(AngorStage.index)] == by_stage
    active = AngorProject.get(AngorProject.status == "active")
    assert active.founder_spent_sats > 0 and active.penalties_count == 1 and active.refunds_count == 0
    refunded = [p for p in sim.world.projects if p.spent_sats(REFUND)]
    assert refunded and all(p.label == "failed" for p in refunded)
    assert all(AngorProject.get_by_id(p.project_id).penalties_sats == 0 for p in refunded)


async def test_esplora_sync_keeps_what_each_investor_took_back_and_the_indexer_leaves_it_unknown(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW, indexer_api=False)
    result = await synced(sim, nostr_relays(1))
    assert result.ok, result.error
    for project in sim.world.projects:
        stored = {i.txid: i for i in AngorInvestment.select().join(AngorProject).where(
            AngorProject.project_id == project.project_id)}
        for inv in project.investments:
            row = stored[inv.txid]
            # Refunds (unfunded releases) come straight back; a penalty waits in the penalty lock.
            assert (row.refunded_sats, row.recovered_sats, row.penalty_sats) == (
                inv.spent_sats(REFUND), inv.spent_sats(REFUND), inv.spent_sats(PENALTY)), project.label
    took_back = AngorInvestment.select().where((AngorInvestment.refunded_sats > 0) | (AngorInvestment.penalty_sats > 0))
    assert {i.project.status for i in took_back} == {"failed", "active"}
    indexed = AngorSimulator(seed=5, now=NOW)
    store_again = await synced(indexed, nostr_relays(1))
    assert store_again.ok
    invest = AngorInvestment.select().join(AngorProject).where(AngorProject.raised_source == "indexer")
    assert invest.count() and all(i.recovered_sats is None and i.penalty_sats is None for i in invest)


async def test_projects_without_a_network_name_or_with_another_spelling_are_angornet_projects(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW)
    names = {p.project_id: p.info.get("networkName") for p in sim.world.projects}
    assert {None, "angornet", "testnet", "test", "Angornet"} <= set(names.values())  # the default data has each
    result = await synced(sim, nostr_relays(1))
    assert result.ok and result.skipped["wrong network"] == 1  # only the event that says Main
    stored = {row.project_id: row for row in AngorProject.select()}
    assert set(stored) == set(names)
    assert all(row.network == "Angornet" for row in stored.values())
    legacy = [pid for pid, name in names.items() if name is None]
    assert all(stored[pid].verified and json.loads(stored[pid].content).get("networkName") is None for pid in legacy)


async def test_a_cancelled_run_stores_nothing_more_and_says_so(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW)
    config = await served(sim, nostr_relays(1))
    cancel = threading.Event()
    cancel.set()  # seen at the first check, after discovery
    seen = []
    try:
        result = await sync_angor(config, reporter=seen.append, cancel=cancel)
    finally:
        await sim.stop()
    assert result.error == "Angor sync was cancelled; what was read so far is stored."
    assert result.fetched > 0 and AngorProject.select().count() == 0
    assert [type(e).__name__ for e in seen] == ["SyncStarted", "SyncProgress", "SyncFinished"]


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
        # Newer than anything stored.
        late = events.sign(key, 3030, json.dumps(info, default=str), created_at=NOW + 30 * DAY)
        await publish(url, [late])
        result = await sync_angor(config)
    finally:
        await sim.stop()
    assert result.ok and result.new == 1 and result.unchanged == len(sim.world.projects)
    row = AngorProject.get(AngorProject.project_id == info["projectIdentifier"])
    assert row.flags == "not-on-chain" and not row.verified


async def test_offline_keeps_what_is_stored_and_moves_statuses_on(nostr_relays, store):
    sim = AngorSimulator(seed=5, now=NOW)
    await synced(sim, nostr_relays(1))
    before = {p.project_id: p.raised_sats for p in AngorProject.select()}
    offline = AngorConfig(
        enabled=True,
        network="Angornet",
        relays=(f"ws://127.0.0.1:{free_port()}/",),
        indexer_url=f"http://127.0.0.1:{free_port()}",
        timeout=2,
    )
    clock.freeze(NOW + 400 * DAY)  # every funding window and stage is over by now
    result = await sync_angor(offline)
    assert not result.ok and "No Angor relay answered" in result.error and "On-chain data unavailable" in result.error
    assert {p.project_id: p.raised_sats for p in AngorProject.select()} == before
    statuses = {p.status for p in AngorProject.select()}
    assert statuses <= {"completed", "failed"} and "funding" not in statuses
    # Recomputed from what is stored, still by the net amount: the indexer's gross figure meets the target,
    # the stage outputs (gross less the 1 % fee) do not.
    (near,) = [p for p in sim.world.projects if p.label == "failed" and p.gross_sats >= p.info["targetAmount"]]
    row = AngorProject.get_by_id(near.project_id)
    assert row.raised_source == "indexer" and row.raised_sats >= row.target_sats and row.status == "failed"


async def test_export_projects_csv_and_json(nostr_relays, store, capsys):
    sim = AngorSimulator(seed=5, now=NOW)
    await synced(sim, nostr_relays(1))
    assert cli_main([*store, "export", "projects", "--format", "json", "-o", "-"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert len(exported) == len(sim.world.projects)
    by_id = {row["project_id"]: row for row in exported}
    for project in sim.world.projects:
        row = by_id[project.project_id]
        assert row["verified"] == (project.label not in BAD)
        assert row["stages"] == len(project.info["stages"])
        assert row["raised_sats"] == (project.net_sats if project.is_dynamic else project.gross_sats)
        assert row["raised_source"] == ("esplora" if project.is_dynamic else "indexer")
        assert row["founder_spent_sats"] == project.spent_sats(FOUNDER)
        # Refunds are known on the chain only; the indexer counts them in with the penalties.
        recovered = project.spent_sats(PENALTY) + project.spent_sats(REFUND)
        assert (row["penalties_sats"], row["refunds_sats"]) == (
            (recovered, None)
            if row["raised_source"] == "indexer"
            else (project.spent_sats(PENALTY), project.spent_sats(REFUND))
        )
    required = {
        "project_id",
        "name",
        "status",
        "network",
        "target_sats",
        "raised_sats",
        "investors",
        "start",
        "end",
        "expiry",
        "stages",
        "verified",
        "flags",
        "founder_spent_sats",
        "penalties_count",
        "penalties_sats",
        "refunds_count",
        "refunds_sats",
    }
    assert required <= set(exported[0])
    assert cli_main([*store, "export", "projects", "-o", "-"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["flags"] for r in table} == {"", "event-differs", "id-mismatch"}
    assert {r["verified"] for r in table} == {"true", "false"}
    assert {r["refunds_sats"] for r in table if r["raised_source"] == "indexer"} == {""}  # unknown, not zero


async def test_syncs_at_once_store_every_project_once(nostr_relays, store):
    """Daemons with Angor on one store (threads here: a connection each, as processes have)."""
    import asyncio

    from cftui.store.models import database

    sim = AngorSimulator(seed=5, now=NOW)
    config = await served(sim, nostr_relays(1))

    def one_sync() -> SyncResult:
        try:
            return asyncio.run(sync_angor(config))
        finally:
            database.close()  # this thread's connection

    try:
        results = await asyncio.gather(*(asyncio.to_thread(one_sync) for _ in range(4)))
    finally:
        await sim.stop()
    assert all(r.ok for r in results), [r.error for r in results]
    assert sum(r.new for r in results) == len(sim.world.projects)  # each project was new to exactly one of them
    assert AngorProject.select().count() == len(sim.world.projects)
    assert AngorInvestment.select().count() == sum(len(p.investments) for p in sim.world.projects)


async def test_each_run_is_remembered_like_a_btcpay_stores_so_the_status_line_is_right_after_a_restart(
    nostr_relays, store
):
    """The store keeps Angor's last success and its last error, as it does a BTCPay store's: a dashboard started
    later (or another process's, on a team store) shows "Angor ✓ …" or why the last run failed."""
    from cftui.store.queries import sync_states

    assert sync_states(["angor"]) == []
    assert (await synced(AngorSimulator(seed=5, now=NOW), nostr_relays(1))).ok
    (state,) = sync_states(["angor"])
    assert (state.source, state.last_success_time, state.last_error) == ("angor", NOW, None)

    clock.freeze(NOW + 60)
    offline = AngorConfig(enabled=True, network="Angornet", relays=(f"ws://127.0.0.1:{free_port()}/",),
                          indexer_url=f"http://127.0.0.1:{free_port()}", timeout=2)  # fmt: skip
    result = await sync_angor(offline)
    (state,) = sync_states(["angor"])
    assert state.last_success_time == NOW and state.last_error == result.error and "No Angor relay" in state.last_error
