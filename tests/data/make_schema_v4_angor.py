"""Writes tests/data/schema_v4_angor.sql: the dump of a schema-version-4 store with Angor rows.

Run once with a cftui whose store is at schema 4 (it was run at commit 979509b):
``python tests/data/make_schema_v4_angor.py``; commit the .sql. The migration test
loads it as an old user's store would be found on disk: penalties stored by
the version that counted refunds among them.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from cftui.store.angor_models import AngorInvestment, AngorProject, AngorStage
from cftui.store.db import SCHEMA_VERSION, open_database

T0 = 1_767_225_600


def main() -> None:
    assert SCHEMA_VERSION == 4, "run this with a cftui whose store is at schema 4"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v4.sqlite"
        db = open_database(path)
        with db.atomic():
            AngorProject.create(
                project_id="angor1qv4project", network="Angornet", name="Failed Garden", founder_key="02" + "0a" * 32,
                founder_recovery_key="03" + "0b" * 32, nostr_pubkey="0c" * 32, event_id="0d" * 32,
                event_pubkey="0c" * 32, event_kind=3030, event_created=T0, creation_txid="0e" * 32, created_block=100,
                target_sats=5_000_000, start_time=T0, end_time=T0 + 30 * 86_400, expiry_time=T0 + 200 * 86_400,
                penalty_days=30, raised_sats=1_485_000, raised_source="esplora", investor_count=2,
                founder_spent_sats=0, penalties_count=1, penalties_sats=990_000, status="failed", verified=True,
                content='{"networkName":"Angornet"}', stats_time=T0, synced_time=T0,
            )
            AngorStage.create(project="angor1qv4project", index=0, release_time=T0 + 40 * 86_400, percent="100",
                              amount_sats=1_485_000)
            AngorInvestment.create(project="angor1qv4project", investor_key="02" + "1f" * 32, txid="2f" * 32,
                                   amount_sats=990_000, block_height=101, time=T0 + 600)
        db.close()
        dump = "\n".join(sqlite3.connect(path).iterdump()) + "\n"
    (Path(__file__).parent / "schema_v4_angor.sql").write_text(dump, encoding="utf-8")


if __name__ == "__main__":
    main()
