"""Exports to CSV or JSON, streamed: rows are written as they are read.

:func:`write_records` is the one writer (CSV with a header row, or a JSON
array of objects written element by element); :func:`export_invoices` feeds
it the invoices of a filter. Exports hold store data only (ids, amounts,
emails, links), never an API key or webhook secret: none is in the store.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from cftui import clock
from cftui.domain import EXPORT_FORMATS, ExportFormat, InvoiceSort
from cftui.store import queries
from cftui.store.filters import InvoiceFilter
from cftui.store.models import Store

INVOICE_FIELDS = (
    "id", "store", "store_id", "status", "additional_status", "type", "currency", "amount", "paid_amount",
    "btc_paid_sats", "created", "order_id", "buyer_email", "archived", "app_id", "checkout_link",
)  # fmt: skip


def default_export_path(kind: str, fmt: ExportFormat) -> Path:
    """``./cftui-<kind>-YYYYmmdd-HHMMSS.<fmt>`` in the current directory (UTC time)."""
    stamp = clock.to_datetime(clock.now()).strftime("%Y%m%d-%H%M%S")
    return Path.cwd() / f"cftui-{kind}-{stamp}.{fmt}"


def _csv_text(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_records(
    records: Iterable[Mapping[str, object]], fields: tuple[str, ...], fmt: ExportFormat, out: IO[str]
) -> int:
    """Write ``records`` (JSON-ready values) as CSV or a JSON array; return how many."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (csv or json)")
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        for record in records:
            writer.writerow([_csv_text(record[name]) for name in fields])
            count += 1
        return count
    out.write("[")
    for record in records:
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps({name: record[name] for name in fields}, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _invoice_records(f: InvoiceFilter, sort: InvoiceSort, descending: bool) -> Iterable[dict[str, object]]:
    # BTCPay's id of each store, by its config name (unique, as each invoice row carries it).
    btcpay_ids = {store.name: store.store_id for store in Store.select(Store.name, Store.store_id)}
    for row in queries.iter_invoices(f, sort=sort, descending=descending):
        yield {
            "id": row.invoice_id,
            "store": row.store_name,
            "store_id": btcpay_ids.get(row.store_name),
            "status": row.status,
            "additional_status": row.additional_status,
            "type": row.type,
            "currency": row.currency,
            "amount": row.amount,  # decimal text, exactly as the server wrote it
            "paid_amount": row.paid_amount,
            "btc_paid_sats": row.btc_paid_sats,
            "created": clock.iso(row.created_time),
            "order_id": row.order_id,
            "buyer_email": row.buyer_email,
            "archived": row.archived,
            "app_id": row.app_id,
            "checkout_link": row.checkout_link,
        }


def export_invoices(
    f: InvoiceFilter, fmt: ExportFormat, out: IO[str], *, sort: InvoiceSort = "created", descending: bool = True
) -> int:
    """Write the invoices matching ``f`` to ``out``; return how many were written."""
    return write_records(_invoice_records(f, sort, descending), INVOICE_FIELDS, fmt, out)
