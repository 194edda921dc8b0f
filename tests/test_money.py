"""Exact money: decimal strings in, integer sats and e8 units out, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cftui import money


@pytest.mark.parametrize(
    ("text", "sats"),
    [("0.00012345", 12345), ("1", 100_000_000), ("21000000", 2_100_000_000_000_000), ("0.1", 10_000_000),
     ("0.30000000", 30_000_000), ("-0.00000001", -1), ("0.00001000000", 1000)],
)
def test_btc_to_sats_is_exact(text, sats):
    assert money.btc_to_sats(text) == sats


@pytest.mark.parametrize("bad", ["abc", "", "1e", "NaN", "Infinity", None, True, 0.1, [], "0.000000001"])
def test_bad_amounts_are_refused(bad):
    with pytest.raises(money.AmountError):
        money.btc_to_sats(bad)


def test_decimal_and_int_inputs_are_accepted():
    assert money.parse_decimal(Decimal("5.00")) == Decimal("5.00")
    assert money.parse_decimal(7) == Decimal(7)
    assert money.to_e8(Decimal("1234.56")) == 123_456_000_000


def test_sum_of_many_small_amounts_stays_exact():
    amounts = ["0.1"] * 10 + ["0.2"] * 5
    assert sum(money.to_e8(money.parse_decimal(a)) for a in amounts) == money.to_e8(Decimal("2.0"))


def test_formatting():
    assert money.format_btc(12_345_678) == "0.12345678 BTC"
    assert money.format_btc(-100_000_001) == "-1.00000001 BTC"
    assert money.format_sats(1_234_567) == "1,234,567 sat"
    assert money.format_fiat(Decimal("1234.5"), "USD") == "1,234.50 USD"
    assert money.format_fiat(Decimal("1000"), "JPY") == "1,000 JPY"
    assert money.format_fiat(Decimal("0.125"), "EUR") == "0.125 EUR"  # never hides precision
    assert money.format_e8(150_000_000, "EUR") == "1.50 EUR"


@pytest.mark.parametrize("bad", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_a_number_that_is_not_finite_is_refused_in_msat_and_e8(bad):
    with pytest.raises(money.AmountError, match="not a finite"):
        money.to_msat(Decimal(bad))
    with pytest.raises(money.AmountError, match="not a finite"):
        money.to_e8(Decimal(bad))
