"""The typed rows an Angor sync writes match the tables they are written to."""

from __future__ import annotations

from dataclasses import fields

from cftui.angor.store import ProjectRow, StageRow
from cftui.store.angor_models import AngorProject, AngorStage


def test_each_typed_row_has_one_field_per_column():
    # A column added to the model without its field (or a field without its column) fails here, not at insert time.
    assert {f.name for f in fields(ProjectRow)} == set(AngorProject._meta.fields)
    assert {f.name for f in fields(StageRow)} == set(AngorStage._meta.fields) - {"id", "project"}
