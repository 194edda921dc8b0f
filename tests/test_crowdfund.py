"""Crowdfund progress is BTCPay's own figure (B3), on a real store (SQLite and PostgreSQL) written by the real writer.

Each rule is upstream's, read at btcpayserver v2.4.1:
``InvoiceRepository.GetContributionsByPaymentMethodId`` (which payments count, and
as settled or pending), ``CrowdfundPlugin.GetInfo`` (reset periods, contributor
count, hardcap) and ``AppService.GetInvoicesForApp`` ("count all store invoices").
Expected figures are computed here with plain ``Decimal`` arithmetic.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from decimal import Decimal, localcontext

import pytest

from cftui import clock
from cftui.config import Secret, StoreConfig
from cftui.store import queries
from cftui.store.records import AppRecord, InvoiceRecord, PaymentMethodRecord, PaymentRecord
from cftui.store.writer import ensure_store, upsert_apps, upsert_invoices

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
APP = "FundApp"
RATE = "50000"


def utc(year: int, month: int, day: int) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0))


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(T0 + 30 * 86_400)
    yield
    clock.freeze(None)


def store(name: str = "main"):
    return ensure_store(StoreConfig(name=name, url="https://pay.example", store_id=f"Store-{name}",
                                    api_key=Secret("k")))


def app(**changes) -> AppRecord:
    fields = dict(app_id=APP, name="roof", app_type="Crowdfund", archived=False, created_time=T0 - 86_400,
                  title="Roof", target_currency="USD", target_amount="1000", target_e8=1000 * 10**8,
                  start_time=None, end_time=None)
    fields.update(changes)
    return AppRecord(**fields)


def msat(value: str) -> int:
    return int(Decimal(value).scaleb(11))


def invoice(n: int, *, status: str = "Settled", extra: str = "None", amount: str = "10", currency: str = "USD",
            created: int = T0, payments=(), rate: str = RATE, app_id: str | None = APP,
            methods: bool = True) -> InvoiceRecord:
    """``payments``: (value, fee, status, seconds after creation, method) in BTC text."""
    by_method: dict[str, list[PaymentRecord]] = {"BTC-CHAIN": [], "BTC-LN": []}
    for k, (value, fee, pay_status, after, method) in enumerate(payments):
        by_method[method].append(PaymentRecord(method, f"{n:060x}{k:04x}", value, msat(value), fee, msat(fee),
                                               pay_status, created + after, None))
    pms = tuple(
        PaymentMethodRecord(method, "BTC", None, None, rate, None,
                            -(-sum(p.value_msat for p in mine) // 1000), None, None, True, tuple(mine))
        for method, mine in by_method.items()
    )
    e8 = int(Decimal(amount).scaleb(8))
    return InvoiceRecord(
        invoice_id=f"INV{n:03d}", store_id="Store-main", status=status, additional_status=extra,
        type="Standard", currency=currency, amount=amount, amount_e8=e8, paid_amount=None, paid_e8=None,
        created_time=created, expiration_time=created + 900, monitoring_time=created + 86_400, archived=False,
        order_id=None, buyer_email=None, item_code=None, item_desc=None, checkout_link=None, metadata="{}",
        app_id=app_id, payment_methods=pms if methods else None,
    )


def write(invoices, *, on=None, apps=None, all_store_invoices=()) -> None:
    target = on or store()
    upsert_apps(target, apps if apps is not None else (app(),), all_store_invoices=frozenset(all_store_invoices))
    upsert_invoices(target, invoices, synced_time=T0)


def progress(app_id: str = APP):
    [found] = [p for p in queries.crowdfund_progress() if p.app_id == app_id]
    return found


def net(value: str, fee: str = "0", rate: str = RATE) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 100
        return (Decimal(value) - Decimal(fee)) * Decimal(rate)


def test_settled_is_what_was_paid_net_of_fees_at_the_invoice_rate_not_the_price(db):
    write([
        invoice(1, extra="PaidOver", payments=[("0.00030000", "0", "Settled", 60, "BTC-CHAIN")]),  # 15 for a 10 price
        invoice(2, status="Expired", extra="PaidPartial", payments=[("0.00008000", "0", "Settled", 60, "BTC-CHAIN")]),
        invoice(3, payments=[("0.00020000", "0.00000100", "Settled", 60, "BTC-CHAIN")]),  # net of the fee
    ])
    p = progress()
    assert p.settled == net("0.0003") + net("0.00008") + net("0.0002", "0.000001") == Decimal("28.95")
    assert (p.pending, p.raised, p.contributions) == (0, Decimal("28.95"), 2)  # the Expired one is no contributor
    assert p.percent == Decimal("2.90") and p.target == 1000 and p.currency == "USD"


def test_msat_payments_at_long_rates_are_summed_exactly(db):
    rates = ["65002.6000026000026000026000026", "0.3333333333333333333333333333", "64351.62500"]
    values = ["0.00015385123", "0.00000000001", "0.00099999999"]
    write([invoice(n, rate=rate, payments=[(value, "0.00000000877", "Settled", 30, "BTC-LN")])
           for n, (rate, value) in enumerate(zip(rates, values, strict=True))])
    p = progress()
    with localcontext() as ctx:
        ctx.prec = 100  # 30 significant digits: the default 28 would round the expected sum itself
        terms = (net(v, "0.00000000877", r).quantize(Decimal("1e-28")) for v, r in zip(values, rates, strict=True))
        expected = sum(terms, Decimal(0))
    assert len(expected.as_tuple().digits) == 30
    assert p.settled == expected
    assert p.settled.as_tuple().exponent == -28  # nothing rounded away: 28 places, as a .NET decimal holds
    assert p.shown(p.raised) == Decimal("74.35") == round(expected, 2)


def test_pending_is_what_still_confirms(db):
    write([
        invoice(1, status="Processing", payments=[("0.00020000", "0", "Processing", 60, "BTC-CHAIN")]),
        invoice(2, status="Processing", payments=[("0.00010000", "0", "Settled", 60, "BTC-LN"),
                                                  ("0.00010000", "0", "Processing", 90, "BTC-CHAIN")]),
    ])
    p = progress()
    assert (p.settled, p.pending, p.raised) == (Decimal(5), Decimal(15), Decimal(20))
    assert p.percent == Decimal("0.50") and p.percent_raised == Decimal("2.00") and p.contributions == 2


def test_marked_late_and_invalid_invoices_follow_upstream(db):
    write([
        invoice(1, extra="Marked", amount="50"),  # marked settled, no payment: its price
        invoice(2, status="Invalid", extra="Marked", payments=[("0.0004", "0", "Settled", 60, "BTC-CHAIN")]),  # 0
        invoice(3, status="Expired", extra="PaidLate", payments=[("0.0002", "0", "Settled", 1_000, "BTC-CHAIN")]),
        invoice(4, extra="Marked", payments=[("0.0002", "0", "Settled", 1_000, "BTC-CHAIN")]),  # late, but marked
        invoice(5, status="Invalid", payments=[("0.0002", "0", "Processing", 60, "BTC-CHAIN")]),  # never confirmed
        invoice(6, status="Expired", payments=[("0.0001", "0", "Settled", 900, "BTC-LN")]),  # at the expiry second
    ])
    p = progress()
    assert p.settled == Decimal(50) + Decimal(10) + Decimal(5)
    assert p.pending == Decimal(10)  # invoice 5's payment still counts as processing upstream
    assert p.contributions == 2


def test_an_enforced_target_counts_unpaid_new_invoices_as_pending(db):
    new_partly_paid = invoice(1, status="New", extra="PaidPartial", amount="30",
                              payments=[("0.0001", "0", "Settled", 30, "BTC-LN")])
    write([new_partly_paid, invoice(2, payments=[("0.0002", "0", "Settled", 30, "BTC-LN")])])
    soft = progress()
    assert (soft.settled, soft.pending, soft.hardcap) == (Decimal(15), Decimal(0), False)
    write([], apps=(app(enforce_target=True),))
    hard = progress()
    # Upstream returns early for a New invoice under a hardcap: its price, as pending, and nothing settled.
    assert (hard.settled, hard.pending, hard.hardcap) == (Decimal(10), Decimal(30), True)
    assert any("enforce" in rule for rule in hard.rules)


def test_only_the_target_currency_counts_compared_without_case(db):
    write([
        invoice(1, currency="EUR", payments=[("0.0002", "0", "Settled", 30, "BTC-LN")]),
        invoice(2, currency="usd", payments=[("0.0002", "0", "Settled", 30, "BTC-LN")]),
        invoice(3, payments=[("0.0002", "0", "Settled", 30, "BTC-LN")]),
    ])
    p = progress()
    assert p.settled == Decimal(20) and p.contributions == 3  # contributors count every currency, as upstream
    assert p.btc_paid_sats == 60_000


def test_a_reset_period_counts_the_current_period_only(db):
    start = utc(2026, 1, 31)
    clock.freeze(utc(2026, 4, 10) + 3600)
    created = [utc(2026, 2, 27), utc(2026, 3, 27), utc(2026, 3, 28), utc(2026, 4, 9)]
    write([invoice(n, created=at, payments=[("0.0002", "0", "Settled", 30, "BTC-LN")]) for n, at in enumerate(created)],
          apps=(app(start_time=start, reset_every="Month", reset_every_amount=1),))
    p = progress()
    # AddMonths from the last (clamped) date, as CrowdfundPlugin.GetInfo's loop does: Jan 31, Feb 28, Mar 28, Apr 28.
    assert (p.period_start, p.next_reset) == (utc(2026, 3, 28), utc(2026, 4, 28))
    assert (p.settled, p.contributions) == (Decimal(20), 2)
    assert (p.reset_every, p.reset_every_amount) == ("Month", 1)
    write([], apps=(app(start_time=None, reset_every="Month", reset_every_amount=1),))
    assert progress().period_start is None and progress().settled == Decimal(40)  # no start date: never resets


@pytest.mark.parametrize(("every", "amount", "last", "following"), [
    ("Hour", 5, datetime(2026, 4, 9, 23, 0), datetime(2026, 4, 10, 4, 0)),
    ("Day", 7, datetime(2026, 4, 4), datetime(2026, 4, 11)),
    ("Year", 1, datetime(2026, 1, 31), datetime(2027, 1, 31)),
    ("Never", 1, None, None),
])
def test_reset_periods_of_every_kind(db, every, amount, last, following):
    clock.freeze(utc(2026, 4, 10) + 3600)
    write([], apps=(app(start_time=utc(2026, 1, 31), reset_every=every, reset_every_amount=amount),))

    def ts(moment):
        return None if moment is None else int(moment.replace(tzinfo=UTC).timestamp())

    assert (progress().period_start, progress().next_reset) == (ts(last), ts(following))


def test_count_all_store_invoices_when_the_config_says_so(db):
    main, side = store("main"), store("side")
    paid = [("0.0002", "0", "Settled", 30, "BTC-LN")]
    write(
        [invoice(1, payments=paid), invoice(2, payments=paid, app_id=None), invoice(3, payments=paid, app_id="Other")],
        on=main,
    )
    upsert_invoices(side, [invoice(4, payments=paid, app_id=None)], synced_time=T0)
    assert progress().settled == Decimal(10) and not progress().all_store_invoices
    write([], on=main, all_store_invoices={APP})
    p = progress()
    assert (p.settled, p.contributions, p.all_store_invoices) == (Decimal(30), 3, True)
    assert any("every invoice of the store" in rule for rule in p.rules)


def test_an_invoice_read_without_its_payment_methods_keeps_its_contribution(db):
    write([invoice(1, payments=[("0.0002", "0", "Settled", 30, "BTC-LN")])])
    upsert_invoices(store(), [invoice(1, methods=False)], synced_time=T0 + 5)
    assert progress().settled == Decimal(10)


def test_each_figure_names_the_rule_it_follows(db):
    write([invoice(1, payments=[("0.0002", "0", "Settled", 30, "BTC-LN")])])
    rules = " ".join(progress().rules)
    for source in ("GetContributionsByPaymentMethodId", "CrowdfundPlugin.GetInfo", "AppService.GetInvoicesForApp"):
        assert source in rules
    assert "not readable through the Greenfield API" in rules
