"""JSON nested too deeply inside a signed event's content is a skipped event, not a crashed sync (review D4).

The relay client refuses a *message* nested too deeply (tests/test_angor_relay_hostile.py); an event's
``content`` is parsed again later, and a signature says nothing about its depth.
"""

from __future__ import annotations

import pytest

from cftui.angor import profiles, projectinfo
from cftui.angor.events import sign

DEEP = '{"a":' * 3000 + "1" + "}" * 3000


def test_projectinfo_content_nested_too_deeply_is_a_projectinfo_error():
    with pytest.raises(projectinfo.ProjectInfoError):
        projectinfo.parse(DEEP, network="Main")
    assert projectinfo.pattern_by_id(DEEP) == {}


def test_a_profile_nested_too_deeply_is_ignored():
    key = bytes.fromhex("11" * 32)
    deep = sign(key, 0, DEEP, created_at=1_800_000_000)
    assert profiles.merge([deep]) == {}
    # Ignored, not kept as the newest: the author's last readable profile still stands.
    readable = sign(key, 0, '{"name": "Roof fund"}', created_at=1_700_000_000)
    [profile] = profiles.merge([readable, deep]).values()
    assert profile.values["name"] == "Roof fund" and profile.event_created == 1_700_000_000
