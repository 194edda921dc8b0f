"""`cftui store migrate --to URL`: a 100,000-invoice SQLite store copied into PostgreSQL exactly, all or nothing."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.store_fill import fill
from test_writer import make_record

from cftui.cli import main
from cftui.config import StoreConfig
from cftui.errors import DataError
from cftui.store import copy, queries
from cftui.store.angor_models import AngorInvestment, AngorProfile, AngorProject, AngorStage
from cftui.store.db import ALL_MODELS, open_database
from cftui.store.filters import InvoiceFilter
from cftui.store.models import (
    Invoice,
    InvoicePaymentMethod,
    Payment,
    PendingInvoice,
    SkippedInvoice,
    SyncState,
    database,
)
from cftui.store.webhook_models import WebhookDelivery
from cftui.store.writer import ensure_store, upsert_invoices

N = 100_000
on_postgresql = pytest.mark.parametrize("engine_name", ["postgresql"])


def _more_than_invoices() -> None:
    """Rows in every other table, with the values most likely to change on the way: bytes, unicode, nulls,
    negative sats, big numbers."""
    invoices = [(pk, sats) for pk, sats in Invoice.select(Invoice.id, Invoice.btc_paid_sats).tuples() if pk % 10 == 0]
    with database.atomic():
        methods = [(pk, "LTC-CHAIN", "LTC", "ltc1q", None, "60000.5", sats, sats or 0, -(pk % 7), 0, pk % 3 == 0)
                   for pk, sats in invoices]  # fmt: skip
        database.cursor().executemany(
            'INSERT INTO "invoice_payment_method" ("invoice_id", "method", "currency", "destination", "payment_link",'
            ' "rate", "amount_sats", "paid_sats", "due_sats", "fee_sats", "activated") VALUES (?,?,?,?,?,?,?,?,?,?,?)',
            methods,
        )
        # Lightning values in msat, and a negative msat fee tweak: text and integers must both survive.
        payments = [(pk, "BTC-LN", f"{pk:064x}-1", f"0.{sats:08d}123", sats * 1000 + 123, "-0.00000000001", -1,
                     "Settled", 1_760_000_000 + pk, None)
                    for pk, sats in invoices if sats]  # fmt: skip
        database.cursor().executemany(
            'INSERT INTO "payment" ("invoice_id", "method", "payment_id", "value", "value_msat", "fee", "fee_msat",'
            ' "status", "received_time", "destination") VALUES (?,?,?,?,?,?,?,?,?,?)',
            payments,
        )
        SkippedInvoice.create(store=1, invoice_id="broken", reason="amount is not a decimal: '☕'", skipped_time=2)
        SkippedInvoice.create(store=1, invoice_id=None, created_time=1_760_000_000, reason="no id", skipped_time=2,
                              attempts=3)  # fmt: skip
        Invoice.update(buyer_email="zoë@exämple.com", metadata='{"note": "naïve ☕ 𝄞"}').where(
            Invoice.id == 7
        ).execute()
        for i in range(2_000):
            WebhookDelivery.create(
                received_ms=1_760_000_000_000 + i, remote="127.0.0.1", path="/webhook/main", store_name="main",
                headers="{}", body=bytes([i % 256, 0, 255]) + "é".encode(), body_size=5,
                verdict="verified" if i % 3 else "bad_signature", http_status=200, delivery_id=f"d{i}",
                original_delivery_id=f"d{i}", invoice_id=f"inv{i}", processed=i % 2 == 0,
            )  # fmt: skip
        PendingInvoice.create(store=1, invoice_id="late", reason="webhook arrived, fetch failed", queued_time=1)
        SyncState.create(source="btcpay:main", backfill_done=True, newest_seen_time=1_767_000_000, scan_offset=0,
                         last_result='{"new": 1}')  # fmt: skip
        AngorProject.create(project_id="angor1qcopy", network="Angornet", name="Café ☕", founder_key="02aa",
                            nostr_pubkey="cc", event_id="ee", event_pubkey="cc", event_kind=3030, event_created=1,
                            content="{}", synced_time=1, raised_sats=2_100_000_000_000_000,
                            refunds_count=None)  # fmt: skip
        AngorStage.create(project="angor1qcopy", index=0, release_time=5, percent="33.33", amount_sats=1)
        AngorInvestment.create(project="angor1qcopy", investor_key="03bb", txid="tx", amount_sats=9, pattern_id=1)
        AngorProfile.create(pubkey="cc", name="Ünïcode", event_created=3)


@pytest.fixture(scope="module")
def big_store(tmp_path_factory) -> Path:
    """A SQLite store with 100,000 invoices and rows in every table (built once for this module)."""
    path = tmp_path_factory.mktemp("big") / "store.sqlite3"
    fill(path, N)
    open_database(path)
    _more_than_invoices()
    database.close()
    database.initialize(None)
    return path


def figures(target: str) -> dict:
    """What a user would check, read through the ordinary queries of the store at ``target``."""
    open_database(target)
    try:
        page = queries.page_invoices(InvoiceFilter(), sort="amount", limit=50)
        page = queries.page_invoices(InvoiceFilter(), sort="amount", after=page.last, limit=50)
        return {
            "rows": {model._meta.table_name: model.select().count() for model in ALL_MODELS},
            "kpis": queries.kpis(),
            "settled_2025": queries.kpis(since=1_735_689_600, until=1_767_225_600),
            "page": [row.pk for row in page.rows],
            "emoji": Invoice.get_by_id(7).metadata,
            "bodies": [
                bytes(b)
                for (b,) in WebhookDelivery.select(WebhookDelivery.body).order_by(WebhookDelivery.id).limit(3).tuples()
            ],
            "refunds": AngorProject.get_by_id("angor1qcopy").refunds_count,
            "crowdfunds": [(p.app_id, p.settled, p.pending, p.contributions) for p in queries.crowdfund_progress()],
        }
    finally:
        database.close()


def export(args: list[str], out: Path) -> bytes:
    assert main([*args, "export", "invoices", "--format", "csv", "-o", str(out)]) == 0
    return out.read_bytes()


@on_postgresql
def test_a_100k_store_is_copied_exactly_and_the_copy_works_as_a_store(big_store, store_target, tmp_path, capsys):
    assert main(["--db", str(big_store), "store", "migrate", "--to", store_target]) == 0
    out = capsys.readouterr().out
    assert "every table matches" in out and f"{N:,} rows" in out and "btc_paid_sats" in out

    source, target = figures(str(big_store)), figures(store_target)
    assert source["rows"]["invoice"] == N and source["rows"]["payment"] > 5_000
    assert target == source
    # The export a user would diff: byte for byte the same.
    assert export(["--db-url", store_target], tmp_path / "b.csv") == export(
        ["--db", str(big_store)], tmp_path / "a.csv"
    )

    # The copy is a working store: new rows get new ids, and the roll-up stays exact.
    open_database(store_target)
    store = ensure_store(StoreConfig(name="main", url="https://pay.example.com", store_id="StoreMain111"))
    result = upsert_invoices(store, [dataclasses.replace(make_record(1, __import__("random").Random(1)),
                                                         invoice_id="after-the-copy")], synced_time=1)  # fmt: skip
    assert result.new == 1 and Invoice.get(Invoice.invoice_id == "after-the-copy").id > N
    assert queries.kpis().total == N + 1
    database.close()


def _migrate_process(source: Path, target: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cftui", "--db", str(source), "store", "migrate", "--to", target],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


@on_postgresql
def test_a_copy_killed_midway_leaves_the_target_empty_and_a_second_run_completes(big_store, store_target):
    proc = _migrate_process(big_store, store_target)
    try:
        for line in proc.stderr:  # the invoices are in (uncommitted) when their children start
            if "copying invoice_payment_method" in line:
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(60)
    assert proc.returncode == -signal.SIGKILL
    open_database(store_target)
    assert {model._meta.table_name: model.select().count() for model in ALL_MODELS if model.__name__ != "Meta"} == {
        model._meta.table_name: 0 for model in ALL_MODELS if model.__name__ != "Meta"
    }
    database.close()

    proc = _migrate_process(big_store, store_target)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    open_database(store_target)
    assert Invoice.select().count() == N
    database.close()


@on_postgresql
def test_a_store_holding_data_is_refused_unless_replace_is_given(db, store_target, new_store_target, capsys):
    ensure_store(StoreConfig(name="kept", url="https://x", store_id="K"))
    database.close()
    source = new_store_target("source")  # a small store on the same engine
    open_database(source)
    ensure_store(StoreConfig(name="copied", url="https://y", store_id="C"))
    database.close()

    assert main(["--db-url", source, "store", "migrate", "--to", store_target]) == 6
    err = capsys.readouterr().err
    assert "already holds data; nothing was copied" in err and "--replace" in err
    assert main(["--db-url", source, "store", "migrate", "--to", store_target, "--replace"]) == 0
    open_database(store_target)
    assert [s.name for s in Invoice.store.rel_model.select()] == ["copied"]
    database.close()


@on_postgresql
def test_a_copy_that_does_not_match_is_rolled_back(db, store_target, tmp_path, monkeypatch):
    source = str(tmp_path / "small.sqlite3")
    fill(Path(source), 500)
    real = copy._read_back

    def one_value_changed(target, model):
        tally = real(target, model)
        if model is Payment or model is InvoicePaymentMethod or model is Invoice:
            tally.digest.update(b"a value that did not survive the trip")
        return tally

    monkeypatch.setattr(copy, "_read_back", one_value_changed)
    with pytest.raises(DataError, match="The copy of table invoice does not match the source .values differ.; nothing"):
        copy.copy_store(source, store_target)
    open_database(store_target)
    assert Invoice.select().count() == 0
    database.close()
