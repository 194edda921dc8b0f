"""Greenfield JSON -> validated records (``cftui.store.records``).

Input is JSON parsed with ``parse_float=Decimal``. Every value is checked
against the contract (§2.2, §2.4, §4); a record that does not fit raises
:class:`RecordError` with a short ``reason`` (the sync counts skipped records
by reason, so reasons name the problem, not the value) and the invoice id.

Money: fiat as the server's decimal text plus exact e8 integers; BTC as
integer sats via :func:`cftui.money.btc_to_sats` (Lightning values are BTC
strings too). A payment's ``value`` and ``fee`` are kept as written and in
millisatoshis: Lightning (LNURL, Lightning addresses, top-ups, a provider's fee
tweak) carries msat. A ``rate`` is informational and kept as written, at any
precision (inverse pairs and spreads give 28 significant digits). "BTC paid"
is the sum of ``paymentMethodPaid`` over BTC methods (rounded up to whole sats
upstream), never ``totalPaid`` (which counts every method's payments, converted).
v1.x field and id names (contract §8) are read and mapped to the v2 names.

This is the hot path of a million-invoice sync, so it avoids per-field
function layers where a direct check does the same job.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from cftui.btcpay.jsontypes import JsonObject
from cftui.domain import ADDITIONAL_STATUSES, ALL_STATUSES
from cftui.errors import DataError
from cftui.money import AmountError, btc_to_sats, parse_decimal, to_e8, to_msat
from cftui.store.records import AppRecord, InvoiceRecord, PaymentMethodRecord, PaymentRecord

_STATUSES = frozenset(ALL_STATUSES)
_ADDITIONAL = frozenset(ADDITIONAL_STATUSES)

# v1.x payment method ids -> v2 ids (contract §0, §8).
_METHOD_IDS = {
    "BTC": "BTC-CHAIN",
    "BTC-OnChain": "BTC-CHAIN",
    "BTC_OnChain": "BTC-CHAIN",
    "BTC-LightningNetwork": "BTC-LN",
    "BTC_LightningLike": "BTC-LN",
    "BTC-LightningLike": "BTC-LN",
    "BTC-LNURLPAY": "BTC-LNURL",
    "BTC_LNURLPAY": "BTC-LNURL",
}

# A crowdfund invoice's orderUrl is the app page: <base>/apps/<appId>/crowdfund.
_CROWDFUND_URL = re.compile(r"/apps/([^/?#]+)/crowdfund\b")
CROWDFUND_SEARCH_PREFIX = "crowdfund-app_"
_RESET_EVERY = frozenset({"Never", "Hour", "Day", "Month", "Year"})  # CrowdfundResetEvery


class RecordError(DataError):
    """A record that does not fit the contract. ``reason`` is short and value-free."""

    def __init__(self, reason: str, invoice_id: str | None = None, detail: str | None = None) -> None:
        where = f"invoice {invoice_id}" if invoice_id else "a record without an id"
        super().__init__(f"Skipped {where}: {reason}" + (f" ({detail})." if detail else "."))
        self.reason = reason
        self.invoice_id = invoice_id
        self.detail = detail


# ------------------------------------------------------------------ values


def _e8_of_plain_decimal(text: str, places: int = 8) -> int | None:
    """Exact units of 10⁻``places`` of a plain decimal string ("12.5", "-0.00012345"),
    or None when the text needs the full Decimal path (exponents, more places, huge).

    Integer arithmetic on the digits: several times faster than Decimal, and
    this runs about ten times per invoice in a million-invoice sync.
    """
    digits = text[1:] if text[:1] == "-" else text
    whole, dot, frac = digits.partition(".")
    if not (whole.isascii() and whole.isdigit() and len(whole) <= 9 and len(frac) <= places):
        return None
    if frac and not (frac.isascii() and frac.isdigit()):
        return None
    if dot and not frac:
        return None
    scale: int = 10**places  # typeshed types int ** int as Any (a negative power is a float)
    units = int(whole) * scale + (int(frac.ljust(places, "0")) if frac else 0)
    return -units if digits is not text else units


def _decimal_text(value: Any, field: str, invoice_id: str | None) -> tuple[str, int]:
    """An amount as (decimal text, e8 integer). Strings are kept as written."""
    if type(value) is str:
        units = _e8_of_plain_decimal(value)
        if units is not None:
            return value, units
        text = value
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise RecordError(f"{field} is not a decimal", invoice_id, repr(value)[:40]) from None
    elif type(value) is Decimal or type(value) is int:
        number = Decimal(value)
        text = str(value)
    else:
        raise RecordError(f"{field} is not a decimal", invoice_id, type(value).__name__)
    if not number.is_finite():
        raise RecordError(f"{field} is not a decimal", invoice_id, repr(value)[:40])
    try:
        return text, to_e8(number, field=field)
    except AmountError as exc:
        raise RecordError(f"{field} is not an exact amount", invoice_id, str(exc)) from None


def _plain_text(value: Any, field: str, invoice_id: str | None) -> str:
    """A decimal kept only as text (a rate): any precision, but it must be a finite decimal."""
    if type(value) is str and _e8_of_plain_decimal(value) is not None:
        return value
    try:
        number = parse_decimal(value, field=field)
    except AmountError as exc:
        raise RecordError(f"{field} is not a decimal", invoice_id, str(exc)[:60]) from None
    return value if type(value) is str else str(number)


def _msat(value: Any, field: str, invoice_id: str | None) -> tuple[str, int]:
    """A BTC amount with up to millisatoshi precision: (text as written, msat)."""
    if type(value) is str:
        units = _e8_of_plain_decimal(value, 11)
        if units is not None:
            return value, units
    try:
        number = parse_decimal(value, field=field)
        return (value if type(value) is str else str(number)), to_msat(number, field=field)
    except AmountError as exc:
        raise RecordError(f"{field} is not an exact BTC amount", invoice_id, str(exc)) from None


def _sats(value: Any, field: str, invoice_id: str | None) -> int:
    if type(value) is str:
        units = _e8_of_plain_decimal(value)
        if units is not None:
            return units
    try:
        return btc_to_sats(value, field=field)
    except AmountError as exc:
        raise RecordError(f"{field} is not an exact BTC amount", invoice_id, str(exc)) from None


def _optional_sats(value: Any) -> int | None:
    """Informational amounts (``amount``, ``due``, fees): converted at Lightning's
    msat precision these need not be whole sats; unknown beats rounded."""
    if value is None:
        return None
    if type(value) is str:
        units = _e8_of_plain_decimal(value)
        if units is not None:
            return units
    try:
        return btc_to_sats(value)
    except AmountError:
        return None


def _time(obj: JsonObject, key: str, invoice_id: str | None) -> int:
    value = obj.get(key)
    if type(value) is not int or value < 0:
        raise RecordError(f"{key} is not a unix time", invoice_id, repr(value)[:40])
    return value


def _optional_time(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _text(value: Any) -> str | None:
    """Free-form metadata text; numbers (an orderId written as a number) become text."""
    if value is None:
        return None
    if type(value) is str:
        return value or None
    if type(value) in (int, Decimal):
        return str(value)
    return None


# Built once: ``json.dumps`` with options builds a new encoder per call (once per invoice).
_METADATA_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def metadata_json(metadata: JsonObject) -> str:
    """Compact JSON text of metadata, keeping JSON numbers exactly as numbers."""
    try:
        return _METADATA_ENCODER.encode(metadata)
    except TypeError:
        pass
    # Metadata numbers were parsed as Decimal; write them back verbatim.
    marked: list[str] = []

    def mark(value: object) -> str:
        if isinstance(value, Decimal):
            marked.append(str(value))
            return f"\ue000{len(marked) - 1}\ue000"
        raise TypeError(f"{type(value).__name__} is not JSON")

    text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, default=mark)
    return re.sub('"\ue000(\\d+)\ue000"', lambda m: marked[int(m.group(1))], text)


def crowdfund_app_id(metadata: JsonObject) -> str | None:
    """The crowdfund app an invoice came from, if its metadata says so (contract §4)."""
    url = metadata.get("orderUrl")
    if type(url) is str:
        found = _CROWDFUND_URL.search(url)
        if found:
            return found.group(1)
    return None


# ------------------------------------------------------------------ invoices


def parse_invoice(obj: Any, *, payment_methods: Any = None) -> InvoiceRecord:
    """One Greenfield invoice object -> :class:`InvoiceRecord`.

    ``payment_methods`` is the raw ``payment-methods`` list (or an invoice's
    embedded ``paymentMethods`` when they were asked for); ``None`` means they
    were not read in this pass, and the store keeps what it has.
    """
    if type(obj) is not dict:
        raise RecordError("not a JSON object", None, type(obj).__name__)
    invoice_id = obj.get("id")
    if type(invoice_id) is not str or not invoice_id:
        raise RecordError("missing id", None, repr(invoice_id)[:40])
    # Checked in this order: a record with several faults is counted under the first.
    status, additional = _statuses(obj, invoice_id)
    currency = obj.get("currency")
    if type(currency) is not str or not currency:
        raise RecordError("missing currency", invoice_id)
    store_id = obj.get("storeId")
    if type(store_id) is not str:
        raise RecordError("missing storeId", invoice_id)
    amount, amount_e8 = _decimal_text(obj.get("amount"), "amount", invoice_id)
    paid_amount, paid_e8 = _paid_amount(obj.get("paidAmount"), invoice_id)
    created = _time(obj, "createdTime", invoice_id)
    expiration = _time(obj, "expirationTime", invoice_id)
    monitoring = _time(obj, "monitoringExpiration", invoice_id)
    archived, kind = _archived_and_type(obj, invoice_id)
    metadata = _metadata(obj, invoice_id)
    link = obj.get("checkoutLink")
    methods = None if payment_methods is None else parse_payment_methods(payment_methods, invoice_id)
    return InvoiceRecord(
        invoice_id=invoice_id,
        store_id=store_id,
        status=status,
        additional_status=additional,
        type=kind,
        currency=currency,
        amount=amount,
        amount_e8=amount_e8,
        paid_amount=paid_amount,
        paid_e8=paid_e8,
        created_time=created,
        expiration_time=expiration,
        monitoring_time=monitoring,
        archived=archived,
        order_id=_text(metadata.get("orderId")),
        buyer_email=_text(metadata.get("buyerEmail")),
        item_code=_text(metadata.get("itemCode")),
        item_desc=_text(metadata.get("itemDesc")),
        checkout_link=link if type(link) is str else None,
        metadata=metadata_json(metadata) if metadata else "{}",
        app_id=crowdfund_app_id(metadata) if metadata else None,
        payment_methods=methods,
    )


def _statuses(obj: JsonObject, invoice_id: str) -> tuple[str, str]:
    """``status`` and ``additionalStatus`` (absent on old servers: "None")."""
    status = obj.get("status")
    if status not in _STATUSES:
        raise RecordError("unknown status", invoice_id, repr(status)[:40])
    additional = obj.get("additionalStatus")
    if additional is None:
        return status, "None"
    if additional not in _ADDITIONAL:
        raise RecordError("unknown additionalStatus", invoice_id, repr(additional)[:40])
    return status, additional


def _paid_amount(raw: Any, invoice_id: str) -> tuple[str | None, int | None]:
    if raw is None:  # servers before 2.1.2
        return None, None
    return _decimal_text(raw, "paidAmount", invoice_id)


def _archived_and_type(obj: JsonObject, invoice_id: str) -> tuple[bool, str]:
    archived = obj.get("archived", False)
    if type(archived) is not bool:
        raise RecordError("archived is not true or false", invoice_id)
    kind = obj.get("type") or "Standard"
    if type(kind) is not str:
        raise RecordError("type is not a string", invoice_id)
    return archived, kind


def _metadata(obj: JsonObject, invoice_id: str) -> JsonObject:
    metadata = obj.get("metadata")
    if metadata is None:
        return {}
    if type(metadata) is not dict:
        raise RecordError("metadata is not an object", invoice_id)
    return metadata


def parse_payment_methods(items: Any, invoice_id: str | None = None) -> tuple[PaymentMethodRecord, ...]:
    """The ``payment-methods`` array (v2 or v1.x field names) -> records."""
    if type(items) is not list:
        raise RecordError("paymentMethods is not a list", invoice_id)
    out = []
    for pm in items:
        if type(pm) is not dict:
            raise RecordError("payment method is not an object", invoice_id)
        method = pm.get("paymentMethodId") or pm.get("paymentMethod")
        currency = pm.get("currency") or pm.get("cryptoCode")
        if type(method) is not str or type(currency) is not str:
            raise RecordError("payment method without id or currency", invoice_id)
        method = _METHOD_IDS.get(method, method)
        currency = currency.upper()
        if currency != "BTC":
            # Other coins (plugins) can have more than 8 decimals; cftui
            # accounts BTC only, so such a method is left out, not the invoice.
            try:
                out.append(_payment_method(pm, method, currency, invoice_id))
            except RecordError:
                continue
        else:
            out.append(_payment_method(pm, method, currency, invoice_id))
    return tuple(out)


def _payment_method(pm: JsonObject, method: str, currency: str, invoice_id: str | None) -> PaymentMethodRecord:
    payments_raw = pm.get("payments") or []
    if type(payments_raw) is not list:
        raise RecordError("payments is not a list", invoice_id)
    rate = pm.get("rate")
    destination = pm.get("destination")
    link = pm.get("paymentLink")
    activated = pm.get("activated", True)
    fee = pm.get("paymentMethodFee")
    if fee is None:
        fee = pm.get("networkFee")
    return PaymentMethodRecord(
        method=method,
        currency=currency,
        destination=destination if type(destination) is str else None,
        payment_link=link if type(link) is str and link else None,
        rate=None if rate is None else _plain_text(rate, "rate", invoice_id),
        amount_sats=_optional_sats(pm.get("amount")),
        paid_sats=_sats(pm.get("paymentMethodPaid"), "paymentMethodPaid", invoice_id),
        due_sats=_optional_sats(pm.get("due")),
        fee_sats=_optional_sats(fee),
        activated=activated if type(activated) is bool else True,
        payments=tuple([_payment(p, method, invoice_id) for p in payments_raw]) if payments_raw else (),
    )


def _payment(p: Any, method: str, invoice_id: str | None) -> PaymentRecord:
    if type(p) is not dict:
        raise RecordError("payment is not an object", invoice_id)
    payment_id = p.get("id")
    if type(payment_id) is not str or not payment_id:
        raise RecordError("payment without id", invoice_id)
    status = p.get("status")
    if type(status) is not str:
        raise RecordError("payment without status", invoice_id)
    fee = p.get("fee")
    destination = p.get("destination")
    value_text, value_msat = _msat(p.get("value"), "payment value", invoice_id)
    fee_text, fee_msat = ("0", 0) if fee is None else _msat(fee, "payment fee", invoice_id)
    return PaymentRecord(
        method=method,
        payment_id=payment_id,
        value=value_text,
        value_msat=value_msat,
        fee=fee_text,
        fee_msat=fee_msat,
        status=status,
        received_time=_time(p, "receivedDate", invoice_id),
        destination=destination if type(destination) is str else None,
    )


# ------------------------------------------------------------------ apps


def parse_app(base: Any, crowdfund: Any = None) -> AppRecord:
    """An ``AppBaseData`` (plus, for a crowdfund, its ``CrowdfundAppData``) -> :class:`AppRecord`."""
    if type(base) is not dict or type(base.get("id")) is not str or not base["id"]:
        raise RecordError("app without id")
    app_id = base["id"]
    name = base.get("appName") or base.get("name") or app_id
    app_type = base.get("appType") or "?"
    record = dict(
        app_id=app_id,
        name=str(name),
        app_type=str(app_type),
        archived=base.get("archived") is True,
        created_time=_optional_time(base.get("created")),
    )
    if type(crowdfund) is dict:
        target = crowdfund.get("targetAmount")
        target_text, target_e8 = None, None
        if target is not None:
            try:
                target_text, target_e8 = _decimal_text(target, "targetAmount", None)
            except RecordError:
                target_text, target_e8 = None, None
        title = crowdfund.get("title")
        currency = crowdfund.get("targetCurrency")
        reset_every = crowdfund.get("resetEvery")
        reset_amount = crowdfund.get("resetEveryAmount")
        record.update(
            title=title if type(title) is str else None,
            enabled=crowdfund.get("enabled") is not False,
            target_currency=currency if type(currency) is str else None,
            target_amount=target_text,
            target_e8=target_e8,
            start_time=_optional_time(crowdfund.get("startDate")),
            end_time=_optional_time(crowdfund.get("endDate")),
            # CrowdfundSettings' defaults: Never, 1, not enforced.
            reset_every=reset_every if reset_every in _RESET_EVERY else "Never",
            reset_every_amount=reset_amount if type(reset_amount) is int else 1,
            enforce_target=crowdfund.get("enforceTargetAmount") is True,
        )
    return AppRecord(**record)
