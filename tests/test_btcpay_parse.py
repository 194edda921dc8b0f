"""The Greenfield record parser against contract-shaped JSON (v2 and v1.x names)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cftui.btcpay.parse import RecordError, metadata_json, parse_app, parse_invoice, parse_payment_methods


def invoice_json(**changes) -> dict:
    obj = {
        "id": "HMprBnL9BTXWuPvpoKBS6e",
        "storeId": "9CiNzKoANXxmk5ayZngSXrHTiVvvgCrwrpFQd4m2K776",
        "amount": "25.50",
        "paidAmount": "25.50",
        "currency": "USD",
        "type": "Standard",
        "checkoutLink": "https://pay.example/i/HMprBnL9BTXWuPvpoKBS6e",
        "createdTime": 1_700_000_000,
        "expirationTime": 1_700_000_900,
        "monitoringExpiration": 1_700_086_400,
        "status": "Settled",
        "additionalStatus": "None",
        "availableStatusesForManualMarking": [],
        "archived": False,
        "metadata": {
            "orderId": "A-1",
            "buyerEmail": "ann@example.com",
            "itemCode": "sponsor",
            "itemDesc": "Sponsor",
            "orderUrl": "https://pay.example/apps/3sDfx2Lm/crowdfund",
            "taxIncluded": Decimal("1.25"),
        },
        "checkout": {},
        "receipt": {},
        "paymentMethods": [],
    }
    obj.update(changes)
    return obj


# Paid 0.0003 BTC on-chain (two outputs) and 0.00012 BTC over Lightning.
# totalPaid is the all-methods figure converted: summing it double-counts.
PAYMENT_METHODS = [
    {
        "paymentMethodId": "BTC-CHAIN",
        "currency": "BTC",
        "destination": "bc1qexample",
        "paymentLink": "bitcoin:bc1qexample",
        "rate": "60000.00",
        "paymentMethodPaid": "0.00030000",
        "totalPaid": "0.00042000",
        "due": "-0.00000100",
        "amount": "0.00041900",
        "paymentMethodFee": "0.00000100",
        "activated": True,
        "additionalData": {},
        "payments": [
            {"id": "ab" * 32 + "-0", "receivedDate": 1_700_000_100, "value": "0.00010000", "fee": "0.00000100",
             "status": "Settled", "destination": "bc1qexample"},
            {"id": "cd" * 32 + "-3", "receivedDate": 1_700_000_200, "value": "0.00020000", "fee": "0",
             "status": "Processing", "destination": "bc1qexample"},
        ],
    },
    {
        "paymentMethodId": "BTC-LN",
        "currency": "BTC",
        "destination": "lnbc1...",
        "paymentLink": "",
        "rate": "60000.00",
        "paymentMethodPaid": "0.00012",
        "totalPaid": "0.00042",
        "due": "0.00000000001",  # msat precision: not whole sats, so unknown
        "amount": "0.00042",
        "paymentMethodFee": "0",
        "activated": True,
        "payments": [
            {"id": "ef" * 32, "receivedDate": 1_700_000_300, "value": "0.00012", "fee": "0", "status": "Settled",
             "destination": "lnbc1..."},
        ],
    },
]


def test_invoice_fields_are_exact():
    record = parse_invoice(invoice_json(), payment_methods=PAYMENT_METHODS)
    assert record.invoice_id == "HMprBnL9BTXWuPvpoKBS6e"
    assert (record.amount, record.amount_e8) == ("25.50", 2_550_000_000)
    assert (record.paid_amount, record.paid_e8) == ("25.50", 2_550_000_000)
    assert record.created_time == 1_700_000_000 and record.monitoring_time == 1_700_086_400
    assert (record.order_id, record.buyer_email, record.item_code) == ("A-1", "ann@example.com", "sponsor")
    assert record.app_id == "3sDfx2Lm"
    # paymentMethodPaid summed, not totalPaid: 30000 + 12000 sats.
    assert record.btc_paid_sats == 42_000
    chain, ln = record.payment_methods
    assert (chain.method, chain.due_sats, chain.fee_sats, chain.rate) == ("BTC-CHAIN", -100, 100, "60000.00")
    assert [(p.value, p.value_msat, p.fee, p.fee_msat) for p in chain.payments] == [
        ("0.00010000", 10_000_000, "0.00000100", 100_000), ("0.00020000", 20_000_000, "0", 0)]
    assert ln.due_sats is None and (ln.payments[0].value, ln.payments[0].value_msat) == ("0.00012", 12_000_000)


def test_metadata_numbers_stay_exact_json_numbers():
    record = parse_invoice(invoice_json())
    assert json.loads(record.metadata, parse_float=Decimal)["taxIncluded"] == Decimal("1.25")
    assert '"taxIncluded":1.25' in record.metadata
    assert metadata_json({"a": "x"}) == '{"a":"x"}'


def test_without_payment_methods_btc_paid_is_unknown():
    record = parse_invoice(invoice_json())
    assert record.payment_methods is None and record.btc_paid_sats is None


def test_v1_field_names_are_read():
    legacy = [
        {"paymentMethod": "BTC", "cryptoCode": "BTC", "rate": "50000", "paymentMethodPaid": "0.001",
         "totalPaid": "0.001", "due": "0", "amount": "0.001", "networkFee": "0.00000500", "activated": True,
         "destination": "1Example", "paymentLink": "bitcoin:1Example", "payments": []},
        {"paymentMethod": "BTC-LightningNetwork", "cryptoCode": "BTC", "rate": "50000", "paymentMethodPaid": "0",
         "totalPaid": "0.001", "due": "0", "amount": "0.001", "networkFee": "0", "activated": True, "payments": []},
    ]
    chain, ln = parse_payment_methods(legacy)
    assert (chain.method, chain.currency, chain.fee_sats, chain.paid_sats) == ("BTC-CHAIN", "BTC", 500, 100_000)
    assert ln.method == "BTC-LN"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount": "abc"}, "amount is not a decimal"),
        ({"amount": 12.5}, "amount is not a decimal"),  # a float: never exact
        ({"amount": "1.123456789"}, "amount is not an exact amount"),
        ({"id": None}, "missing id"),
        ({"createdTime": "2023-11-14T22:13:20Z"}, "createdTime is not a unix time"),
        ({"createdTime": True}, "createdTime is not a unix time"),
        ({"status": "Paid"}, "unknown status"),
        ({"metadata": "x"}, "metadata is not an object"),
        ({"archived": "no"}, "archived is not true or false"),
    ],
)
def test_records_that_do_not_fit_are_refused_with_a_reason(change, reason):
    with pytest.raises(RecordError) as caught:
        parse_invoice(invoice_json(**change))
    assert caught.value.reason == reason
    if change.get("id", "x") is not None:
        assert caught.value.invoice_id == "HMprBnL9BTXWuPvpoKBS6e"
        assert "HMprBnL9BTXWuPvpoKBS6e" in str(caught.value)


def test_a_bad_btc_payment_refuses_the_invoice():
    methods = json.loads(json.dumps(PAYMENT_METHODS))
    methods[0]["paymentMethodPaid"] = "0.000000001"  # not whole sats
    with pytest.raises(RecordError) as caught:
        parse_invoice(invoice_json(), payment_methods=methods)
    assert caught.value.reason == "paymentMethodPaid is not an exact BTC amount"


def test_crowdfund_app_json_number_target():
    app = parse_app(
        {"id": "app1", "appName": "Fund", "storeId": "s", "created": 1_690_000_000, "appType": "Crowdfund",
         "archived": False},
        {"title": "Node fund", "enabled": True, "targetCurrency": "USD", "targetAmount": Decimal("25000.5"),
         "startDate": 1_690_000_000, "endDate": None},
    )
    assert (app.target_amount, app.target_e8, app.end_time) == ("25000.5", 2_500_050_000_000, None)
    assert app.title == "Node fund" and app.created_time == 1_690_000_000


@pytest.mark.parametrize(
    "text",
    ["0", "5.00", "-0.00000100", "0.00012345", "12", "1250", "0.1", "999999999.99999999", "1e-8", "0.000123450",
     "+1.5", ".5", "5.", "１２", "0.123456789", "1234567890.5", "abc", "", "-"],
)
def test_fast_amount_path_agrees_with_decimal(text):
    """The integer fast path gives exactly what Decimal gives, or defers to it."""
    from cftui.btcpay.parse import _decimal_text, _e8_of_plain_decimal
    from cftui.money import AmountError, parse_decimal, to_e8

    fast = _e8_of_plain_decimal(text)
    try:
        slow = to_e8(parse_decimal(text))
    except AmountError:
        slow = None
    if fast is not None:
        assert fast == slow
    try:
        assert _decimal_text(text, "amount", "x")[1] == slow
    except RecordError:
        assert slow is None


def _lightning_method(*, value: str, fee: str, rate: str = "60000.00", paid: str = "0.00015386") -> dict:
    return {
        "paymentMethodId": "BTC-LN", "currency": "BTC", "destination": "lnbc1...", "paymentLink": "",
        "rate": rate, "paymentMethodPaid": paid, "totalPaid": paid, "due": "0", "amount": paid,
        "paymentMethodFee": "0.00000001", "activated": True, "additionalData": {},
        "payments": [{"id": "ef" * 32, "receivedDate": 1_700_000_300, "value": value, "fee": fee,
                      "status": "Settled", "destination": "lnbc1..."}],
    }


def test_lightning_msat_value_and_fee_keep_the_invoice_and_their_exact_text():
    """B1: LNURL, Lightning-address and top-up payments carry msat (11 decimals); a provider's
    tweak fee (LightningLikePaymentHandler.cs) is msat too, and may be negative."""
    for value, fee, value_msat, fee_msat in [
        ("0.00015385123", "0", 15_385_123, 0),
        ("0.00015385877", "0.00000000877", 15_385_877, 877),
        ("0.00015384123", "-0.00000000877", 15_384_123, -877),
    ]:
        record = parse_invoice(invoice_json(), payment_methods=[_lightning_method(value=value, fee=fee)])
        [payment] = record.payment_methods[0].payments
        assert (payment.value, payment.value_msat, payment.fee, payment.fee_msat) == (value, value_msat, fee, fee_msat)
        # BTC paid is still paymentMethodPaid (rounded up to whole sats upstream).
        assert record.btc_paid_sats == 15_386


def test_a_btc_payment_finer_than_a_millisatoshi_is_refused():
    with pytest.raises(RecordError) as caught:
        parse_invoice(invoice_json(), payment_methods=[_lightning_method(value="0.000153851234", fee="0")])
    assert caught.value.reason == "payment value is not an exact BTC amount"


@pytest.mark.parametrize(
    "rate",
    ["65000.123456789",  # a high-precision feed
     "0.0000153846153846153846153846",  # an inverse pair: 1 / x (RateRules.cs)
     "65002.6000026000026000026000026",  # 1 / 0.0000153840 at 28 significant digits
     "64351.62500",  # a spread: bid × (1 - 0.005), scale kept
     "6.5E+4"],  # an exponent (never written by .NET, but a decimal all the same)
)
def test_a_rate_of_any_precision_keeps_the_invoice_and_its_exact_text(rate):
    """B2: the rate is informational; it is kept as written, whatever its precision."""
    record = parse_invoice(invoice_json(), payment_methods=[_lightning_method(value="0.00015386", fee="0", rate=rate)])
    assert record.payment_methods[0].rate == rate


def test_a_rate_that_is_not_a_decimal_is_still_refused():
    with pytest.raises(RecordError) as caught:
        parse_invoice(invoice_json(), payment_methods=[_lightning_method(value="0.00015386", fee="0", rate="fast")])
    assert caught.value.reason == "rate is not a decimal"
