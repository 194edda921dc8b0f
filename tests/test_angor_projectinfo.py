"""ProjectInfo parsing per CONTRACT.md §3.4."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cftui.angor import projectinfo
from cftui.angor.projectinfo import ProjectInfoError

FOUNDER = "02070d174561688500aac733116dbe70c5ab7480559d25e1c040f480491870c8ba"
BASE = {
    "founderKey": FOUNDER,
    "founderRecoveryKey": "03" + "11" * 32,
    "projectIdentifier": "angor1quc59k4kt0nv62xhj72xtqfmzk55cexxmf6pkz7",
    "nostrPubKey": "ab" * 32,
    "startDate": 1_750_000_000,
    "endDate": 1_751_000_000,
    "penaltyDays": 30,
    "expiryDate": 1_760_000_000,
    "targetAmount": 2_000_000,
    "stages": [
        {"amountToRelease": 33.33, "releaseDate": 1_752_000_000},
        {"amountToRelease": 66.67, "releaseDate": 1_753_000_000},
    ],
    "networkName": "Angornet",
    "version": 2,
    "projectType": 0,
}


def content(**changes) -> str:
    data = {**BASE, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...})


def test_invest_project_reads_sats_unix_seconds_and_exact_percentages():
    info = projectinfo.parse(content(futureField={"x": 1}, hasPenalty=True), network="Angornet")
    assert info.target_sats == 2_000_000
    assert (info.start_time, info.end_time, info.expiry_time) == (1_750_000_000, 1_751_000_000, 1_760_000_000)
    assert [s.percent for s in info.stages] == [Decimal("33.33"), Decimal("66.67")]
    assert sum(s.percent for s in info.stages) == 100
    assert info.project_type == 0 and info.version == 2 and info.penalty_days == 30


@pytest.mark.parametrize("ptype", [1, 2])
def test_fund_and_subscribe_have_no_end_date_and_no_stages(ptype):
    # C# writes DateTime.MinValue for the missing end date.
    info = projectinfo.parse(
        content(projectType=ptype, endDate=-62135596800, stages=[], targetAmount=0, penaltyThreshold=0),
        network="Angornet",
    )
    assert info.project_type == ptype
    assert info.end_time is None and info.stages == ()
    assert info.target_sats == 0 and info.penalty_threshold_sats is None


def test_missing_version_and_type_read_as_the_c_sharp_models_defaults():
    # ProjectInfo.cs: `public int Version { get; set; } = 2;`, ProjectType defaults to Invest (0).
    info = projectinfo.parse(content(version=..., projectType=...), network="Angornet")
    assert (info.version, info.project_type) == (2, 0)


# The app writes AngorNetwork.Name; it wrote nothing before 2026-03-19, and those legacy projects are test-network
# ones (LatestProjects.cs: an empty name matches any network but Main and Liquid). Names compare without regard to
# case, in the spellings InvestView.razor's NormalizeNetworkName accepts.
@pytest.mark.parametrize(
    ("name", "network"),
    [
        (..., "Angornet"),
        ("", "Angornet"),
        ("  ", "Angornet"),
        (None, "Angornet"),
        ("Angornet", "Angornet"),
        ("angornet", "Angornet"),
        ("ANGORNET", "Angornet"),
        ("testnet", "Angornet"),
        ("test", "Angornet"),
        ("Main", "Main"),
        ("main", "Main"),
        ("MAINNET", "Main"),
        ("bitcoin", "Main"),
    ],
)
def test_network_names_the_app_accepts(name, network):
    assert projectinfo.parse(content(networkName=name), network=network).network == network


@pytest.mark.parametrize(
    ("name", "network"),
    [
        (..., "Main"),
        ("", "Main"),
        ("Angornet", "Main"),
        ("testnet", "Main"),
        ("Main", "Angornet"),
        ("bitcoin", "Angornet"),
        ("Liquid", "Angornet"),
        ("Signet", "Angornet"),
        ("Testnet4", "Angornet"),
    ],
)
def test_other_networks_are_skipped(name, network):
    with pytest.raises(ProjectInfoError) as exc:
        projectinfo.parse(content(networkName=name), network=network)
    assert exc.value.reason == "wrong network"


def test_iso_dates_of_old_events_are_read():
    info = projectinfo.parse(content(startDate="2023-10-01T00:00:00Z"), network="Angornet")
    assert info.start_time == 1_696_118_400


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("hello, not json", "not a ProjectInfo (content is not a JSON object)"),
        ("[1,2]", "not a ProjectInfo (content is not a JSON object)"),
        ("{broken", "malformed ProjectInfo JSON"),
        (content(networkName="Main"), "wrong network"),
        (content(networkName=3), "bad networkName"),
        (content(projectType=7), "unknown projectType"),
        (content(founderKey="02abc"), "missing or bad founderKey"),
        (content(projectIdentifier="bc1qxyz"), "missing or bad projectIdentifier"),
        (content(targetAmount="lots"), "bad targetAmount"),
        (content(stages=[{"amountToRelease": 50}]), "bad stages"),
        (content(stages=[{"amountToRelease": 150, "releaseDate": 1}]), "bad stages"),
    ],
)
def test_bad_content_is_skipped_with_a_reason(raw, reason):
    with pytest.raises(ProjectInfoError) as exc:
        projectinfo.parse(raw, network="Angornet")
    assert exc.value.reason == reason


def test_schedule_patterns_describe_each_dynamic_pattern_and_survive_odd_content():
    from cftui.angor.projectinfo import schedule_patterns

    content = json.dumps(
        {
            "dynamicStagePatterns": [
                {
                    "patternId": 5,
                    "name": "Quarterly x4",
                    "frequency": 4,
                    "stageCount": 4,
                    "payoutDayType": 1,
                    "payoutDay": 15,
                    "amount": 250000,
                },
                {"patternId": 7, "frequency": 99},  # a frequency from a newer app: still listed
                "not a pattern",
            ]
        }
    )
    assert schedule_patterns(content) == [
        "Quarterly x4: 4 stages, quarterly, on day 15 of the month; 250,000 sats",
        "pattern 7: on its own schedule, counted from the day of the investment",
    ]
    assert schedule_patterns("{}") == [] and schedule_patterns("not json") == []
