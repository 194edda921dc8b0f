"""What one invoice adds to a crowdfund's progress, by BTCPay's own rule, kept exact.

BTCPay's crowdfund page sums ``InvoiceRepository.GetContributionsByPaymentMethodId``
(btcpayserver v2.4.1, ``BTCPayServer/Services/Invoices/InvoiceRepository.cs``)
over the app's invoices in the target currency. Per invoice, whatever its status:

* marked Settled with no (accounted) payment: its price counts as settled;
* marked Invalid: nothing counts;
* otherwise each accounted payment received by the invoice's expiry (or any
  payment, once the invoice is marked Settled) counts ``(value - fee) × rate``
  (``PaymentEntity.InvoicePaidAmount.Net``): as settled when the payment is
  Settled, as pending when it is Processing.

(With "enforce target" a New invoice counts its price as pending instead; that
depends on the app, so :mod:`cftui.store.crowdfund` applies it.)

The two figures are computed when an invoice is written and kept in integer
columns, so a crowdfund's progress is a SQL sum however many invoices it has.
A figure is kept to 28 decimal places, the finest a .NET ``decimal``
(BTCPay's own number type) can hold; the products of millisatoshi values and
long rates have more places, so that is the one rounding, half to even. An
integer column cannot hold 28 places of a large amount, so each figure is
three integers: units of 10⁻⁸, then two more columns of ten digits each
(10⁻¹⁸ and 10⁻²⁸). Every column of a sum is summed on its own, exactly, and
:func:`from_units` puts them back together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal

from cftui.store.records import InvoiceRecord

# Wide enough that no product or sum of contract amounts is ever rounded.
EXACT = Context(prec=120)
PLACES = 28
_QUANTUM = Decimal(1).scaleb(-PLACES)
_LIMB = 10**10
_E8_UNIT = _LIMB * _LIMB  # units of 10⁻²⁸ in one 10⁻⁸
ZERO_UNITS = (0, 0, 0)


@dataclass(frozen=True, slots=True)
class Share:
    """One payment as the rule reads it: decimal text as the server wrote it."""

    value: str
    fee: str
    rate: str | None  # the payment method's rate: invoice currency per unit of the method's currency
    status: str  # Settled | Processing | Invalid
    received_time: int


@dataclass(frozen=True, slots=True)
class Contribution:
    settled: Decimal
    pending: Decimal

    def units(self) -> tuple[int, int, int, int, int, int]:
        """The six integer columns: settled (e8, e18, e28), then pending."""
        return (*to_units(self.settled), *to_units(self.pending))


def contribution(status: str, additional_status: str, price: str, expiration_time: int,
                 shares: Iterable[Share]) -> Contribution:
    """BTCPay's contribution of one invoice (see the module doc), in the invoice currency."""
    marked_settled = status == "Settled" and additional_status == "Marked"
    accounted = [share for share in shares if share.status in ("Settled", "Processing")]
    if marked_settled and not accounted:
        return Contribution(Decimal(price), Decimal(0))
    if status == "Invalid" and additional_status == "Marked":
        return Contribution(Decimal(0), Decimal(0))
    settled = pending = Decimal(0)
    for share in accounted:
        # Times are whole seconds on the wire; upstream compares finer times, so a
        # payment in the very second the invoice expired counts here.
        if share.received_time > expiration_time and not marked_settled:
            continue
        net = EXACT.multiply(EXACT.subtract(Decimal(share.value), Decimal(share.fee)), _rate(share.rate))
        if share.status == "Settled":
            settled = EXACT.add(settled, net)
        else:
            pending = EXACT.add(pending, net)
    return Contribution(settled, pending)


def _rate(text: str | None) -> Decimal:
    # Greenfield writes 0 for a method without a currency (GreenfieldInvoiceController.ToPaymentMethodModels).
    return Decimal(0) if text is None else Decimal(text)


def of_record(record: InvoiceRecord) -> Contribution | None:
    """The contribution of a parsed invoice; None when its payment methods were not read."""
    if record.payment_methods is None:
        return None
    shares = [
        Share(p.value, p.fee, method.rate, p.status, p.received_time)
        for method in record.payment_methods
        for p in method.payments
    ]
    return contribution(record.status, record.additional_status, record.amount, record.expiration_time, shares)


def to_units(value: Decimal) -> tuple[int, int, int]:
    """``value`` as (units of 10⁻⁸, then the next ten digits, then the ten after), rounded at 10⁻²⁸."""
    scaled = int(value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN, context=EXACT).scaleb(PLACES, context=EXACT))
    e8, rest = divmod(scaled, _E8_UNIT)  # floor: the two lower columns are never negative
    e18, e28 = divmod(rest, _LIMB)
    return e8, e18, e28


def from_units(e8: int, e18: int, e28: int) -> Decimal:
    """The exact decimal of summed unit columns (each sum may exceed its column's range)."""
    return Decimal(e8 * _E8_UNIT + e18 * _LIMB + e28).scaleb(-PLACES, context=EXACT)
