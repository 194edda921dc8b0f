"""The shared queries against a real store (SQLite and PostgreSQL), checked with plain-Python references."""

from __future__ import annotations

import statistics
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from store_samples import DAY, T0, fill, matches

from cftui import clock
from cftui.store import queries
from cftui.store.angor_models import AngorProject
from cftui.store.filters import InvoiceFilter, prefix_successor
from cftui.store.models import InvoicePaymentMethod, Payment
from cftui.store.webhook_models import WebhookDelivery

E8 = Decimal(10**8)

FILTERS = [
    InvoiceFilter(),
    InvoiceFilter(stores=(2,)),
    InvoiceFilter(stores=(1, 2), statuses=("Settled", "Expired")),
    InvoiceFilter(statuses=("Processing",)),
    InvoiceFilter(since=T0 - 2 * DAY + 1234, until=T0 + DAY + 99),
    InvoiceFilter(text="ab"),
    InvoiceFilter(text="ALICE", statuses=("Settled",)),
    InvoiceFilter(text="ord-01", stores=(1,)),
    InvoiceFilter(app_id="Fund1"),
    InvoiceFilter(additional=("PaidLate", "PaidPartial"), stores=(1,)),
    InvoiceFilter(text="no such thing"),
]

SORT_REFERENCE = {
    "created": lambda s: (s.created_time, s.pk),
    "amount": lambda s: (s.currency, s.amount_e8, s.pk),  # within the currency
    "status": lambda s: (s.status, s.created_time, s.pk),
    "btc": lambda s: (s.btc_paid_sats is not None, s.btc_paid_sats or 0, s.pk),  # nulls first ascending
    "id": lambda s: (s.invoice_id, s.pk),
    "currency": lambda s: (s.currency, s.created_time, s.pk),
}


@pytest.fixture
def samples(db):
    return fill()


@pytest.fixture(params=["sort-index", "filter-index"])
def plan(request, monkeypatch):
    """Run a test under both plans (walk the sort index / seek by the filter and sort)."""
    by_filter = request.param == "filter-index"
    monkeypatch.setattr(queries, "_filter_driven", lambda *args, **kwargs: by_filter)
    return request.param


def expected(samples, f: InvoiceFilter, sort: str, descending: bool) -> list[int]:
    chosen = [s for s in samples if matches(s, **vars(f))]
    chosen.sort(key=SORT_REFERENCE[sort], reverse=descending)
    return [s.pk for s in chosen]


def pks(page) -> list[int]:
    return [row.pk for row in page.rows]


@pytest.mark.parametrize("sort", list(queries.SORT_KEYS))
@pytest.mark.parametrize("descending", [True, False])
def test_keyset_pages_walk_forward_and_back(samples, plan, sort, descending):
    for f in FILTERS:
        want = expected(samples, f, sort, descending)
        page = queries.page_invoices(f, sort=sort, descending=descending, limit=37)
        assert page.has_prev is False
        pages = [page]
        while page.has_next:
            page = queries.page_invoices(f, sort=sort, descending=descending, after=page.last, limit=37)
            pages.append(page)
        assert [pk for p in pages for pk in pks(p)] == want, f
        assert all(len(p.rows) == 37 for p in pages[:-1])
        # And back again from the last page, one `before` at a time.
        back = [pages[-1]]
        while back[-1].has_prev:
            back.append(queries.page_invoices(f, sort=sort, descending=descending, before=back[-1].first, limit=37))
        assert [pks(p) for p in back[1:]] == [pks(p) for p in pages[-2::-1]], f


@pytest.mark.parametrize("sort", ["created", "btc", "status"])
@pytest.mark.parametrize("descending", [True, False])
def test_page_at_offset_from_either_end(samples, plan, sort, descending):
    for f in FILTERS[:6]:
        want = expected(samples, f, sort, descending)
        for offset in (0, 1, 50, len(want) // 2, max(len(want) - 30, 0), len(want) - 1, len(want) + 5):
            page = queries.page_at_offset(f, sort, descending, offset, 40)
            start = max(0, min(offset, len(want)))
            assert pks(page) == want[start : start + 40], (f, offset)
            assert page.has_prev == (start > 0)
            assert page.has_next == (start + 40 < len(want))
        # A page reached by offset continues by keyset without a gap.
        middle = queries.page_at_offset(f, sort, descending, len(want) // 2, 40)
        if middle.has_next:
            after = queries.page_invoices(f, sort=sort, descending=descending, after=middle.last, limit=40)
            start = len(want) // 2 + 40
            assert pks(after) == want[start : start + 40]


def test_count_matches_reference(samples):
    more = [
        InvoiceFilter(since=T0 - 3 * DAY, until=T0),  # whole days only
        InvoiceFilter(since=T0 + 3600, until=T0 + 7200),  # inside one day
        InvoiceFilter(since=T0 + 1),
        InvoiceFilter(until=T0 - 1),
        InvoiceFilter(since=T0, until=T0),
    ]
    for f in FILTERS + more:
        assert queries.count_invoices(f) == sum(matches(s, **vars(f)) for s in samples), f
    assert queries.count_invoices(InvoiceFilter()) == len(samples)


def test_iter_invoices_streams_everything_in_order(samples, plan):
    f = InvoiceFilter(statuses=("Settled", "Expired"))
    got = [row.pk for row in queries.iter_invoices(f, sort="btc", descending=False, batch=17)]
    assert got == expected(samples, f, "btc", False)


def test_text_search_is_a_prefix_match_and_case_insensitive_only_for_email(samples):
    ids = {row.invoice_id for row in queries.iter_invoices(InvoiceFilter(text="Ab"))}
    assert ids and all(i.startswith("Ab") for i in ids)  # not "AB..." nor "ab..."
    emails = {row.buyer_email for row in queries.iter_invoices(InvoiceFilter(text="aLiCe@"))}
    assert emails == {"Alice@Example.com", "alice@example.org"}
    orders = [row.order_id for row in queries.iter_invoices(InvoiceFilter(text="ord-003"))]
    assert sorted(orders) == sorted(s.order_id for s in samples if (s.order_id or "").startswith("ord-003"))


def test_rows_carry_store_names_and_fields(samples):
    row = queries.page_invoices(InvoiceFilter(stores=(2,)), limit=1).rows[0]
    sample = next(s for s in samples if s.pk == row.pk)
    assert row.store_name == "side" and row.store_pk == 2
    assert (row.invoice_id, row.amount_e8, row.btc_paid_sats) == (
        sample.invoice_id,
        sample.amount_e8,
        sample.btc_paid_sats,
    )
    assert Decimal(row.amount) * E8 == row.amount_e8


def test_find_invoice_exact_or_unique_prefix(samples):
    target = samples[10]
    assert queries.find_invoice(target.invoice_id).pk == target.pk
    unique = next(
        s.invoice_id[:7]
        for s in samples
        if sum(o.invoice_id.startswith(s.invoice_id[:7]) for o in samples) == 1
    )
    assert queries.find_invoice(unique).invoice_id.startswith(unique)
    assert queries.find_invoice("Ab") is None  # ambiguous
    assert queries.find_invoice("nope") is None
    found = queries.match_invoice_ids("Zz", limit=5)
    assert [r.invoice_id for r in found] == sorted(s.invoice_id for s in samples if s.invoice_id.startswith("Zz"))[:5]


def test_unknown_sort_is_refused(samples):
    with pytest.raises(ValueError, match="unknown sort column"):
        queries.page_invoices(InvoiceFilter(), sort="colour")


def _median(values):
    return Decimal(statistics.median_low(values) + statistics.median_high(values)) / 2


@pytest.mark.parametrize(
    "stores, since, until",
    [
        ((), None, None),
        ((), T0 - 2 * DAY + 777, T0 + 2 * DAY - 5),
        ((1,), T0 - DAY, None),
        ((2,), None, T0 + 3600),
        ((), T0 + 100, T0 + 5000),
    ],
)
def test_kpis_match_reference(samples, stores, since, until, monkeypatch):
    for walk in (True, False):  # both ways of finding a median
        monkeypatch.setattr("cftui.store.kpi_queries._walk_is_cheaper", lambda *a, walk=walk: walk)
        k = queries.kpis(stores, since, until)
        chosen = [s for s in samples if matches(s, stores=stores, since=since, until=until)]
        settled = [s for s in chosen if s.status == "Settled"]
        pending = [s for s in chosen if s.status == "Processing"]
        final = [s for s in chosen if s.status in ("Settled", "Expired", "Invalid")]
        assert k.total == len(chosen)
        assert k.settled.count == len(settled) and k.pending.count == len(pending)
        assert k.settled.sats == sum(s.btc_paid_sats or 0 for s in settled)
        assert k.pending.sats == sum(s.btc_paid_sats or 0 for s in pending)
        for currency in {s.currency for s in settled}:
            amounts = [s.amount_e8 for s in settled if s.currency == currency]
            assert k.settled.fiat[currency] == Decimal(sum(amounts)) / E8
            assert k.median_fiat[currency] == _median(amounts) / E8
            average = (Decimal(sum(amounts)) / len(amounts)).quantize(Decimal(1), ROUND_HALF_EVEN) / E8
            assert k.average_fiat[currency] == average
        assert set(k.settled.fiat) == {s.currency for s in settled}
        if settled:
            sats = [s.btc_paid_sats or 0 for s in settled]
            assert k.median_sats == _median(sats)
            assert k.average_sats == (Decimal(sum(sats)) / len(sats)).quantize(Decimal(1), ROUND_HALF_EVEN)
        else:
            assert k.median_sats is None and k.average_sats is None
        if final:
            assert k.conversion == (Decimal(len(settled)) / len(final)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
        assert k.abandoned == sum(s.status == "Expired" and s.additional_status == "None" for s in chosen)
        assert k.partial == sum(s.additional_status == "PaidPartial" for s in chosen)
        assert k.late == sum(s.additional_status == "PaidLate" for s in chosen)
        assert k.overpaid == sum(s.additional_status == "PaidOver" for s in chosen)
        assert k.status_counts == {
            status: sum(s.status == status for s in chosen)
            for status in ("New", "Processing", "Settled", "Expired", "Invalid")
        }


def test_kpis_of_an_empty_range(samples):
    k = queries.kpis((), T0 + 50 * DAY, T0 + 51 * DAY)
    assert k.total == 0 and k.conversion is None and k.median_sats is None and k.median_fiat == {}


def test_daily_series_has_every_day_with_exact_figures(samples):
    since, until = T0 - 4 * DAY + 5000, T0 + 2 * DAY + 10
    series = queries.daily_series((1,), since, until)
    assert [p.day for p in series] == list(range(T0 - 4 * DAY, T0 + 2 * DAY + 1, DAY))
    for point in series:
        chosen = [
            s
            for s in samples
            if matches(s, stores=(1,), since=max(since, point.day), until=min(until, point.day + DAY))
        ]
        assert point.invoices == len(chosen)
        assert point.settled_sats == sum(s.btc_paid_sats or 0 for s in chosen if s.status == "Settled")
    clock.freeze(T0 + 30 * DAY + 5)
    try:
        whole = queries.daily_series()
    finally:
        clock.freeze(None)
    assert whole[0].day == min(s.created_time for s in samples) // DAY * DAY
    assert whole[-1].day == T0 + 30 * DAY and whole[-1].invoices == 0
    assert sum(p.invoices for p in whole) == len(samples)


def test_crowdfund_progress(samples):
    """Which invoices an app counts and its calendar; the money rule itself is tests/test_crowdfund.py's."""
    clock.freeze(T0)
    try:
        apps = {a.app_id: a for a in queries.crowdfund_progress()}
    finally:
        clock.freeze(None)
    fund = apps["Fund1"]
    mine = [s for s in samples if s.app_id == "Fund1"]
    assert mine and fund.contributions == sum(s.status in ("Settled", "Processing") for s in mine)
    assert fund.btc_paid_sats == sum(s.btc_paid_sats or 0 for s in mine)
    # Whole numbers on both engines (PostgreSQL sums BIGINTs as NUMERIC).
    assert {type(v) for v in (fund.btc_paid_sats, fund.contributions)} == {int}
    # The samples are written without payment methods: nothing to count, and no price of an unmarked invoice.
    assert (fund.settled, fund.pending, fund.percent) == (0, 0, Decimal("0.00"))
    assert (fund.currency, fund.target, fund.store_name) == ("USD", Decimal(500), "main")
    assert fund.days_left == 11  # 10 days and 1 second
    assert apps["Fund2"].percent is None and apps["Fund2"].days_left is None and apps["Fund2"].settled == 0
    assert [a.app_id for a in queries.crowdfund_progress(stores=(2,))] == ["Fund2"]
    assert [a.app_id for a in queries.crowdfund_progress(app_id="Fund2")] == ["Fund2"]


def test_angor_and_webhook_summaries(samples):
    for i, (status, raised) in enumerate([("funding", 1000), ("funding", 500), ("failed", 7)]):
        AngorProject.create(
            project_id=f"angor1q{i}", network="Angornet", founder_key="k", nostr_pubkey="p", event_id=f"e{i}",
            event_pubkey="p", event_kind=3030, event_created=T0, status=status, raised_sats=raised, target_sats=2000,
            investor_count=i + 1, content="{}", synced_time=T0,
        )  # fmt: skip
    summary = queries.angor_summary()
    assert (summary.projects, summary.by_status) == (3, {"funding": 2, "failed": 1})
    assert (summary.raised_sats, summary.target_sats, summary.investors) == (1507, 6000, 6)
    assert {type(v) for v in (summary.raised_sats, summary.target_sats, summary.investors)} == {int}
    now = T0
    for age_s, verdict in [(10, "verified"), (100, "bad_signature"), (200, "duplicate"), (DAY + 1, "malformed")]:
        WebhookDelivery.create(
            received_ms=(now - age_s) * 1000, remote="127.0.0.1", path="/webhook/main", headers="{}",
            verdict=verdict, http_status=200,
        )  # fmt: skip
    hooks = queries.webhook_summary(now)
    assert (hooks.received_24h, hooks.rejected_24h, hooks.last_received_ms) == (3, 1, (now - 10) * 1000)


def test_invoice_detail(samples):
    pk = samples[5].pk
    InvoicePaymentMethod.create(
        invoice=pk, method="BTC-CHAIN", currency="BTC", paid_sats=1500, amount_sats=1500, due_sats=0, rate="60000"
    )
    Payment.create(invoice=pk, method="BTC-CHAIN", payment_id="ab" * 32 + "-1", value="0.00001000",
                   value_msat=1_000_000, status="Settled", received_time=T0 + 5)  # fmt: skip
    Payment.create(invoice=pk, method="BTC-LN", payment_id="cd" * 32, value="0.00000500123", value_msat=500_123,
                   fee="0.00000000123", fee_msat=123, status="Settled", received_time=T0 + 9)  # fmt: skip
    detail = queries.invoice_detail(pk)
    assert detail.row.invoice_id == samples[5].invoice_id and detail.store_id in ("StoreA", "StoreB")
    assert detail.metadata == '{"orderId": "x"}'
    assert [(p.txid, p.vout, p.value, p.value_msat, p.fee_msat) for p in detail.payments] == [
        ("ab" * 32, 1, "0.00001000", 1_000_000, 0),
        (None, None, "0.00000500123", 500_123, 123),
    ]
    assert detail.payment_methods[0].paid_sats == 1500
    assert queries.invoice_detail(10**9) is None


def test_prefix_successor():
    assert prefix_successor("ab") == "ac"
    assert prefix_successor("a\U0010ffff") == "b"
    assert prefix_successor("\U0010ffff") is None
    assert prefix_successor("\ud7ff") == "\ue000"


def test_a_known_count_gives_the_same_pages_without_counting_again(samples, monkeypatch):
    for f in FILTERS:
        total = queries.count_invoices(f)
        want = pks(queries.page_invoices(f, sort="amount", limit=37))
        monkeypatch.setattr(queries, "count_invoices", lambda *a, **k: pytest.fail("counted again"))
        assert pks(queries.page_invoices(f, sort="amount", limit=37, total=total)) == want
        monkeypatch.undo()
