"""Invoice lifecycle changes and the webhook events BTCPay raises for them (contract §5.4).

Each function changes the simulator's state and emits the events in the order
BTCPay's InvoiceWatcher would. Call them on the simulator's event loop
(``SimulatorThread.call`` does that from another thread).
"""

from __future__ import annotations

import random

from cftui import clock
from cftui.sim.events import SimEvent
from cftui.sim.generator import LIGHTNING, ONCHAIN, SimInvoice, make_payment, new_invoice
from cftui.sim.jsontypes import JsonObject
from cftui.sim.render import payment_json
from cftui.sim.state import SimState


def _emit(state: SimState, invoice: SimInvoice, type_: str, **extra: object) -> None:
    state.emit(
        SimEvent(
            store_id=invoice.store_id,
            type=type_,
            invoice_id=invoice.id,
            extra=dict(extra),
            timestamp=clock.now_s(),
            metadata=dict(invoice.metadata),
        )
    )


def create_invoice(
    state: SimState,
    store_id: str,
    *,
    amount_minor: int,
    currency: str = "USD",
    metadata: JsonObject | None = None,
    app_id: str | None = None,
    invoice_type: str = "Standard",
) -> SimInvoice:
    """A new New invoice at the head of the store's list (created now)."""
    store = state.stores[store_id]
    index = store.total
    rng = random.Random(f"{state.config.seed}/{store_id}/live/{index}")
    invoice = new_invoice(
        store.gen,
        rng,
        index=index,
        created=store.next_created(),
        currency=currency,
        amount_minor=amount_minor,
        metadata=dict(metadata or {}),
        app_id=app_id,
    )
    if invoice_type == "TopUp":
        invoice.type, invoice.amount, invoice.due_sats = "TopUp", "0", 0
    store.appended.append(invoice)
    _emit(state, invoice, "InvoiceCreated")
    return invoice


def _stored(state: SimState, invoice: SimInvoice) -> SimInvoice:
    return state.stores[invoice.store_id].editable(invoice)


def receive_payment(
    state: SimState, invoice: SimInvoice, method: str, sats: int, *, extra_msat: int = 0, fee_msat: int = 0
) -> SimInvoice:
    """A payment is seen. Lightning payments are final at once; on-chain ones wait for :func:`confirm`.

    Over Lightning, ``extra_msat`` more than ``sats`` arrive, ``fee_msat`` of them a provider's fee tweak.
    """
    invoice = _stored(state, invoice)
    rng = random.Random(f"{invoice.id}/{len(invoice.payments)}")
    payment = make_payment(invoice, rng, method, sats, clock.now_s(), "Processing", extra_msat=extra_msat,
                           fee_msat=fee_msat)
    invoice.payments.append(payment)
    after_expiration = invoice.status == "Expired"
    fields = {"afterExpiration": after_expiration, "paymentMethodId": method, "payment": payment_json(payment)}
    _emit(state, invoice, "InvoiceReceivedPayment", **fields)
    top_up = invoice.type == "TopUp" and invoice.status == "New"
    if top_up:  # the price becomes what was paid (InvoiceWatcher)
        invoice.due_sats = invoice.paid_sats()
        invoice.amount = invoice.paid_amount()
    paid, due = invoice.net_paid_sats(), invoice.due_sats
    if invoice.status == "New":
        if top_up:
            invoice.status, invoice.additional_status = "Processing", "None"
            _emit(state, invoice, "InvoiceProcessing", overPaid=False)
        elif paid >= due:
            invoice.status = "Processing"
            invoice.additional_status = "PaidOver" if paid > due else "None"
            _emit(state, invoice, "InvoiceProcessing", overPaid=paid > due)
        else:
            invoice.additional_status = "PaidPartial"
    elif after_expiration and paid >= due and invoice.additional_status != "PaidLate":
        invoice.additional_status = "PaidLate"
        _emit(state, invoice, "InvoicePaidAfterExpiration")
    if method == LIGHTNING:
        confirm(state, invoice)
    return invoice


def confirm(state: SimState, invoice: SimInvoice) -> SimInvoice:
    """Every unconfirmed payment gets its confirmations; a fully paid Processing invoice settles."""
    invoice = _stored(state, invoice)
    for payment in invoice.payments:
        if payment.status == "Processing":
            payment.status = "Settled"
            fields = {
                "afterExpiration": invoice.status == "Expired",
                "paymentMethodId": payment.method,
                "payment": payment_json(payment),
            }
            _emit(state, invoice, "InvoicePaymentSettled", **fields)
    if invoice.status == "Processing":
        invoice.status = "Settled"
        over = invoice.net_paid_sats() > invoice.due_sats
        _emit(state, invoice, "InvoiceSettled", manuallyMarked=False, overPaid=over)
    return invoice


def expire(state: SimState, invoice: SimInvoice) -> SimInvoice:
    """The payment window closes on a New invoice."""
    invoice = _stored(state, invoice)
    if invoice.status != "New":
        return invoice
    invoice.status = "Expired"
    partial = invoice.paid_sats() > 0
    _emit(state, invoice, "InvoiceExpired", partiallyPaid=partial)
    if partial:
        _emit(state, invoice, "InvoiceExpiredPaidPartial")
    return invoice


def invalidate(state: SimState, invoice: SimInvoice) -> SimInvoice:
    """Paid but never confirmed within the monitoring window."""
    invoice = _stored(state, invoice)
    invoice.status = "Invalid"
    _emit(state, invoice, "InvoiceInvalid", manuallyMarked=False)
    return invoice


def mark(state: SimState, invoice: SimInvoice, status: str) -> SimInvoice:
    """The merchant marks the invoice Settled or Invalid by hand."""
    if status not in ("Settled", "Invalid"):
        raise ValueError(f"an invoice can be marked Settled or Invalid, not {status}")
    invoice = _stored(state, invoice)
    invoice.status, invoice.additional_status = status, "Marked"
    if status == "Settled":
        _emit(state, invoice, "InvoiceSettled", manuallyMarked=True, overPaid=False)
    else:
        _emit(state, invoice, "InvoiceInvalid", manuallyMarked=True)
    return invoice


def set_archived(state: SimState, invoice: SimInvoice, archived: bool) -> SimInvoice:
    store = state.stores[invoice.store_id]
    invoice = store.editable(invoice)
    invoice.archived = archived
    store.archive_changed = True
    return invoice

# ONCHAIN and LIGHTNING are re-exported: callers name a payment method with them.
__all__ = [
    "LIGHTNING",
    "ONCHAIN",
    "confirm",
    "create_invoice",
    "expire",
    "invalidate",
    "mark",
    "receive_payment",
    "set_archived",
]
