"""Seeded invoice generator.

Invoice ``i`` of a store is a pure function of (seed, store id, i), so a store
of 1,000,000 invoices never exists in memory: the server computes the few it
serves. Creation times increase with ``i`` (newest = highest ``i``), so date
filters and newest-first paging are binary searches, not scans.

Ids and order ids embed ``i`` through a keyed permutation, so a lookup by id is
O(1) too. Crowdfund membership and archiving follow arithmetic rules for the
same reason; nothing a client sees reveals them.
"""

from __future__ import annotations

import bisect
import calendar
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal

from cftui.sim.config import (
    BASE58_ALPHABET,
    DAY,
    SimConfig,
    SimCrowdfund,
    SimPerk,
    SimStore,
    base58_like,
    digest,
)
from cftui.sim.jsontypes import JsonObject

ONCHAIN = "BTC-CHAIN"
LIGHTNING = "BTC-LN"
SATS_PER_BTC = 100_000_000
EXPIRATION_MINUTES = 15
MONITORING_MINUTES = 1440
SPEED_POLICY = "MediumSpeed"
# Invoices older than this may be archived (every ARCHIVE_EVERY-th one).
ARCHIVE_AGE = 60 * DAY
ARCHIVE_EVERY, ARCHIVE_SLOT = 29, 13
# One invoice in CROWDFUND_EVERY belongs to a crowdfund app (the "20%").
CROWDFUND_EVERY, CROWDFUND_SLOT = 5, 2
# The newest invoices of a store are spread over the last hour before `now`.
RECENT_COUNT, RECENT_WINDOW = 12, 3600
# Plain (e-commerce) order ids are sequential numbers from here.
ORDER_BASE = 10_000

_PLACES = {"JPY": 0, "BTC": 8}
_CURRENCY_WEIGHTS = {"USD": 50, "EUR": 25, "JPY": 10, "BTC": 15}
# Fiat per BTC in minor units, relative to USD cents.
_RATE_FACTOR = {"USD": (1, 1), "EUR": (92, 100), "JPY": (150, 100), "GBP": (79, 100)}
# Each currency's rate rule, as a store's rate script would give them (RateRules.cs): a plain
# feed (the currency's places), a spread (bid × (1 - 0.5 %): the scale of both kept), or an
# inverse pair (1 / the BTC price of one unit, to 28 significant digits, as .NET divides).
MSAT_PER_SAT = 1000
_RATE_RULES = {"USD": "spread", "EUR": "inverse", "JPY": "plain", "GBP": "plain"}
_SPREAD = Decimal("0.995")
_INVERSE = Context(prec=28)
_EXACT_UP = Context(prec=80, rounding=ROUND_CEILING)
_NICE_CENTS = (500, 1000, 1999, 2500, 4900, 10000, 25000, 125000)
# Outcomes and their weights.
_OUTCOMES = (
    ("unpaid", 28), ("paid", 45), ("partial", 7), ("over", 5), ("late", 4),
    ("invalid", 3), ("marked_settled", 3), ("marked_invalid", 1), ("topup", 4),
)
_ITEMS = (
    ("tshirt", "T-shirt"), ("sticker", "Sticker pack"), ("ticket", "Conference ticket"),
    ("book", "Mastering Bitcoin"), ("coffee", "Coffee beans 1 kg"), ("hoodie", "Hoodie"),
)
_BUYERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
_ID_SPACE = 58**6
_ID_MULT = 2_654_435_761  # coprime with 58**6, so the map below is a permutation
_ID_MULT_INV = pow(_ID_MULT, -1, _ID_SPACE)
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_HEX_TO_BECH32 = str.maketrans("0123456789abcdef", _BECH32[:16])
_HEX_TO_BECH32_HIGH = str.maketrans("0123456789abcdef", _BECH32[16:])


def currency_places(currency: str) -> int:
    return _PLACES.get(currency, 2)


def minor_to_text(units: int, places: int) -> str:
    """Integer minor units to decimal text with exactly ``places`` decimals (like .NET keeps the scale)."""
    if places == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def sats_to_btc(sats: int) -> str:
    if sats >= 0:  # the common case, kept cheap: it runs ~10 times per served invoice
        return f"{sats // SATS_PER_BTC}.{sats % SATS_PER_BTC:08d}"
    return minor_to_text(sats, 8)


def text_to_minor(text: str, places: int) -> int:
    return int(Decimal(text).scaleb(places))


def msat_to_btc(msat: int) -> str:
    """Millisatoshis as BTC the way LightMoney.ToDecimal writes them: no trailing zeros ("0.00015385123")."""
    return format(Decimal(msat).scaleb(-11).normalize(), "f") if msat else "0"


@dataclass(slots=True)
class SimPayment:
    method: str  # ONCHAIN | LIGHTNING
    id: str  # on-chain "<txid>-<vout>", Lightning payment hash
    received: int
    msat: int  # the payment's value; whole sats on-chain, any msat over Lightning
    status: str  # Processing | Settled | Invalid (Invalid = not accounted, e.g. a replaced tx)
    destination: str
    # The payment's method fee: a Lightning provider's fee tweak (LightningLikePaymentHandler.cs)
    # is the msat its BOLT11 differs from the amount asked.
    fee_msat: int = 0

    @property
    def accounted(self) -> bool:
        return self.status != "Invalid"

    def value_text(self) -> str:
        return sats_to_btc(self.msat // MSAT_PER_SAT) if self.method == ONCHAIN else msat_to_btc(self.msat)


@dataclass(slots=True)
class SimInvoice:
    """The facts of one invoice; :mod:`cftui.sim.render` turns them into Greenfield JSON."""

    store_id: str
    index: int
    id: str
    created: int
    currency: str
    amount: str  # decimal text in `currency`
    type: str  # Standard | TopUp
    status: str
    additional_status: str
    archived: bool
    metadata: JsonObject
    rate: str  # invoice currency per BTC, decimal text as BTCPay writes it ("1" for BTC invoices)
    due_sats: int  # the invoice amount in sats
    chain_destination: str
    ln_destination: str
    key_path: str
    app_id: str | None = None
    payments: list[SimPayment] = field(default_factory=list)

    @property
    def expiration(self) -> int:
        return self.created + EXPIRATION_MINUTES * 60

    @property
    def monitoring(self) -> int:
        return self.expiration + MONITORING_MINUTES * 60

    @property
    def order_id(self) -> str | None:
        return self.metadata.get("orderId")

    def paid_msat(self, method: str) -> int:
        """Accounted msat through ``method`` (gross: fees included)."""
        return sum(p.msat for p in self.payments if p.accounted and p.method == method)

    def paid_sats(self, method: str | None = None) -> int:
        """``paymentMethodPaid`` in sats: each method's accounted payments, rounded up to whole sats
        (``PaymentPrompt.Calculate``: Coins(…, 8)); of ``method``, or summed over both."""
        methods = (ONCHAIN, LIGHTNING) if method is None else (method,)
        return sum(-(-self.paid_msat(m) // MSAT_PER_SAT) for m in methods)

    def net_paid_sats(self) -> Decimal:
        """Accounted payments net of their fees, in sats (msat-exact): what is compared with the amount due."""
        return Decimal(sum(p.msat - p.fee_msat for p in self.payments if p.accounted)) / MSAT_PER_SAT

    def paid_amount(self) -> str:
        """Net paid (value - fee, × rate), in the invoice currency, rounded half to even to its
        decimals (invoice ``paidAmount``: Math.Round of PaidAmount.Net)."""
        places = currency_places(self.currency)
        net = sum(p.msat - p.fee_msat for p in self.payments if p.accounted)
        exact = _EXACT_UP.multiply(Decimal(net).scaleb(-11), Decimal(self.rate))
        minor = exact.scaleb(places).to_integral_value(ROUND_HALF_EVEN)
        return minor_to_text(int(minor), places)

    def search_terms(self) -> tuple[str, ...]:
        """What ``textSearch`` matches by prefix (BTCPay's stored search terms)."""
        terms = [self.id, self.store_id, self.amount]
        for key in ("orderId", "buyerEmail"):
            value = self.metadata.get(key)
            if isinstance(value, str):
                terms.append(value)
        if self.app_id is not None:
            terms.append(f"crowdfund-app_{self.app_id}")
        terms.extend(p.destination for p in self.payments)
        return tuple(terms)


class StoreGenerator:
    """Computes the invoices of one store on demand."""

    def __init__(self, config: SimConfig, store: SimStore, base_url: str = "http://127.0.0.1") -> None:
        self.base_url = base_url
        self.seed = config.seed
        self.now = config.now
        self.store = store
        self.count = store.invoice_count
        self.span = store.span_days * DAY
        self.start = config.now - self.span
        self.recent = min(RECENT_COUNT, store.invoice_count // 10)
        self._id_offset = int.from_bytes(digest("ids", config.seed, store.store_id, size=8)) % _ID_SPACE
        weights = [(c, _CURRENCY_WEIGHTS.get(c, 10)) for c in store.currencies]
        self._currencies = [c for c, _ in weights]
        self._currency_cum = [sum(w for _, w in weights[: k + 1]) for k in range(len(weights))]
        self._apps = store.crowdfunds
        self._app_by_id = {app.app_id: app for app in store.crowdfunds}
        self.archive_before = self.first_index_at_or_after(config.now - ARCHIVE_AGE)

    # -- time --------------------------------------------------------------
    def created(self, i: int) -> int:
        """Creation time of generated invoice ``i``: increasing, denser towards now, weekly rhythm.

        The newest ``recent`` invoices fall in the last hour, so every store has
        invoices still New or Processing at ``now``.
        """
        older = self.count - self.recent
        if i >= older:
            step = RECENT_WINDOW // (self.recent + 1)
            return self.now - RECENT_WINDOW + (i - older + 1) * step
        u = i / older
        weeks = max(1, self.store.span_days // 7)
        wave = 0.5 * math.sin(2 * math.pi * weeks * u) / (2 * math.pi * weeks)
        offset = int((self.span - RECENT_WINDOW) * (u**0.75 + wave))
        return self.start + min(max(offset, 0), self.span - RECENT_WINDOW - 1)

    def first_index_at_or_after(self, ts: int) -> int:
        """Smallest generated index created at or after ``ts`` (``count`` if none)."""
        return bisect.bisect_left(range(self.count), ts, key=self.created)

    def first_index_after(self, ts: int) -> int:
        return bisect.bisect_right(range(self.count), ts, key=self.created)

    # -- identifiers ---------------------------------------------------------
    def _encode_index(self, i: int) -> str:
        return base58_like(((i * _ID_MULT + self._id_offset) % _ID_SPACE).to_bytes(5), 6)

    def _decode_index(self, text: str) -> int | None:
        value = 0
        for char in reversed(text):
            pos = _BASE58_INDEX.get(char)
            if pos is None:
                return None
            value = value * 58 + pos
        if value >= _ID_SPACE:
            return None
        return ((value - self._id_offset) * _ID_MULT_INV) % _ID_SPACE

    def invoice_id(self, i: int) -> str:
        prefix = digest("inv", self.seed, self.store.store_id, i, size=16).translate(_BYTE_TO_BASE58).decode()
        return prefix + self._encode_index(i)

    def index_of_id(self, invoice_id: str) -> int | None:
        """The index an id encodes, if it is one of this store's ids."""
        if len(invoice_id) != 22:
            return None
        i = self._decode_index(invoice_id[16:])
        if i is None or self.invoice_id(i) != invoice_id:
            return None
        return i

    def indexes_of_order_id(self, order_id: str) -> list[int]:
        """Generated indexes whose orderId could be ``order_id`` (callers check the invoice)."""
        found = []
        if order_id.isdigit() and not order_id.startswith("0"):
            i = int(order_id) - ORDER_BASE
            if 0 <= i < self.count:
                found.append(i)
        if len(order_id) == 16:
            decoded = self._decode_index(order_id[10:])
            if decoded is not None and decoded < self.count:
                found.append(decoded)
        return found

    def crowdfund_indexes_desc(self, hi: int, lo: int) -> range:
        """Generated indexes in [lo, hi) that may belong to a crowdfund, newest first."""
        top = hi - 1 - ((hi - 1 - CROWDFUND_SLOT) % CROWDFUND_EVERY)
        return range(top, lo - 1, -CROWDFUND_EVERY)

    def is_archived(self, i: int) -> bool:
        return i < self.archive_before and i % ARCHIVE_EVERY == ARCHIVE_SLOT

    def archived_between(self, lo: int, hi: int) -> int:
        """How many generated invoices in [lo, hi) are archived (closed form)."""
        hi = min(hi, self.archive_before)
        if hi <= lo:
            return 0

        def upto(n: int) -> int:  # count of k in [0, n) with k % EVERY == SLOT
            return (n - ARCHIVE_SLOT + ARCHIVE_EVERY - 1) // ARCHIVE_EVERY if n > ARCHIVE_SLOT else 0

        return upto(hi) - upto(lo)

    def app_of(self, i: int, created: int) -> SimCrowdfund | None:
        if not self._apps or i % CROWDFUND_EVERY != CROWDFUND_SLOT:
            return None
        app = self._apps[(i // CROWDFUND_EVERY) % len(self._apps)]
        start = app.start_date if app.start_date is not None else app.created
        return app if created >= start else None

    def app(self, app_id: str) -> SimCrowdfund | None:
        return self._app_by_id.get(app_id)

    # -- invoices ----------------------------------------------------------
    def rng(self, i: int) -> random.Random:
        return FastRandom(int.from_bytes(digest(self.seed, self.store.store_id, i, size=16)))

    def contents(self, rng: random.Random, i: int, created: int) -> tuple[str, int, JsonObject, str | None]:
        """What invoice ``i`` is for: (currency, amount in minor units, metadata, crowdfund app id)."""
        app = self.app_of(i, created)
        if app is not None:
            perk = app.perks[rng.randrange(len(app.perks))] if app.perks else None
            metadata = self._crowdfund_metadata(rng, i, app, perk)
            return app.target_currency, _perk_amount(rng, perk, app.target_currency), metadata, app.app_id
        currency = self._pick_currency(rng)
        metadata = self._shop_metadata(rng, i)
        return currency, _random_amount(rng, currency), metadata, None

    def invoice(self, i: int) -> SimInvoice:
        """Generated invoice ``i`` (0 <= i < count) as it stands at the config's ``now``."""
        rng = self.rng(i)
        created = self.created(i)
        currency, amount_minor, metadata, app_id = self.contents(rng, i, created)
        invoice = new_invoice(
            self, rng, index=i, created=created, currency=currency, amount_minor=amount_minor,
            metadata=metadata, app_id=app_id,
        )
        invoice.archived = self.is_archived(i)
        apply_outcome(invoice, pick_weighted(rng, _OUTCOMES), rng, now=self.now)
        return invoice

    def _pick_currency(self, rng: random.Random) -> str:
        roll = rng.randrange(self._currency_cum[-1])
        return self._currencies[bisect.bisect_right(self._currency_cum, roll)]

    def _shop_metadata(self, rng: random.Random, i: int) -> JsonObject:
        metadata: JsonObject = {}
        if rng.randrange(10) < 7:
            metadata["orderId"] = str(ORDER_BASE + i)
        if rng.randrange(10) < 6:
            metadata["buyerEmail"] = f"{_BUYERS[rng.randrange(len(_BUYERS))]}{i % 997}@example.com"
        code, desc = _ITEMS[rng.randrange(len(_ITEMS))]
        metadata["itemCode"] = code
        metadata["itemDesc"] = desc
        roll = rng.randrange(100)
        if roll < 20:
            metadata["posData"] = {"tip": rng.randrange(0, 3), "source": "pos", "cart": [{"id": code, "count": 1}]}
        elif roll < 23:
            # Legacy invoices store posData as a JSON string.
            metadata["posData"] = '{"source":"legacy-pos","table":' + str(rng.randrange(1, 20)) + "}"
        if rng.randrange(20) == 0:
            metadata["taxIncluded"] = rng.randrange(1, 9)
        return metadata

    def _crowdfund_metadata(self, rng: random.Random, i: int, app: SimCrowdfund, perk: SimPerk | None) -> JsonObject:
        order_id = base58_like(rng.getrandbits(64).to_bytes(8), 10) + self._encode_index(i)
        metadata: JsonObject = {"orderId": order_id, "orderUrl": f"{self.base_url}/apps/{app.app_id}/crowdfund"}
        if perk is not None:
            metadata["itemCode"] = perk.id
            metadata["itemDesc"] = perk.title
        metadata["buyerEmail"] = f"{_BUYERS[rng.randrange(len(_BUYERS))]}.backer{i % 991}@example.org"
        return metadata


class FastRandom(random.Random):
    """``random.Random`` with cheaper small-integer draws: the generator makes
    about twenty per invoice, and the stdlib versions dominated its profile."""

    def randrange(self, start: int, stop: int | None = None) -> int:  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


_BYTE_TO_BASE58 = bytes(BASE58_ALPHABET[b % 58].encode()[0] for b in range(256))
_BASE58_INDEX = {char: pos for pos, char in enumerate(BASE58_ALPHABET)}


def pick_weighted(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    roll = rng.randrange(sum(weight for _, weight in weighted))
    for name, weight in weighted:
        if roll < weight:
            return name
        roll -= weight
    return weighted[-1][0]


def _random_amount(rng: random.Random, currency: str) -> int:
    """An amount in minor units: some round prices, most spread over several magnitudes."""
    if currency == "BTC":
        return rng.randrange(1_000, 10 ** rng.randint(5, 7))
    if currency == "JPY":
        return rng.randrange(100, 10 ** rng.randint(3, 6))
    if rng.randrange(10) < 4:
        return _NICE_CENTS[rng.randrange(len(_NICE_CENTS))]
    return rng.randrange(100, 10 ** rng.randint(3, 6))


def _perk_amount(rng: random.Random, perk: SimPerk | None, currency: str) -> int:
    places = currency_places(currency)
    if perk is None or perk.price is None:
        return _random_amount(rng, currency)
    price = text_to_minor(perk.price, places)
    if perk.price_type == "Minimum":
        return price + price * rng.randrange(0, 4) // 2
    return price


def usd_cents_per_btc(ts: int, noise: int) -> int:
    """A made-up but smooth BTC/USD history (cents), with ``noise`` per-mille jitter."""
    day = ts // DAY
    # A triangle wave between $30k and $90k over ~8 years, plus a monthly ripple.
    base = 3_000_000 + abs(day % 3000 - 1500) * 4_000 + (day % 29) * 2_000
    return base * (1000 + noise) // 1000


def new_invoice(
    gen: StoreGenerator,
    rng: random.Random,
    *,
    index: int,
    created: int,
    currency: str,
    amount_minor: int,
    metadata: JsonObject,
    app_id: str | None,
) -> SimInvoice:
    """An unpaid New invoice (used by the generator and by live mode)."""
    places = currency_places(currency)
    if currency == "BTC":
        rate = "1"
        due_sats = amount_minor
    else:
        num, den = _RATE_FACTOR.get(currency, (1, 1))
        usd = usd_cents_per_btc(created, rng.randint(-15, 15))
        rate = rate_text(currency, usd * num // den)
        # The BTC amount: price / rate, rounded up to whole sats (Coins(…, 8)).
        exact = _EXACT_UP.divide(Decimal(amount_minor).scaleb(8 - places), Decimal(rate))
        due_sats = int(exact.to_integral_value(ROUND_CEILING))
    address = "bc1q" + f"{rng.getrandbits(152):038x}".translate(_HEX_TO_BECH32)
    bolt11 = (
        f"lnbc{due_sats * 10}n1p"
        + f"{rng.getrandbits(800):0200x}".translate(_HEX_TO_BECH32_HIGH)
        + f"{rng.getrandbits(40):010x}".translate(_HEX_TO_BECH32)
    )
    return SimInvoice(
        store_id=gen.store.store_id,
        index=index,
        id=gen.invoice_id(index),
        created=created,
        currency=currency,
        amount=minor_to_text(amount_minor, places),
        type="Standard",
        status="New",
        additional_status="None",
        archived=False,
        metadata=metadata,
        rate=rate,
        due_sats=due_sats,
        chain_destination=address,
        ln_destination=bolt11,
        key_path=f"0/{index}",
        app_id=app_id,
    )


def rate_text(currency: str, minor: int) -> str:
    """The rate BTCPay would write for ``currency`` whose plain feed says ``minor`` minor units per BTC."""
    places = currency_places(currency)
    plain = Decimal(minor_to_text(minor, places))
    rule = _RATE_RULES.get(currency, "plain")
    if rule == "spread":
        return str(plain * _SPREAD)  # scales add: 2 + 3 places, trailing zeros kept
    if rule == "inverse":
        # The feed quotes one unit in BTC (12 significant digits); the rule divides 1 by it.
        quote = _INVERSE.divide(Decimal(1), plain).quantize(Decimal(1).scaleb(-16))
        return format(_INVERSE.divide(Decimal(1), quote), "f")
    return str(plain)


def txid(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def make_payment(
    invoice: SimInvoice, rng: random.Random, method: str, sats: int, at: int, status: str, *, extra_msat: int = 0,
    fee_msat: int = 0,
) -> SimPayment:
    """A payment of ``sats`` (plus ``extra_msat`` over Lightning, of which ``fee_msat`` is the provider's fee)."""
    if method == ONCHAIN:
        return SimPayment(ONCHAIN, f"{txid(rng)}-{rng.randrange(3)}", at, sats * MSAT_PER_SAT, status,
                          invoice.chain_destination)
    return SimPayment(LIGHTNING, txid(rng), at, sats * MSAT_PER_SAT + extra_msat, status, invoice.ln_destination,
                      fee_msat)


def lightning_msat(invoice: SimInvoice) -> tuple[int, int]:
    """(extra msat, fee msat) of a Lightning payment to ``invoice``, as real ones come:

    * a top-up's amountless BOLT11 (LNURL, a Lightning address) is paid whatever msat the payer's
      wallet sends: sats plus a few hundred msat;
    * one provider in six writes a BOLT11 for more than the amount asked, one in six for less:
      BTCPay adds the difference as a fee tweak (negative when less), so the value and the fee
      both carry msat (LightningLikePaymentHandler.cs).
    """
    spread = 1 + (invoice.index * 7_919) % 999
    if invoice.type == "TopUp":
        return spread, 0
    if invoice.index % 6 == 1:
        return spread, spread
    if invoice.index % 6 == 4:
        return -spread, -spread
    return 0, 0


@dataclass(frozen=True, slots=True)
class _Plan:
    """The draws every outcome makes first, in this order: the generator is reproducible per seed."""

    route: int  # < 55 on-chain, < 85 Lightning, else both
    pay_at: int
    confirm_at: int
    mark_at: int  # when a merchant marks an unpaid invoice
    due: int

    @classmethod
    def draw(cls, invoice: SimInvoice, rng: random.Random) -> _Plan:
        route = rng.randrange(100)
        pay_at = invoice.created + rng.randint(20, 780)
        confirm_at = pay_at + rng.randint(600, 3_600)
        mark_at = invoice.expiration + rng.randint(600, 3 * DAY)
        return cls(route, pay_at, confirm_at, mark_at, invoice.due_sats)


def apply_outcome(invoice: SimInvoice, outcome: str, rng: random.Random, *, now: int) -> None:
    """Sets status, payments and amounts of a generated invoice for ``outcome`` as seen at ``now``.

    Only what has happened by ``now`` is visible: a recent invoice destined to be
    paid may still be New, one paid on-chain may still be Processing.
    """
    _APPLY[outcome](invoice, rng, _Plan.draw(invoice, rng), now)


def _topup(invoice: SimInvoice, rng: random.Random, plan: _Plan, now: int) -> None:
    invoice.type = "TopUp"
    if rng.randrange(10) >= 3:
        _pay(invoice, rng, plan.due, plan.pay_at, plan.confirm_at, plan.route, now)
    # The buyer chooses the amount: "0" until paid, then what was paid.
    invoice.due_sats = invoice.paid_sats()
    invoice.amount = invoice.paid_amount() if invoice.payments else "0"
    _finish_paid(invoice, now, over=False)


def _unpaid(invoice: SimInvoice, rng: random.Random, plan: _Plan, now: int) -> None:
    _finish_unpaid(invoice, now)


def _partial(invoice: SimInvoice, rng: random.Random, plan: _Plan, now: int) -> None:
    _pay(invoice, rng, plan.due * rng.randint(20, 80) // 100, plan.pay_at, plan.confirm_at, plan.route, now)
    _finish_unpaid(invoice, now)


def _paid(invoice: SimInvoice, rng: random.Random, plan: _Plan, now: int, *, over: bool = False) -> None:
    due = plan.due
    target = due * rng.randint(105, 150) // 100 if over else due
    _pay(invoice, rng, target, plan.pay_at, plan.confirm_at, plan.route, now)
    if invoice.net_paid_sats() < due:
        _finish_unpaid(invoice, now)
        return
    _finish_paid(invoice, now, over=invoice.net_paid_sats() > due)
    if invoice.status == "Settled" and plan.route < 55 and rng.randrange(20) == 0:
        # A replaced (RBF) transaction: listed only with onlyAccountedPayments=false.
        replaced = make_payment(invoice, rng, ONCHAIN, target, plan.pay_at - 5, "Invalid")
        invoice.payments.insert(0, replaced)


def _over(invoice: SimInvoice, rng: random.Random, plan: _Plan, now: int) -> None:
    _paid(invoice, rng, plan, now, over=True)


def _late(invoice: SimInvoice, rng: random.Random, plan: _Plan, now: int) -> None:
    late_at = invoice.expiration + rng.randint(60, 6 * 3600)
    confirm_after = plan.confirm_at - plan.pay_at
    _pay(invoice, rng, plan.due, late_at, late_at + confirm_after, plan.route, now)
    _finish_unpaid(invoice, now)
    if invoice.net_paid_sats() >= plan.due and now >= late_at:
        invoice.additional_status = "PaidLate"
        if rng.randrange(4) == 0 and now >= late_at + confirm_after:
            invoice.status = "Settled"


def _invalid(invoice: SimInvoice, rng: random.Random, plan: _Plan, now: int) -> None:
    # Paid on-chain but never confirmed before monitoring ran out.
    _pay(invoice, rng, plan.due, plan.pay_at, invoice.monitoring + DAY * 365 * 100, 0, now)
    if invoice.payments:
        invoice.status = "Invalid" if now >= invoice.monitoring else "Processing"
    else:
        _finish_unpaid(invoice, now)


def _marked_settled(invoice: SimInvoice, rng: random.Random, plan: _Plan, now: int) -> None:
    if rng.randrange(2):
        _pay(invoice, rng, plan.due * rng.randint(30, 90) // 100, plan.pay_at, plan.confirm_at, plan.route, now)
    _finish_unpaid(invoice, now)
    if now >= plan.mark_at:
        invoice.status, invoice.additional_status = "Settled", "Marked"


def _marked_invalid(invoice: SimInvoice, rng: random.Random, plan: _Plan, now: int) -> None:
    _finish_unpaid(invoice, now)
    if now >= plan.mark_at:
        invoice.status, invoice.additional_status = "Invalid", "Marked"


_APPLY: dict[str, Callable[[SimInvoice, random.Random, _Plan, int], None]] = {
    "topup": _topup,
    "unpaid": _unpaid,
    "partial": _partial,
    "paid": _paid,
    "over": _over,
    "late": _late,
    "invalid": _invalid,
    "marked_settled": _marked_settled,
    "marked_invalid": _marked_invalid,
}


def _pay(invoice: SimInvoice, rng: random.Random, sats: int, at: int, confirm_at: int, route: int, now: int) -> None:
    """Adds the payments (of ``sats`` in total) that have been received by ``now``."""
    chain_status = "Settled" if now >= confirm_at else "Processing"
    if route < 55:
        if rng.randrange(10) == 0 and sats > 1:
            first = sats // 3
            parts = [(ONCHAIN, first, at), (ONCHAIN, sats - first, at + rng.randint(10, 90))]
        else:
            parts = [(ONCHAIN, sats, at)]
    elif route < 85:
        parts = [(LIGHTNING, sats, at)]
    else:
        first = sats * rng.randint(30, 70) // 100
        parts = [(ONCHAIN, first, at), (LIGHTNING, sats - first, at + rng.randint(20, 90))]
    extra, fee = lightning_msat(invoice)
    for method, value, when in parts:
        if when <= now and value > 0:
            # Lightning payments are final when received.
            status = chain_status if method == ONCHAIN else "Settled"
            msat = (extra, fee) if method == LIGHTNING else (0, 0)
            invoice.payments.append(make_payment(invoice, rng, method, value, when, status, extra_msat=msat[0],
                                                 fee_msat=msat[1]))


def _finish_unpaid(invoice: SimInvoice, now: int) -> None:
    invoice.status = "New" if now < invoice.expiration else "Expired"
    invoice.additional_status = "PaidPartial" if invoice.paid_sats() > 0 else "None"


def _finish_paid(invoice: SimInvoice, now: int, *, over: bool) -> None:
    if not invoice.payments:
        _finish_unpaid(invoice, now)
        return
    confirmed = all(p.status == "Settled" for p in invoice.payments)
    invoice.status = "Settled" if confirmed else "Processing"
    invoice.additional_status = "PaidOver" if over else "None"


# -- expected values, so tests check exact numbers without hard-coding them --------------------------
def expected_btc_paid_sats(gen: StoreGenerator, i: int) -> int:
    """BTC paid through all methods (sum of ``paymentMethodPaid``), accounted payments only."""
    return gen.invoice(i).paid_sats()


def expected_paid_amount(gen: StoreGenerator, i: int) -> Decimal:
    return Decimal(gen.invoice(i).paid_amount())


def expected_store_totals(gen: StoreGenerator) -> JsonObject:
    """Whole-store figures: counts by status, BTC paid in sats, paid amounts per currency (exact)."""
    by_status: dict[str, int] = {}
    paid_by_currency: dict[str, Decimal] = {}
    btc_sats = archived = 0
    for i in range(gen.count):
        invoice = gen.invoice(i)
        by_status[invoice.status] = by_status.get(invoice.status, 0) + 1
        btc_sats += invoice.paid_sats()
        archived += invoice.archived
        paid_by_currency[invoice.currency] = paid_by_currency.get(invoice.currency, Decimal(0)) + Decimal(
            invoice.paid_amount()
        )
    return {
        "count": gen.count,
        "archived": archived,
        "by_status": by_status,
        "btc_paid_sats": btc_sats,
        "paid_by_currency": paid_by_currency,
    }


def expected_crowdfund(gen: StoreGenerator, app: SimCrowdfund) -> JsonObject:
    """What BTCPay's crowdfund page shows for ``app`` at the generator's ``now``: settled, pending
    and contributors, by CrowdfundPlugin.GetInfo and InvoiceRepository.GetContributionsByPaymentMethodId,
    worked out here from the simulator's own facts (msat and rates), for tests to compare with.

    The sums are exact (``invoices``: how many invoices of the target currency they add up).
    """
    since = _last_reset(app, gen.now)
    settled = pending = Decimal(0)
    contributors = counted = 0
    for i in range(gen.first_index_at_or_after(since) if since is not None else 0, gen.count):
        invoice = gen.invoice(i)
        if not app.tag_all_invoices and invoice.app_id != app.app_id:
            continue
        contributors += invoice.status in ("Settled", "Processing")
        if invoice.currency.upper() != app.target_currency.upper():
            continue
        got_settled, got_pending = _contribution(invoice, app.enforce_target)
        settled, pending = _EXACT_UP.add(settled, got_settled), _EXACT_UP.add(pending, got_pending)
        counted += 1
    return {"settled": settled, "pending": pending, "contributions": contributors, "invoices": counted}


def _contribution(invoice: SimInvoice, hardcap: bool) -> tuple[Decimal, Decimal]:
    if hardcap and invoice.status == "New":
        return Decimal(0), Decimal(invoice.amount)
    accounted = [p for p in invoice.payments if p.accounted]
    marked = invoice.additional_status == "Marked"
    if marked and invoice.status == "Settled" and not accounted:
        return Decimal(invoice.amount), Decimal(0)
    if marked and invoice.status == "Invalid":
        return Decimal(0), Decimal(0)
    settled = pending = Decimal(0)
    for p in accounted:
        if p.received <= invoice.expiration or (marked and invoice.status == "Settled"):
            net = _EXACT_UP.multiply(Decimal(p.msat - p.fee_msat).scaleb(-11), Decimal(invoice.rate))
            if p.status == "Settled":
                settled = _EXACT_UP.add(settled, net)
            else:
                pending = _EXACT_UP.add(pending, net)
    return settled, pending


def _last_reset(app: SimCrowdfund, now: int) -> int | None:
    """The goal's last reset before ``now`` (None: it never resets), stepping from the start date."""
    if app.reset_every == "Never" or app.start_date is None:
        return None
    last = following = app.start_date
    while now >= following:
        last = following
        moment = datetime.fromtimestamp(last, UTC)
        if app.reset_every in ("Hour", "Day"):
            following = last + app.reset_every_amount * (3600 if app.reset_every == "Hour" else DAY)
            continue
        months = app.reset_every_amount * (12 if app.reset_every == "Year" else 1)
        year, month = divmod(moment.month - 1 + months, 12)
        year += moment.year
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        following = int(moment.replace(year=year, month=month + 1, day=day).timestamp())
    return last
