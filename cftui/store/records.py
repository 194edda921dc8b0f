"""Plain records passed from parsers (BTCPay, webhooks) to the store writer.

They carry already-validated, exact values (sats as int, decimals as text
plus e8 integers, unix-second ints), so the writer never re-parses.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    method: str  # BTC-CHAIN | BTC-LN | BTC-LNURL | ...
    payment_id: str  # on-chain: "txid-vout"; Lightning: payment hash
    value: str  # decimal text as the server wrote it (Lightning: up to 11 places, msat)
    value_msat: int
    fee: str  # the payment's method fee, decimal text (a Lightning fee tweak can be msat, even negative)
    fee_msat: int
    status: str  # Invalid | Processing | Settled
    received_time: int
    destination: str | None


@dataclass(frozen=True, slots=True)
class PaymentMethodRecord:
    method: str
    currency: str
    destination: str | None
    payment_link: str | None
    rate: str | None
    amount_sats: int | None
    paid_sats: int  # from `paymentMethodPaid`
    due_sats: int | None
    fee_sats: int | None
    activated: bool
    payments: tuple[PaymentRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    invoice_id: str
    store_id: str
    status: str
    additional_status: str
    type: str
    currency: str
    amount: str
    amount_e8: int
    paid_amount: str | None
    paid_e8: int | None
    created_time: int
    expiration_time: int
    monitoring_time: int
    archived: bool
    order_id: str | None
    buyer_email: str | None
    item_code: str | None
    item_desc: str | None
    checkout_link: str | None
    metadata: str  # JSON text
    app_id: str | None
    # None: payment methods were not read in this pass (keep what is stored).
    payment_methods: tuple[PaymentMethodRecord, ...] | None = None

    @property
    def btc_paid_sats(self) -> int | None:
        """Sum of `paymentMethodPaid` over the BTC methods (never `totalPaid`)."""
        if self.payment_methods is None:
            return None
        return sum(pm.paid_sats for pm in self.payment_methods if pm.currency.upper() == "BTC")


@dataclass(frozen=True, slots=True)
class AppRecord:
    app_id: str
    name: str
    app_type: str
    archived: bool
    created_time: int | None
    title: str | None = None
    enabled: bool = True
    target_currency: str | None = None
    target_amount: str | None = None
    target_e8: int | None = None
    start_time: int | None = None
    end_time: int | None = None
    reset_every: str = "Never"  # Never | Hour | Day | Month | Year
    reset_every_amount: int = 1
    enforce_target: bool = False


@dataclass(frozen=True, slots=True)
class PerkRecord:
    """One crowdfund perk as BTCPay's ``top-items`` reports it."""

    item_code: str
    title: str | None
    sales_count: int
    total: str  # decimal text as BTCPay sent it
    total_e8: int
    rank: int  # position in BTCPay's answer, 0 = best seller


@dataclass(slots=True)
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # Invoices that became Settled in this write (for "new settled" toasts).
    newly_settled: list[str] = field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.newly_settled.extend(other.newly_settled)
