"""Opening an old store upgrades it in place, on both engines; a store from a newer cftui is refused.

The SQLite files of versions 1 and 4 are real dumps of what those versions
wrote. PostgreSQL support came later, so an old PostgreSQL store is made the
portable way: a current one with what the later migrations add taken out again.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from playhouse.migrate import SchemaMigrator, migrate
from test_store_schema import live_columns

from cftui.errors import DataError
from cftui.store import queries
from cftui.store.angor_models import ANGOR_MODELS, AngorInvestment, AngorProject
from cftui.store.db import SCHEMA_VERSION, open_database, schema_version
from cftui.store.engine import engine_of
from cftui.store.filters import InvoiceFilter
from cftui.store.models import (
    CONTRIBUTION_FIELDS,
    RETRY_MODELS,
    CrowdfundApp,
    Invoice,
    InvoiceDayStat,
    InvoicePaymentMethod,
    Meta,
    Payment,
    SkippedInvoice,
    Store,
    SyncState,
)
from cftui.store.webhook_models import WEBHOOK_MODELS, WebhookDelivery

V1_DUMP = Path(__file__).parent / "data" / "schema_v1.sql"
V4_CROWDFUND_DUMP = (
    Path(__file__).parent / "data" / "schema_v4_crowdfund.sql"
)  # by make_schema_v4_crowdfund.py at 979509b
V4_CROWDFUND_MAKER = Path(__file__).parent / "data" / "make_schema_v4_crowdfund.py"
OLD_CROWDFUND_INDEX = "invoice_app_id_store_id_status_currency_amount_e8_btc_paid_sats"  # version 5's
V4_ANGOR_DUMP = Path(__file__).parent / "data" / "schema_v4_angor.sql"  # by make_schema_v4_angor.py at 979509b


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
    assert Payment.select().count() == 2
    assert not SyncState.get_by_id("btcpay:main").backfill_done  # version 6 walks the history once more
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
            migrate(
                *(migrator.drop_column("angor_investment", c) for c in ("schedule_start", "pattern_id", "stage_count"))
            )
        if 3 <= version < 5:
            migrate(*(migrator.drop_column("angor_project", c) for c in ("refunds_count", "refunds_sats")))
        if version < 6:
            _before_version_6(db, migrator)
        if version < 7:
            db.drop_tables(RETRY_MODELS)
        Meta.update(value=str(version)).where(Meta.key == "schema_version").execute()


OLD_CROWDFUND_COLUMNS = ("app_id", "store_id", "status", "currency", "amount_e8", "btc_paid_sats")
APP_COLUMNS_OF_6 = ("reset_every", "reset_every_amount", "enforce_target", "all_store_invoices")


def _before_version_6(db, migrator: SchemaMigrator) -> None:
    """Payments in whole sats without their text, no crowdfund contribution columns, the crowdfund index of
    version 5 (it covers no contribution column), and the apps without their reset and count settings."""
    db.execute_sql('DROP INDEX "invoice_crowdfund_progress"')
    db.execute_sql('UPDATE "payment" SET "value_msat" = "value_msat" / 1000, "fee_msat" = "fee_msat" / 1000')
    migrate(
        migrator.drop_column("payment", "value"),
        migrator.drop_column("payment", "fee"),
        migrator.rename_column("payment", "value_msat", "value_sats"),
        migrator.rename_column("payment", "fee_msat", "fee_sats"),
        *(migrator.drop_column(table, c) for table in ("invoice", "invoice_day_stat") for c in CONTRIBUTION_FIELDS),
        *(migrator.drop_column("crowdfund_app", c) for c in APP_COLUMNS_OF_6),
        migrator.add_index("invoice", OLD_CROWDFUND_COLUMNS),
    )


def index_names(db) -> set[str]:
    if engine_of(db).name == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    return {name for (name,) in db.execute_sql(query)}


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_older_version_is_upgraded_and_keeps_its_rows(store_target, new_store_target, version):
    db = open_database(new_store_target("fresh"))
    fresh_columns = live_columns(db)  # what a store created by this version declares
    db.close()
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
    # Every column a new store has, of the same type (BIGINT, text, BOOLEAN on PostgreSQL), and no other.
    assert live_columns(db) == fresh_columns
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


def _v4_crowdfund_maker():
    """make_schema_v4_crowdfund.py as a module, for its rows (by path: tests/ui/data.py would shadow ``data``)."""
    spec = importlib.util.spec_from_file_location("make_schema_v4_crowdfund", V4_CROWDFUND_MAKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fill_crowdfund() -> None:
    """The rows of the schema-4 dump (make_schema_v4_crowdfund.py), written by the current models."""
    from cftui.money import parse_decimal, to_e8
    from cftui.store import daystats

    maker = _v4_crowdfund_maker()
    t0 = maker.T0
    store = Store.create(name="main", url="https://pay.example.com", store_id="StoreV5", added_time=t0)
    CrowdfundApp.create(store=store, app_id="FundV5", name="Roof", app_type="Crowdfund", archived=False,
                        enabled=True, target_currency="USD", target_amount="1000", target_e8=1000 * 10**8,
                        start_time=t0 - 86_400, synced_time=t0)  # fmt: skip
    for i, (status, extra, amount, payments) in enumerate(maker.INVOICES):
        created = t0 + i * 3600
        invoice = Invoice.create(
            store=store, invoice_id=f"V5Invoice{i}", status=status, additional_status=extra, type="Standard",
            currency="USD", amount=amount, amount_e8=to_e8(parse_decimal(amount)),
            btc_paid_sats=sum(p[1] for p in payments), created_time=created, expiration_time=created + 900,
            monitoring_time=created + 3600, metadata="{}", app_id="FundV5", synced_time=t0,
        )  # fmt: skip
        for method in ("BTC-CHAIN", "BTC-LN"):
            mine = [p for p in payments if p[0] == method]
            InvoicePaymentMethod.create(invoice=invoice, method=method, currency="BTC", rate=maker.RATE,
                                        paid_sats=sum(p[1] for p in mine), activated=True)  # fmt: skip
            for n, (_, sats, pay_status, after) in enumerate(mine):
                Payment.create(invoice=invoice, method=method, payment_id=f"{i:062x}{n:02x}-0", value="",
                               value_msat=sats * 1000, status=pay_status, received_time=created + after)  # fmt: skip
    SyncState.create(source="btcpay:main", backfill_done=True, last_success_time=t0, newest_seen_time=t0 + 6 * 3600)
    SyncState.create(source="angor", backfill_done=True, last_success_time=t0)
    daystats.rebuild()


def assert_upgraded_to_6(db) -> None:
    """What migration 6 makes of the crowdfund rows of make_schema_v4_crowdfund.py."""
    # Payments: the whole sats of before as msat, and as the text an on-chain value is written with.
    first = Payment.get(Payment.payment_id.startswith("0" * 62 + "00"))
    assert (first.value, first.value_msat, first.fee, first.fee_msat) == ("0.00042500", 42_500_000, "0", 0)
    assert sum(p.value_msat for p in Payment.select()) == 1000 * (42_500 + 8_000 + 166_650 + 33_334 + 8_334 + 20_000)
    # Crowdfund: BTCPay's rule over the stored payments at the stored rate (60000):
    # 25.50 settled + 4.80 partial on an expired invoice + 50 marked without payments + 12 Lightning;
    # the marked-invalid invoice and the payment after expiry count nothing; 99.99 is still confirming.
    [fund] = queries.crowdfund_progress()
    assert (fund.settled, fund.pending, fund.contributions) == (Decimal("92.3"), Decimal("99.99"), 4)
    assert fund.raised == Decimal("192.29") and fund.reset_every == "Never" and not fund.all_store_invoices
    assert CrowdfundApp.get().reset_every_amount == 1
    # The roll-up carries the contributions too, and the new crowdfund index replaced the old one.
    assert sum(row.cf_settled_e8 for row in InvoiceDayStat.select()) == 92_30_000_000
    names = index_names(db)
    assert "invoice_crowdfund_progress" in names and OLD_CROWDFUND_INDEX not in names
    # BTCPay stores walk their history again (to fetch what older versions skipped); Angor is left alone.
    btcpay, angor = SyncState.get_by_id("btcpay:main"), SyncState.get_by_id("angor")
    assert (btcpay.backfill_done, btcpay.newest_seen_time, angor.backfill_done) == (False, 1_767_247_200, True)
    assert queries.kpis().settled.count == 3 and Invoice.select().count() == 7


def test_a_version_5_store_gains_msat_payments_crowdfund_figures_and_the_retry_list(store_target):
    # The SQLite dumps below are real old files; this is the same upgrade on either engine
    # (a PostgreSQL store was at version 5 when team stores came).
    db = open_database(store_target)
    _fill_crowdfund()
    _as_version(db, 5)
    assert OLD_CROWDFUND_INDEX in index_names(db) and not db.table_exists("skipped_invoice")
    assert {"value_sats", "fee_sats"} <= {column.name for column in db.get_columns("payment")}
    db.close()

    db = open_database(store_target)
    assert schema_version(db) == SCHEMA_VERSION
    assert_upgraded_to_6(db)
    app = CrowdfundApp.get()
    assert (app.enforce_target, app.all_store_invoices) == (False, False)
    SkippedInvoice.create(store=Store.get(), invoice_id="I1", reason="amount is not a decimal", skipped_time=1)
    assert SkippedInvoice.select().count() == 1
    db.close()


def test_a_version_3_store_gains_the_fund_subscribe_schedule_columns_and_keeps_its_investments(tmp_path):
    from cftui.store.angor_models import AngorInvestment

    path = tmp_path / "v3.sqlite"
    db = open_database(path)
    AngorProject.create(
        project_id="angor1qx",
        network="Angornet",
        founder_key="k",
        nostr_pubkey="p",
        event_id="e",
        event_pubkey="p",
        event_kind=3030,
        event_created=1,
        content="{}",
        synced_time=1,
    )
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
    AngorInvestment.create(
        project="angor1qx",
        investor_key="03cd",
        txid="t2",
        amount_sats=1,
        schedule_start=1_735_689_600,
        pattern_id=2,
        stage_count=0,
    )
    assert AngorInvestment.get(AngorInvestment.txid == "t2").pattern_id == 2
    db.close()


def test_a_version_4_store_gains_the_refund_columns_unknown_until_the_next_sync(tmp_path):
    path = tmp_path / "v4.sqlite"
    _load(V4_ANGOR_DUMP, path)
    with sqlite3.connect(path) as raw:
        columns = {row[1] for row in raw.execute('PRAGMA table_info("angor_project")')}
        (version,) = raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    raw.close()
    assert version == "4" and "penalties_sats" in columns and "refunds_sats" not in columns  # really version 4

    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION
    row = AngorProject.get_by_id("angor1qv4project")
    assert (row.raised_sats, row.penalties_count, row.penalties_sats, row.status) == (1_485_000, 1, 990_000, "failed")
    # Version 4 counted refunds as penalties: which were which is unknown until the chain is read again.
    assert row.refunds_count is None and row.refunds_sats is None
    AngorProject.update(refunds_count=1, refunds_sats=990_000, penalties_count=0, penalties_sats=0).execute()
    assert AngorProject.get_by_id("angor1qv4project").refunds_sats == 990_000
    db.close()
    db = open_database(path)  # a second open is a no-op
    assert schema_version(db) == SCHEMA_VERSION and AngorProject.get_by_id("angor1qv4project").refunds_count == 1
    db.close()


def test_a_version_4_store_gains_msat_payments_and_btcpays_crowdfund_figures(tmp_path):
    path = tmp_path / "v4.sqlite"
    _load(V4_CROWDFUND_DUMP, path)
    with sqlite3.connect(path) as raw:
        payment_columns = {row[1] for row in raw.execute('PRAGMA table_info("payment")')}
        version = raw.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    raw.close()
    assert version == "4" and {"value_sats", "fee_sats"} <= payment_columns  # really a version-4 file

    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION
    assert_upgraded_to_6(db)
    db.close()
    db = open_database(path)  # opening again changes nothing
    assert queries.crowdfund_progress()[0].settled == Decimal("92.3")


def test_an_old_store_gains_the_retry_list(tmp_path):
    from cftui.store.models import SkippedInvoice, Store

    path = tmp_path / "v4.sqlite"
    _load(V4_CROWDFUND_DUMP, path)
    with sqlite3.connect(path) as raw:
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    raw.close()
    assert "skipped_invoice" not in tables and "invoice" in tables  # really a store from before the retry list

    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION
    SkippedInvoice.create(store=Store.get(), invoice_id="I1", reason="amount is not a decimal", skipped_time=1)
    assert SkippedInvoice.select().count() == 1 and Invoice.select().count() == 7
    db.close()


def test_a_version_4_store_gains_the_dashboard_columns_indexes_and_perk_table(tmp_path):
    from cftui.store.models import CrowdfundPerk, Store

    path = tmp_path / "v4.sqlite"
    _load(V4_CROWDFUND_DUMP, path)
    with sqlite3.connect(path) as raw:
        store_columns = {row[1] for row in raw.execute('PRAGMA table_info("store")')}
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        old_indexes = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    raw.close()
    # Really a file from before schema 8: no default currency, no perk table, amounts sorted across currencies.
    assert "default_currency" not in store_columns and "crowdfund_perk" not in tables
    assert "invoice_amount_e8_id" in old_indexes

    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION == 8
    indexes = {name for (name,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {
        "invoice_currency_amount_e8_id",
        "invoice_additional_status_created_time_id",
        "payment_received_time_id",
    } <= indexes
    assert "invoice_amount_e8_id" not in indexes
    investment_columns = {c.name for c in db.get_columns("angor_investment")}
    assert {"recovered_sats", "refunded_sats", "penalty_sats"} <= investment_columns
    # Unknown until the next sync reads the store's settings; the rows of older versions are kept.
    store = Store.get(Store.name == "main")
    assert store.default_currency is None and Invoice.select().count() == 7
    assert queries.crowdfund_progress()[0].settled == Decimal("92.3")
    Store.update(default_currency="USD").execute()
    CrowdfundPerk.create(
        store=store,
        app_id="A",
        item_code="p",
        sales_count=2,
        total="10.50",
        total_e8=1_050_000_000,
        rank=0,
        synced_time=1,
    )
    db.close()
    db = open_database(path)  # opening again changes nothing
    assert Store.get_by_id(store.id).default_currency == "USD" and CrowdfundPerk.select().count() == 1
    db.close()
