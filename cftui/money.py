"""Exact money.

Bitcoin is kept as integer satoshis; fiat as exact decimals. The store keeps
every amount twice: the decimal text as the server wrote it (for display) and
an integer in units of 1e-8 ("e8") so SQL can add amounts exactly. Floats are
never used for money anywhere in cftui.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Context, Decimal, InvalidOperation

SATS_PER_BTC = 100_000_000
MSAT_PER_SAT = 1000
E8 = Decimal(100_000_000)
# Largest value an e8 integer may hold in a signed 64-bit column, with room
# for sums of many such values.
_MAX_E8_ABS = 10**17
# Scaling by a power of ten must never round (the default context keeps 28 digits).
_EXACT = Context(prec=1000)


class AmountError(ValueError):
    """A value that is not an exact decimal amount."""


def parse_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Read a contract amount: a decimal string (BTCPay also accepts numbers).

    Floats are refused: a float has already lost exactness before we see it.
    """
    if isinstance(value, bool) or value is None:
        raise AmountError(f"{field} is {value!r}, not a decimal")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # json.loads(parse_float=Decimal) is used everywhere, so a float here
        # means a caller bypassed it.
        raise AmountError(f"{field} is a float ({value!r}); amounts must be exact")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise AmountError(f"{field} is empty")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise AmountError(f"{field} {value!r} is not a decimal") from None
    else:
        raise AmountError(f"{field} has type {type(value).__name__}, not a decimal string")
    if not result.is_finite():
        raise AmountError(f"{field} {value!r} is not a finite decimal")
    return result


def to_e8(value: Decimal, *, field: str = "amount") -> int:
    """Decimal to integer units of 1e-8, refusing any loss of precision."""
    return _to_units(value, 8, field)


def to_msat(value: Decimal, *, field: str = "amount") -> int:
    """A BTC decimal to integer millisatoshis (units of 1e-11), refusing any loss of precision.

    Lightning amounts are msat (BTCPay's LightMoney), so nothing real is finer.
    """
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):  # "n", "N" or "F": a NaN or an infinity
        raise AmountError(f"{field} {value} is not a finite amount")
    return _to_units(value, 11, field) if exponent < -8 else to_e8(value, field=field) * MSAT_PER_SAT


def _to_units(value: Decimal, places: int, field: str) -> int:
    if not value.is_finite():
        raise AmountError(f"{field} {value} is not a finite amount")
    scaled = value.scaleb(places, context=_EXACT)
    integral = scaled.to_integral_value(rounding=ROUND_DOWN, context=_EXACT)
    if scaled != integral:
        raise AmountError(f"{field} {value} has more than {places} decimal places")
    result = int(integral)
    if abs(result) > _MAX_E8_ABS * 10 ** (places - 8):
        raise AmountError(f"{field} {value} is out of range")
    return result


def btc_to_sats(value: object, *, field: str = "amount") -> int:
    """A BTC decimal string (on-chain or Lightning) to integer satoshis, exactly.

    Lightning values can carry millisatoshi precision (11 decimals); a value
    that is not a whole number of satoshis is refused rather than rounded.
    """
    return to_e8(parse_decimal(value, field=field), field=field)


def e8_to_decimal(units: int) -> Decimal:
    return Decimal(units) / E8


def format_sats(sats: int) -> str:
    """12345678 -> '12,345,678 sat'."""
    return f"{sats:,} sat"


def format_msat(msat: int) -> str:
    """Millisatoshis as sats, with the msat only when there are any: '15,385.123 sat', '15,385 sat'."""
    sats, rest = divmod(abs(msat), MSAT_PER_SAT)
    sign = "-" if msat < 0 else ""
    return f"{sign}{sats:,}.{rest:03d} sat" if rest else f"{sign}{sats:,} sat"


def format_btc(sats: int) -> str:
    """Satoshis as BTC with all 8 decimals: 12345678 -> '0.12345678 BTC'."""
    sign = "-" if sats < 0 else ""
    whole, frac = divmod(abs(sats), SATS_PER_BTC)
    return f"{sign}{whole:,}.{frac:08d} BTC"


def format_btc_msat(msat: int) -> str:
    """Millisatoshis as BTC: 8 decimals, and 11 when there is a part of a satoshi (Lightning)."""
    sats, rest = divmod(abs(msat), MSAT_PER_SAT)
    text = format_btc(sats)
    if rest:
        text = text.replace(" BTC", f"{rest:03d} BTC")
    return ("-" if msat < 0 else "") + text


# ISO 4217 minor units for display; unknown currencies show 2 decimals.
_MINOR_UNITS = {
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2, "TWD": 2,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
    "BTC": 8, "LTC": 8, "SATS": 0,
}


def currency_places(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def format_fiat(value: Decimal, currency: str) -> str:
    """Exact decimal as '1,234.50 USD'. Quantizes for display only, and never
    hides precision: a value with more places than the currency keeps them."""
    quantum = Decimal(1).scaleb(-currency_places(currency))
    shown = value.quantize(quantum) if value == value.quantize(quantum) else value
    return f"{shown:,} {currency}"


def format_e8(units: int, currency: str) -> str:
    return format_fiat(e8_to_decimal(units), currency)
