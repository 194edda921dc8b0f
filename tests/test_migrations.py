"""Opening an old store upgrades it in place, on both engines; a store from a newer cftui is refused.

The SQLite files of versions 1 and 4 are real dumps of what those versions
wrote. PostgreSQL support came later, so an old PostgreSQL store is made the
portable way: a current one with what the later migrations add taken out again.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from playhouse.migrate import SchemaMigrator, migrate

from cftui.errors import DataError
from cftui.store import queries
from cftui.store.angor_models import ANGOR_MODELS, AngorInvestment, AngorProject
from cftui.store.db import SCHEMA_VERSION, open_database, schema_version
from cftui.store.filters import InvoiceFilter
from cftui.store.models import Invoice, Meta, Payment, Store, SyncState
from cftui.store.webhook_models import WEBHOOK_MODELS, WebhookDelivery

V1_DUMP = Path(__file__).parent / "data" / "schema_v1.sql"


def _load(sql_file: Path, target: Path) -> None:
    with sqlite3.connect(target) as raw:
        raw.executescript(sql_file.read_text(encoding="utf-8"))
    raw.close()


def test_a_version_1_store_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    _load(V1_DUMP, path)
    with sqlite3.connect(path) as raw:
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "invoice" in tables and "webhook_delivery" not in tables  # really a version-1 file

    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION
    assert Meta.get_by_id("schema_version").value == str(SCHEMA_VERSION)
    # Old rows intact, exact.
    invoices = {i.invoice_id: i for i in Invoice.select()}
    assert set(invoices) == {"V1Invoice0", "V1Invoice1", "V1Invoice2"}
    assert (invoices["V1Invoice0"].amount, invoices["V1Invoice0"].amount_e8) == ("25.50", 2_550_000_000)
    assert invoices["V1Invoice2"].btc_paid_sats == 166_650
    assert Payment.select().count() == 2 and SyncState.get_by_id("btcpay:main").backfill_done
    k = queries.kpis()
    assert (k.total, k.settled.sats, k.settled.fiat) == (3, 42_500, {"USD": Decimal("25.5")})
    assert queries.count_invoices(InvoiceFilter(text="order-")) == 3
    # The tables of versions 2 and 3 exist and work.
    for model in (*WEBHOOK_MODELS, *ANGOR_MODELS):
        assert db.table_exists(model._meta.table_name)
    WebhookDelivery.create(received_ms=1, remote="127.0.0.1", path="/webhook/main", headers="{}",
                           verdict="verified", http_status=200)  # fmt: skip
    AngorProject.create(project_id="angor1qx", network="Angornet", founder_key="k", nostr_pubkey="p",
                        event_id="e", event_pubkey="p", event_kind=3030, event_created=1, content="{}",
                        synced_time=1)  # fmt: skip
    assert queries.webhook_summary(0).received_24h == 1 and queries.angor_summary().projects == 1
    db.close()
    # Opening again is a no-op: the version stays, nothing is re-run.
    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION and Invoice.select().count() == 3
    db.close()


def test_a_store_from_a_newer_cftui_is_refused(store_target):
    db = open_database(store_target)
    Meta.update(value="99").where(Meta.key == "schema_version").execute()
    db.close()
    with pytest.raises(DataError, match=rf"newer cftui \(schema 99, this one knows {SCHEMA_VERSION}\)") as caught:
        open_database(store_target)
    assert "Upgrade cftui" in str(caught.value)


def _as_version(db, version: int) -> None:
    """Take out of a current store what the migrations after ``version`` add, and say it is at ``version``."""
    migrator = SchemaMigrator.from_database(db)
    with db.atomic():
        if version < 3:
            db.drop_tables(ANGOR_MODELS)
        if version < 2:
            db.drop_tables(WEBHOOK_MODELS)
        if 3 <= version < 4:
            migrate(*(migrator.drop_column("angor_investment", c) for c in ("schedule_start", "pattern_id", "stage_count")))
        if 3 <= version < 5:
            migrate(*(migrator.drop_column("angor_project", c) for c in ("refunds_count", "refunds_sats")))
        Meta.update(value=str(version)).where(Meta.key == "schema_version").execute()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_older_version_is_upgraded_and_keeps_its_rows(store_target, version):
    db = open_database(store_target)
    store = Store.create(name="main", url="http://btcpay.test", store_id="S1", added_time=1)
    Invoice.create(store=store, invoice_id="kept", status="Settled", additional_status="None", type="Standard",
                   currency="USD", amount="25.50", amount_e8=2_550_000_000, btc_paid_sats=42_500, created_time=1,
                   expiration_time=2, monitoring_time=3, metadata="{}", synced_time=4)  # fmt: skip
    _as_version(db, version)
    db.close()
    assert schema_version(open_database(store_target, migrate=False)) == version

    db = open_database(store_target)
    assert schema_version(db) == SCHEMA_VERSION
    kept = Invoice.get(Invoice.invoice_id == "kept")
    assert (kept.amount, kept.amount_e8, kept.btc_paid_sats) == ("25.50", 2_550_000_000, 42_500)
    # What the later versions added exists and works.
    WebhookDelivery.create(received_ms=1, remote="127.0.0.1", path="/webhook/main", headers="{}",
                           verdict="verified", http_status=200)  # fmt: skip
    AngorProject.create(project_id="angor1qx", network="Angornet", founder_key="k", nostr_pubkey="p", event_id="e",
                        event_pubkey="p", event_kind=3030, event_created=1, content="{}", synced_time=1,
                        refunds_count=1, refunds_sats=5)  # fmt: skip
    AngorInvestment.create(project="angor1qx", investor_key="03ab", txid="t1", amount_sats=1, pattern_id=2)
    assert AngorInvestment.get(AngorInvestment.txid == "t1").pattern_id == 2
    db.close()


def test_a_version_3_store_gains_the_fund_subscribe_schedule_columns_and_keeps_its_investments(tmp_path):
    from cftui.store.angor_models import AngorInvestment

    path = tmp_path / "v3.sqlite"
    db = open_database(path)
    AngorProject.create(project_id="angor1qx", network="Angornet", founder_key="k", nostr_pubkey="p", event_id="e",
                        event_pubkey="p", event_kind=3030, event_created=1, content="{}", synced_time=1)
    AngorInvestment.create(project="angor1qx", investor_key="03ab", txid="t1", amount_sats=99_000)
    db.close()
    # Make it the file version 3 wrote: angor_investment without the three schedule columns.
    with sqlite3.connect(path) as raw:
        for column in ("schedule_start", "pattern_id", "stage_count"):
            raw.execute(f'ALTER TABLE "angor_investment" DROP COLUMN "{column}"')
        raw.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        columns = {row[1] for row in raw.execute('PRAGMA table_info("angor_investment")')}
    raw.close()
    assert "schedule_start" not in columns

    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION >= 4
    kept = AngorInvestment.get(AngorInvestment.txid == "t1")
    assert kept.amount_sats == 99_000 and kept.schedule_start is None
    AngorInvestment.create(project="angor1qx", investor_key="03cd", txid="t2", amount_sats=1, schedule_start=1_735_689_600,
                           pattern_id=2, stage_count=0)
    assert AngorInvestment.get(AngorInvestment.txid == "t2").pattern_id == 2
    db.close()


V4_DUMP = Path(__file__).parent / "data" / "schema_v4.sql"  # written by tests/data/make_schema_v4.py at schema 4


def test_a_version_4_store_gains_the_refund_columns_unknown_until_the_next_sync(tmp_path):
    path = tmp_path / "v4.sqlite"
    _load(V4_DUMP, path)
    with sqlite3.connect(path) as raw:
        columns = {row[1] for row in raw.execute('PRAGMA table_info("angor_project")')}
        (version,) = raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    raw.close()
    assert version == "4" and "penalties_sats" in columns and "refunds_sats" not in columns  # really version 4

    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION == 5
    row = AngorProject.get_by_id("angor1qv4project")
    assert (row.raised_sats, row.penalties_count, row.penalties_sats, row.status) == (1_485_000, 1, 990_000, "failed")
    # Version 4 counted refunds as penalties: which were which is unknown until the chain is read again.
    assert row.refunds_count is None and row.refunds_sats is None
    AngorProject.update(refunds_count=1, refunds_sats=990_000, penalties_count=0, penalties_sats=0).execute()
    assert AngorProject.get_by_id("angor1qv4project").refunds_sats == 990_000
    db.close()
    db = open_database(path)  # a second open is a no-op
    assert schema_version(db) == 5 and AngorProject.get_by_id("angor1qv4project").refunds_count == 1
    db.close()
