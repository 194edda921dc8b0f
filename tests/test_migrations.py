"""Opening an old store upgrades it in place; a store from a newer cftui is refused."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from cftui.errors import DataError
from cftui.store import queries
from cftui.store.angor_models import ANGOR_MODELS, AngorProject
from cftui.store.db import SCHEMA_VERSION, open_database, schema_version
from cftui.store.filters import InvoiceFilter
from cftui.store.models import CrowdfundApp, Invoice, InvoiceDayStat, Meta, Payment, SyncState
from cftui.store.webhook_models import WEBHOOK_MODELS, WebhookDelivery

V1_DUMP = Path(__file__).parent / "data" / "schema_v1.sql"
V4_CROWDFUND_DUMP = Path(__file__).parent / "data" / "schema_v4_crowdfund.sql"  # by make_schema_v4_crowdfund.py at 979509b
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


def test_a_store_from_a_newer_cftui_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    db = open_database(path)
    Meta.update(value="99").where(Meta.key == "schema_version").execute()
    db.close()
    with pytest.raises(DataError, match=rf"newer cftui \(schema 99, this one knows {SCHEMA_VERSION}\)") as caught:
        open_database(path)
    assert "Upgrade cftui" in str(caught.value)


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
    # Payments: the whole sats of version 4 as msat, and as the text an on-chain value is written with.
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
    indexes = {name for (name,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "invoice_crowdfund_progress" in indexes
    assert "invoice_app_id_store_id_status_currency_amount_e8_btc_paid_sats" not in indexes
    # BTCPay stores walk their history again (to fetch what version 4 skipped); Angor is left alone.
    btcpay, angor = SyncState.get_by_id("btcpay:main"), SyncState.get_by_id("angor")
    assert (btcpay.backfill_done, btcpay.newest_seen_time, angor.backfill_done) == (False, 1_767_247_200, True)
    assert queries.kpis().settled.count == 3 and Invoice.select().count() == 7
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
    assert {"invoice_currency_amount_e8_id", "invoice_additional_status_created_time_id",
            "payment_received_time_id"} <= indexes
    assert "invoice_amount_e8_id" not in indexes
    investment_columns = {c.name for c in db.get_columns("angor_investment")}
    assert {"recovered_sats", "refunded_sats", "penalty_sats"} <= investment_columns
    # Unknown until the next sync reads the store's settings; the rows of older versions are kept.
    store = Store.get(Store.name == "main")
    assert store.default_currency is None and Invoice.select().count() == 7
    assert queries.crowdfund_progress()[0].settled == Decimal("92.3")
    Store.update(default_currency="USD").execute()
    CrowdfundPerk.create(store=store, app_id="A", item_code="p", sales_count=2, total="10.50", total_e8=1_050_000_000,
                         rank=0, synced_time=1)
    db.close()
    db = open_database(path)  # opening again changes nothing
    assert Store.get_by_id(store.id).default_currency == "USD" and CrowdfundPerk.select().count() == 1
    db.close()
