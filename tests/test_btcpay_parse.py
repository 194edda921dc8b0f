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
    assert [p.value_sats for p in chain.payments] == [10_000, 20_000]
    assert ln.due_sats is None and ln.payments[0].value_sats == 12_000


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
