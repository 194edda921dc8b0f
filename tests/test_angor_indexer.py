"""The Angor indexer API: the contract's samples, and both servers' paging against the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from cftui.angor import indexer
from cftui.angor.indexer import AngorIndexer, IndexerDataError
from cftui.sim.angor import AngorSimulator

DATA = Path(__file__).parent / "data" / "angor"
NOW = 1_800_000_000


def sample(name: str):
    return json.loads((DATA / name).read_text())


def test_samples_parse():
    (listed,) = [indexer.parse_project(p) for p in sample("projects.json")]
    one = indexer.parse_project(sample("project.json"))
    assert listed.project_id == one.project_id == "angor1qtp7e8yccmwdl3xjv634dd9edxc5jp3d2y36h8h"
    assert one.nostr_event_id == "6f3cd1f2f5023f16054591b5cde7f812aa64fd46b16ee9e2457d2aecab346b80"
    assert (one.created_block, one.investment_count, listed.investment_count) == (155587, 3, None)
    stats = indexer.parse_stats(sample("project-stats.json"))
    assert (stats.investor_count, stats.amount_invested_sats, stats.founder_spent_sats) == (
        3,
        2_600_000_000,
        600_000_000,
    )
    assert (stats.penalties_sats, stats.penalties_count) == (2_000_000_000, 3)
    investments = [indexer.parse_investment(i) for i in sample("project-investments.json")]
    assert sum(i.amount_sats for i in investments) == stats.amount_invested_sats
    assert indexer.parse_investment(sample("project-investment.json")) in investments
    assert not any(i.is_seeder for i in investments)


def test_blockcore_omits_nulls_and_may_have_no_event_id():
    data = {k: v for k, v in sample("project.json").items() if k not in ("nostrEventId", "totalInvestmentsCount")}
    project = indexer.parse_project(data)
    assert project.nostr_event_id == "" and project.investment_count is None


@pytest.mark.parametrize("broken", [{"investorCount": "3"}, {"amountInvested": None}, {"investorCount": True}])
def test_bad_stats_are_refused(broken):
    with pytest.raises(IndexerDataError):
        indexer.parse_stats({**sample("project-stats.json"), **broken})


@pytest.fixture
async def served(request):
    pagination = getattr(request, "param", "M")
    sim = AngorSimulator(seed=3, now=NOW, extra_projects=117, pagination=pagination)
    _, url = await sim.start()
    async with aiohttp.ClientSession() as client:
        yield sim, AngorIndexer(url, client)
    await sim.stop()


@pytest.mark.parametrize("served", ["M", "B"], indirect=True)
async def test_project_list_pages_through_both_servers(served):
    sim, api = served
    projects = await api.projects()
    assert sorted(p.project_id for p in projects) == sorted(sim.by_id)
    assert len(sim.by_id) > 2 * indexer.PAGE  # really paged
    # `offset` is omitted on the first call and never sent empty.
    listing = [r for r in sim.requests if r.startswith("/api/v1/query/Angor/projects?")]
    assert "offset" not in listing[0]
    assert all("offset=&" not in r and not r.endswith("offset=") for r in listing)


async def test_empty_offset_is_what_the_mempool_fork_refuses(served):
    sim, api = served
    async with aiohttp.ClientSession() as client:
        async with client.get(api.base + "/projects", params={"limit": 10, "offset": ""}) as response:
            assert response.status == 400


async def test_investments_page_oldest_first(served, monkeypatch):
    sim, api = served
    monkeypatch.setattr(indexer, "PAGE", 2)
    project = next(p for p in sim.world.projects if len(p.investments) >= 3)
    investments = await api.investments(project.project_id)
    assert [i.txid for i in investments] == [i.txid for i in project.investments]
    assert sum(i.amount_sats for i in investments) == project.gross_sats


async def test_unknown_project_is_none(served):
    _, api = served
    assert await api.project("angor1qnothere") is None
    assert await api.stats("angor1qnothere") is None


async def test_server_without_the_angor_api():
    sim = AngorSimulator(seed=3, now=NOW, indexer_api=False)
    _, url = await sim.start()
    try:
        async with aiohttp.ClientSession() as client:
            assert await AngorIndexer(url, client).projects() is None
    finally:
        await sim.stop()
