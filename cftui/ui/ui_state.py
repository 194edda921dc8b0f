"""Small UI state remembered across runs (the active tab), kept next to the store.

A JSON file beside the database rather than a row in the store: writing it
never waits on a sync holding the SQLite write lock, and a demo store keeps
its own state.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from cftui.private_files import write_private

log = logging.getLogger(__name__)


def state_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".ui.json")


def load(db_path: Path) -> dict[str, str]:
    try:
        data = json.loads(state_path(db_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def save(db_path: Path, state: dict[str, str]) -> None:
    if str(db_path) == ":memory:":
        return
    path = state_path(db_path)
    try:
        # Owner-only, like the store beside it; no fsync: losing a tab switch to a crash is fine.
        write_private(path, json.dumps(state, sort_keys=True), durable=False)
    except OSError as exc:  # losing the remembered tab is not worth an error
        log.warning("could not save UI state to %s: %s", path, exc)
