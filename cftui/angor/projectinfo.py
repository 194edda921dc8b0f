"""ProjectInfo: the JSON content of a kind-3030 (or legacy kind-30078) event.

Read per CONTRACT.md §3.4: amounts are integer sats, stage shares are decimal
percentages (0-100), dates are unix seconds (older testnet events may carry
ISO strings, which are accepted too). A date <= 0 (C#'s DateTime.MinValue for
Fund/Subscribe projects) and an amount <= 0 read as "none". Unknown fields,
including the computed booleans the C# serializer emits, are ignored. Anything
else that does not fit raises :class:`ProjectInfoError` whose ``reason`` is the
key the sync counts skipped events by.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cftui import clock

PROJECT_KINDS = (3030, 30078)
PROJECT_TYPES = {0: "invest", 1: "fund", 2: "subscribe"}


class ProjectInfoError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Stage:
    percent: Decimal  # share of the amount invested, 0-100
    release_time: int


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    project_id: str
    network: str
    version: int
    project_type: int
    founder_key: str
    founder_recovery_key: str | None
    nostr_pubkey: str
    target_sats: int  # 0 when none
    start_time: int | None
    end_time: int | None
    expiry_time: int | None
    penalty_days: int
    penalty_threshold_sats: int | None
    stages: tuple[Stage, ...]


def parse(content: str, *, network: str) -> ProjectInfo:
    """Parse ``content`` and keep it only if it is for ``network`` (``Main``/``Angornet``)."""
    # Other apps publish kind 3030 too, with non-JSON content (CONTRACT.md §3.2).
    if not content.lstrip().startswith("{"):
        raise ProjectInfoError("not a ProjectInfo (content is not a JSON object)")
    try:
        data = json.loads(content, parse_float=Decimal)  # stage percentages stay exact
    except (ValueError, RecursionError):  # a signature says nothing about how deep the JSON nests
        raise ProjectInfoError("malformed ProjectInfo JSON") from None
    if not isinstance(data, dict):
        raise ProjectInfoError("malformed ProjectInfo JSON")
    if not is_for_network(data.get("networkName"), network):
        raise ProjectInfoError("wrong network")
    project_type = _int(data, "projectType", default=0)
    if project_type not in PROJECT_TYPES:
        raise ProjectInfoError("unknown projectType")
    return ProjectInfo(
        project_id=_text(data, "projectIdentifier", prefix="angor1"),
        network=network,
        # As the C# model: `Version { get; set; } = 2` (v1 and v2 share the id rule; v3 is not written by the app).
        version=_int(data, "version", default=2),
        project_type=project_type,
        founder_key=_hex(data, "founderKey", 66),
        founder_recovery_key=_hex(data, "founderRecoveryKey", 66) if data.get("founderRecoveryKey") else None,
        nostr_pubkey=_hex(data, "nostrPubKey", 64),
        target_sats=max(_int(data, "targetAmount", default=0), 0),
        start_time=_time(data, "startDate"),
        end_time=_time(data, "endDate"),
        expiry_time=_time(data, "expiryDate"),
        penalty_days=max(_int(data, "penaltyDays", default=0), 0),
        penalty_threshold_sats=_positive_or_none(_int(data, "penaltyThreshold", default=0)),
        stages=_stages(data.get("stages") or []),
    )


# InvestView.razor NormalizeNetworkName: the spellings the app reads as each network.
NETWORK_ALIASES = {"main": "Main", "mainnet": "Main", "bitcoin": "Main",
                   "angornet": "Angornet", "testnet": "Angornet", "test": "Angornet"}
# Networks where a ProjectInfo without a name is not at home (LatestProjects.cs IsMatchingNetwork).
NAMED_ONLY = {"main", "liquid"}


def is_for_network(name: Any, network: str) -> bool:
    """Whether a ProjectInfo whose ``networkName`` is ``name`` belongs on ``network``, as the app decides.

    The app wrote no ``networkName`` before 2026-03-19 (angor a1ae989eb), and such a project is a
    test-network one: it matches any network but Main and Liquid. A name compares without regard to case,
    in any spelling the app accepts.
    """
    if name is None or (isinstance(name, str) and not name.strip()):
        return network.lower() not in NAMED_ONLY
    if not isinstance(name, str):
        raise ProjectInfoError("bad networkName")
    return NETWORK_ALIASES.get(name.strip().lower(), name.strip()).lower() == network.lower()


def _text(data: dict[str, Any], key: str, *, prefix: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.startswith(prefix):
        raise ProjectInfoError(f"missing or bad {key}")
    return value


def _hex(data: dict[str, Any], key: str, length: int) -> str:
    value = _text(data, key).lower()
    if len(value) != length or any(c not in "0123456789abcdef" for c in value):
        raise ProjectInfoError(f"missing or bad {key}")
    return value


def _int(data: dict[str, Any], key: str, *, default: int) -> int:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProjectInfoError(f"bad {key}")
    return value


def _positive_or_none(value: int) -> int | None:
    return value if value > 0 else None


def _time(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):  # pre-Nov-2023 events wrote ISO strings
        try:
            value = clock.parse_date(value)
        except ValueError:
            raise ProjectInfoError(f"bad {key}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProjectInfoError(f"bad {key}")
    return value if value > 0 else None


def _stages(raw: Any) -> tuple[Stage, ...]:
    if not isinstance(raw, list):
        raise ProjectInfoError("bad stages")
    stages = []
    for item in raw:
        if not isinstance(item, dict):
            raise ProjectInfoError("bad stages")
        amount = item.get("amountToRelease")
        if isinstance(amount, bool) or not isinstance(amount, int | str | Decimal):
            # JSON numbers with a fraction arrive as Decimal (parsed with parse_float=Decimal), never float.
            raise ProjectInfoError("bad stages")
        try:
            percent = Decimal(str(amount))
        except InvalidOperation:
            raise ProjectInfoError("bad stages") from None
        release = _time(item, "releaseDate")
        if release is None or not (0 <= percent <= 100):
            raise ProjectInfoError("bad stages")
        stages.append(Stage(percent, release))
    return tuple(stages)


# DynamicStagePattern (contract §3.4): how a Fund or Subscribe investment's stages are dated.
# Keyed by object: a pattern's "frequency" is looked up as the JSON has it, whatever its type.
FREQUENCIES: dict[object, str] = {0: "weekly", 1: "every 2 weeks", 2: "monthly", 3: "every 2 months", 4: "quarterly"}
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _patterns(content: str) -> list[dict[str, Any]]:
    """The ``dynamicStagePatterns`` of a stored ProjectInfo (lenient: it was validated when synced)."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return []
    patterns = data.get("dynamicStagePatterns") if isinstance(data, dict) else None
    return [p for p in patterns if isinstance(p, dict)] if isinstance(patterns, list) else []


def pattern_by_id(content: str) -> dict[int, dict[str, Any]]:
    """The patterns an investment can name by ``patternId`` (see :mod:`cftui.angor.schedule`)."""
    return {p["patternId"]: p for p in _patterns(content) if isinstance(p.get("patternId"), int)}


def schedule_patterns(content: str) -> list[str]:
    """One line per pattern, for people to read; one this reader does not understand is described as far as it
    can be."""
    return [_describe_pattern(p) for p in _patterns(content)]


def _describe_pattern(pattern: dict[str, Any]) -> str:
    name = pattern.get("name") or f"pattern {pattern.get('patternId', '?')}"
    count = pattern.get("stageCount")
    frequency = FREQUENCIES.get(pattern.get("frequency"), "on its own schedule")
    day_type, day = pattern.get("payoutDayType"), pattern.get("payoutDay")
    if day_type == 1 and isinstance(day, int):
        when = f"on day {day} of the month"
    elif day_type == 2 and isinstance(day, int) and 0 <= day < len(WEEKDAYS):
        when = f"on {WEEKDAYS[day]}s"
    else:
        when = "counted from the day of the investment"
    stages = f"{count} stages, " if isinstance(count, int) else ""
    parts = [f"{name}: {stages}{frequency}, {when}"]
    amount = pattern.get("amount")
    if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0:
        parts.append(f"{amount:,} sats")
    return "; ".join(parts)
