"""Invoice exports written to real files and read back (from both engines)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from store_samples import T0, fill, matches

from cftui import clock
from cftui.export import INVOICE_FIELDS, default_export_path, export_invoices, write_records
from cftui.store.filters import InvoiceFilter
from cftui.store.models import Invoice


@pytest.fixture
def samples(db):
    return fill(n=300)


def _stored(f: InvoiceFilter, samples) -> list[Invoice]:
    wanted = {s.pk for s in samples if matches(s, **vars(f))}
    rows = Invoice.select().where(Invoice.id.in_(list(wanted)))
    return sorted(rows, key=lambda i: (i.created_time, i.id), reverse=True)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_reads_back_exactly(samples, tmp_path, fmt):
    f = InvoiceFilter(statuses=("Settled", "Expired"), stores=(1,))
    path = tmp_path / f"out.{fmt}"
    with path.open("w", encoding="utf-8", newline="") as out:
        written = export_invoices(f, fmt, out)
    want = _stored(f, samples)
    assert written == len(want) > 0
    with path.open(encoding="utf-8", newline="") as data:
        got = list(csv.DictReader(data)) if fmt == "csv" else json.load(data)
    assert [r["id"] for r in got] == [i.invoice_id for i in want]
    for record, invoice in zip(got, want, strict=True):
        assert set(record) == set(INVOICE_FIELDS)
        assert record["store"] == "main" and record["store_id"] == "StoreA"
        assert record["amount"] == invoice.amount and Decimal(record["amount"]) * 10**8 == invoice.amount_e8
        assert record["status"] == invoice.status and record["additional_status"] == invoice.additional_status
        assert record["created"] == clock.iso(invoice.created_time) and record["created"].endswith("Z")
        assert record["checkout_link"] == invoice.checkout_link
        if fmt == "json":
            assert record["btc_paid_sats"] == invoice.btc_paid_sats  # an integer or null, never a float
            assert record["archived"] is invoice.archived
            assert record["paid_amount"] == invoice.paid_amount
        else:
            assert record["btc_paid_sats"] == ("" if invoice.btc_paid_sats is None else str(invoice.btc_paid_sats))
            assert record["archived"] == ("true" if invoice.archived else "false")
            assert record["order_id"] == (invoice.order_id or "")


@pytest.mark.parametrize("fmt, text", [("csv", ",".join(INVOICE_FIELDS) + "\n"), ("json", "[]\n")])
def test_an_empty_export_is_still_valid(samples, fmt, text):
    out = io.StringIO()
    assert export_invoices(InvoiceFilter(text="no such invoice"), fmt, out) == 0
    assert out.getvalue() == text


def test_export_streams_each_record_before_reading_the_next():
    out = io.StringIO()

    def records():
        for i in range(3):
            # By the time the next record is asked for, the previous one is written.
            assert out.getvalue().count('"n"') == i
            yield {"n": i}

    assert write_records(records(), ("n",), "json", out) == 3
    assert json.loads(out.getvalue()) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown export format"):
        write_records([], ("n",), "xml", io.StringIO())


def test_default_export_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clock.freeze(T0 + 3723)
    try:
        assert default_export_path("invoices", "csv") == tmp_path / "cftui-invoices-20260101-010203.csv"
    finally:
        clock.freeze(None)
