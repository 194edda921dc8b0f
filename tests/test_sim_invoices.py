"""The simulator's invoice list, lookups, auth and errors behave as BTCPay's (contract §1, §2, §6)."""

from __future__ import annotations

import dataclasses
import re
import time
from collections import Counter
from decimal import Decimal

import httpx
import pytest

from cftui.money import btc_to_sats, to_msat
from cftui.sim import SimApiKey, default_config, lifecycle
from cftui.sim.generator import expected_btc_paid_sats, expected_paid_amount

NOW = 1_780_000_000
COUNT = 3000


def _with_keys(config, *keys: SimApiKey):
    return dataclasses.replace(config, api_keys=config.api_keys + keys)


@pytest.fixture(scope="module")
def sim(start_module_sim):
    base = default_config(invoices=COUNT, stores=2, now=NOW)
    first, second = base.stores[0].store_id, base.stores[1].store_id
    config = _with_keys(
        base,
        SimApiKey("k-view-invoices-first", (f"btcpay.store.canviewinvoices:{first}",)),
        SimApiKey("k-view-store-first", (f"btcpay.store.canviewstoresettings:{first}",)),
        SimApiKey("k-modify-second", (f"btcpay.store.canmodifystoresettings:{second}",)),
    )
    thread = start_module_sim(config)
    client = httpx.Client(base_url=thread.base_url, headers={"Authorization": f"token {config.api_keys[0].key}"},
                          timeout=60)
    yield thread, config, client
    client.close()


def invoices(client, store_id, **params):
    response = client.get(f"/api/v1/stores/{store_id}/invoices", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_no_default_page_size_and_archived_hidden_by_default(sim):
    thread, config, client = sim
    store_id = config.stores[0].store_id
    gen = thread.sim.state.stores[store_id].gen
    archived = gen.archived_between(0, COUNT)
    assert archived > 0
    visible = invoices(client, store_id)
    assert len(visible) == COUNT - archived
    assert not any(inv["archived"] for inv in visible)
    everything = invoices(client, store_id, includeArchived="true")
    assert len(everything) == COUNT
    assert sum(inv["archived"] for inv in everything) == archived
    assert len({inv["id"] for inv in everything}) == COUNT


def test_pages_are_newest_first_and_tile_the_full_list(sim):
    _, config, client = sim
    store_id = config.stores[0].store_id
    full = invoices(client, store_id, includeArchived="true")
    created = [inv["createdTime"] for inv in full]
    assert created == sorted(created, reverse=True)
    pages = []
    for skip in range(0, COUNT + 250, 250):
        pages.extend(invoices(client, store_id, includeArchived="true", skip=skip, take=250))
    assert [inv["id"] for inv in pages] == [inv["id"] for inv in full]
    # Without includeArchived, pages still tile the visible list exactly.
    visible = invoices(client, store_id)
    paged = []
    for skip in range(0, COUNT, 333):
        paged.extend(invoices(client, store_id, skip=skip, take=333))
    assert [inv["id"] for inv in paged] == [inv["id"] for inv in visible]


def test_dates_are_inclusive_and_end_date_pins_a_scan(sim):
    thread, config, client = sim
    store_id = config.stores[1].store_id
    head = invoices(client, store_id, take=50)
    t = head[10]["createdTime"]
    same_second = invoices(client, store_id, startDate=t, endDate=t)
    assert head[10]["id"] in {inv["id"] for inv in same_second}
    assert all(inv["createdTime"] == t for inv in same_second)
    window = invoices(client, store_id, startDate=head[40]["createdTime"], endDate=t)
    assert all(head[40]["createdTime"] <= inv["createdTime"] <= t for inv in window)

    pinned_end = head[0]["createdTime"]
    before = invoices(client, store_id, endDate=pinned_end, take=20)
    new = thread.call(
        lifecycle.create_invoice, thread.sim.state, store_id, amount_minor=1500, currency="USD"
    )
    assert new.created > pinned_end
    # Newest first: the new invoice shifts unpinned pages, not pinned ones.
    assert invoices(client, store_id, take=1)[0]["id"] == new.id
    assert invoices(client, store_id, endDate=pinned_end, take=20) == before


def test_status_filter_quirks(sim):
    _, config, client = sim
    store_id = config.stores[0].store_id
    every = invoices(client, store_id, includeArchived="true")
    by_status = Counter(inv["status"] for inv in every)
    assert set(by_status) == {"New", "Processing", "Settled", "Expired", "Invalid"}

    def count(*statuses):
        return len(invoices(client, store_id, includeArchived="true", status=list(statuses)))

    assert count("settled") == by_status["Settled"]
    assert count("COMPLETE") == count("confirmed") == by_status["Settled"]
    assert count("paid") == count("Processing") == by_status["Processing"]
    assert count("new", "expired") == by_status["New"] + by_status["Expired"]
    # Unknown values are dropped; all unknown means no filter at all.
    assert count("bogus") == COUNT
    assert count("bogus", "invalid") == by_status["Invalid"]


def test_order_id_and_text_search(sim):
    thread, config, client = sim
    store = config.stores[0]
    every = invoices(client, store.store_id, includeArchived="true")
    with_order = [inv for inv in every if inv["metadata"].get("orderId")]
    picked = [with_order[3]["metadata"]["orderId"], with_order[700]["metadata"]["orderId"]]
    found = invoices(client, store.store_id, includeArchived="true", orderId=picked)
    assert sorted(inv["metadata"]["orderId"] for inv in found) == sorted(picked)

    for app in store.crowdfunds:
        members = [inv for inv in every if f"/apps/{app.app_id}/" in (inv["metadata"].get("orderUrl") or "")]
        searched = invoices(client, store.store_id, includeArchived="true", textSearch=f"crowdfund-app_{app.app_id}")
        assert [inv["id"] for inv in searched] == [inv["id"] for inv in members]
    share = sum(1 for inv in every if inv["metadata"].get("orderUrl")) / len(every)
    assert 0.1 < share < 0.3

    target = every[1234]
    by_id_prefix = invoices(client, store.store_id, includeArchived="true", textSearch=target["id"][:12])
    assert [inv["id"] for inv in by_id_prefix] == [target["id"]]
    email = next(inv["metadata"]["buyerEmail"] for inv in every if inv["metadata"].get("buyerEmail"))
    hits = invoices(client, store.store_id, includeArchived="true", textSearch=email)
    assert hits and all(inv["metadata"]["buyerEmail"].startswith(email) for inv in hits)


def test_validation_errors_are_422_arrays(sim):
    _, config, client = sim
    path = f"/api/v1/stores/{config.stores[0].store_id}/invoices"
    bad_take = client.get(path, params={"take": "abc"})
    assert bad_take.status_code == 422 and bad_take.json()[0]["path"] == "take"
    bad_start = client.get(path, params={"startDate": "2024-01-01"})
    assert bad_start.status_code == 422
    assert bad_start.json() == [{"path": "startDate", "message": "Invalid unix timestamp"}]
    reversed_range = client.get(path, params={"startDate": 200, "endDate": 100})
    assert reversed_range.status_code == 422
    assert [e["path"] for e in reversed_range.json()] == ["startDate", "endDate"]


def test_auth_errors_and_permissions(sim):
    thread, config, client = sim
    first, second = config.stores[0].store_id, config.stores[1].store_id
    url = thread.base_url

    def get(path, key=None, scheme="token"):
        headers = {"Authorization": f"{scheme} {key}"} if key else {}
        return httpx.get(url + path, headers=headers)

    missing = get(f"/api/v1/stores/{first}/invoices")
    assert missing.status_code == 401 and missing.json()["code"] == "unauthenticated"
    assert get(f"/api/v1/stores/{first}/invoices", "nope").status_code == 401
    assert get("/api/v1/health").status_code == 200  # anonymous
    # Scheme is case-insensitive; Bearer works too.
    for scheme in ("token", "TOKEN", "Bearer", "bearer"):
        assert get("/api/v1/server/info", config.api_keys[0].key, scheme).status_code == 200

    def forbidden(response, permission):
        assert response.status_code == 403, response.text
        body = response.json()
        assert body["code"] == "missing-permission" and body["missingPermission"] == permission
        assert f'permission "{permission}"' in body["message"]

    view_invoices = "k-view-invoices-first"
    assert get(f"/api/v1/stores/{first}/invoices?take=1", view_invoices).status_code == 200
    forbidden(get(f"/api/v1/stores/{second}/invoices?take=1", view_invoices), "btcpay.store.canviewinvoices")
    forbidden(get("/api/v1/stores", view_invoices), "btcpay.store.canviewstoresettings")
    forbidden(get("/api/v1/stores/UNKNOWNSTORE/invoices", view_invoices), "btcpay.store.canviewinvoices")
    # canviewstoresettings implies canviewinvoices, but apps need canmodifystoresettings.
    view_store = "k-view-store-first"
    assert get(f"/api/v1/stores/{first}/invoices?take=1", view_store).status_code == 200
    assert [s["id"] for s in get("/api/v1/stores", view_store).json()] == [first]
    forbidden(get(f"/api/v1/stores/{first}/apps", view_store), "btcpay.store.canmodifystoresettings")
    modify = "k-modify-second"
    assert get(f"/api/v1/stores/{second}/apps", modify).status_code == 200
    assert get(f"/api/v1/stores/{second}/invoices?take=1", modify).status_code == 200
    forbidden(get(f"/api/v1/stores/{first}/apps", modify), "btcpay.store.canmodifystoresettings")
    # The crowdfund endpoint needs only an authenticated caller.
    app_id = config.stores[0].crowdfunds[0].app_id
    assert get(f"/api/v1/apps/crowdfund/{app_id}", view_invoices).status_code == 200
    assert get(f"/api/v1/apps/crowdfund/{app_id}").status_code == 401
    unknown_app = get("/api/v1/apps/crowdfund/nope", view_invoices)
    assert unknown_app.status_code == 404 and unknown_app.json()["code"] == "app-not-found"
    assert get("/api/v1/api-keys/current", view_invoices).json()["permissions"] == [
        f"btcpay.store.canviewinvoices:{first}"
    ]

    missing_invoice = client.get(f"/api/v1/stores/{first}/invoices/NoSuchInvoice")
    assert missing_invoice.status_code == 404 and missing_invoice.json()["code"] == "invoice-not-found"
    # Store-less route (v2.4.0+): an unknown id fails the scope lookup first -> 403.
    forbidden(client.get("/api/v1/invoices/NoSuchInvoice"), "btcpay.store.canviewinvoices")
    some = invoices(client, first, take=1)[0]
    assert client.get(f"/api/v1/invoices/{some['id']}").json() == some


def test_btc_figures_are_exact_and_total_paid_double_counts(sim):
    thread, config, client = sim
    store_id = config.stores[0].store_id
    gen = thread.sim.state.stores[store_id].gen
    index_of = {gen.invoice_id(i): i for i in range(COUNT)}
    listed = invoices(client, store_id, includeArchived="true", includePaymentMethods="true", endDate=NOW)
    both_methods = 0
    for inv in listed:
        i = index_of[inv["id"]]
        paid = sum(btc_to_sats(m["paymentMethodPaid"]) for m in inv["paymentMethods"])
        assert paid == expected_btc_paid_sats(gen, i)
        assert Decimal(inv["paidAmount"]) == expected_paid_amount(gen, i)
        for method in inv["paymentMethods"]:
            # Lightning values carry msat; the method's total is rounded up to whole sats (Coins(…, 8)).
            paid_msat = sum(to_msat(Decimal(p["value"])) for p in method["payments"])
            assert -(-paid_msat // 1000) == btc_to_sats(method["paymentMethodPaid"])
            assert btc_to_sats(method["due"]) == btc_to_sats(method["amount"]) - btc_to_sats(method["totalPaid"])
        if all(btc_to_sats(m["paymentMethodPaid"]) > 0 for m in inv["paymentMethods"]):
            both_methods += 1
            summed_total = sum(btc_to_sats(m["totalPaid"]) for m in inv["paymentMethods"])
            assert summed_total == 2 * paid  # the #3976 trap
    assert both_methods >= 10


def test_realistic_mix(sim):
    _, config, client = sim
    listed = invoices(client, config.stores[0].store_id, includeArchived="true", includePaymentMethods="true")
    pairs = Counter((inv["status"], inv["additionalStatus"]) for inv in listed)
    allowed = {
        "None": {"New", "Processing", "Settled", "Expired", "Invalid"},
        "PaidPartial": {"New", "Expired"},
        "PaidLate": {"Expired", "Settled"},
        "PaidOver": {"Processing", "Settled"},
        "Marked": {"Settled", "Invalid"},
    }
    assert {extra for _, extra in pairs} == set(allowed)
    for status, extra in pairs:
        assert status in allowed[extra], (status, extra)
    scales = {"USD": r"^\d+\.\d{2}$", "EUR": r"^\d+\.\d{2}$", "JPY": r"^\d+$", "BTC": r"^\d+\.\d{8}$"}
    types = Counter(inv["type"] for inv in listed)
    assert types["TopUp"] > 0 and types["Standard"] > 0
    for inv in listed:
        if inv["type"] == "TopUp" and not any(m["payments"] for m in inv["paymentMethods"]):
            assert inv["amount"] == "0"
        else:
            assert re.match(scales[inv["currency"]], inv["amount"]), (inv["currency"], inv["amount"])
        for method in inv["paymentMethods"]:
            for payment in method["payments"]:
                if method["paymentMethodId"] == "BTC-CHAIN":
                    assert re.fullmatch(r"[0-9a-f]{64}-\d+", payment["id"])
                    assert re.fullmatch(r"\d+\.\d{8}", payment["value"])  # NBitcoin Money: whole sats
                else:
                    assert re.fullmatch(r"[0-9a-f]{64}", payment["id"])
                    assert re.fullmatch(r"\d+(\.\d{0,10}[1-9])?", payment["value"])  # LightMoney: msat, no zeros
        assert inv["checkoutLink"].endswith(f"/i/{inv['id']}")
    assert Counter(inv["currency"] for inv in listed).keys() == {"USD", "EUR", "JPY", "BTC"}


def test_the_default_data_carries_the_edge_shapes_a_real_server_sends(sim):
    """Shapes from upstream's source, not from our parser: Lightning values and fee tweaks in msat
    (LightningListener.cs, LightningLikePaymentHandler.cs), long rates from an inverse pair and a
    spread (RateRules.cs), crowdfund invoices partly paid then expired, overpaid and marked, and
    the apps' goal settings as Greenfield shows them."""
    _, config, client = sim
    store_id = config.stores[0].store_id
    listed = invoices(client, store_id, includeArchived="true", includePaymentMethods="true")
    payments = [(m, p) for inv in listed for m in inv["paymentMethods"] for p in m["payments"]]
    decimals = lambda text: len(text.partition(".")[2])  # noqa: E731
    msat_values = [p["value"] for m, p in payments if m["paymentMethodId"] == "BTC-LN" and decimals(p["value"]) > 8]
    msat_fees = [p["fee"] for _, p in payments if decimals(p["fee"]) > 8]
    assert len(msat_values) >= 20 and len(msat_fees) >= 5, (len(msat_values), len(msat_fees))
    assert any(fee.startswith("-") for fee in msat_fees)  # a BOLT11 for less than asked: a negative tweak
    topups = [inv for inv in listed if inv["type"] == "TopUp" and any(
        decimals(p["value"]) > 8 for m in inv["paymentMethods"] for p in m["payments"])]
    assert topups  # amountless BOLT11s paid whatever msat the wallet sent
    rates = {inv["currency"]: m["rate"] for inv in listed for m in inv["paymentMethods"]}
    assert len(Decimal(rates["EUR"]).as_tuple().digits) == 28  # 1 / x, as .NET divides
    assert decimals(rates["USD"]) == 5  # bid × 0.995: the scales add, trailing zeros kept
    assert rates["BTC"] == "1" and decimals(rates["JPY"]) == 0
    mine = {app.app_id for app in config.stores[0].crowdfunds}
    shapes = Counter((inv["status"], inv["additionalStatus"]) for inv in listed
                     if re.search(r"/apps/([^/]+)/crowdfund", inv["metadata"].get("orderUrl", ""))
                     and inv["metadata"]["orderUrl"].split("/apps/")[1].split("/")[0] in mine)
    for shape in [("Expired", "PaidPartial"), ("Settled", "PaidOver"), ("Settled", "Marked"), ("Invalid", "Marked"),
                  ("Expired", "PaidLate")]:
        assert shapes[shape] > 0, shape
    settings = [client.get(f"/api/v1/apps/crowdfund/{app_id}").json() for app_id in sorted(mine)]
    goals = {(s["resetEvery"], s["resetEveryAmount"], s["enforceTargetAmount"]) for s in settings}
    assert goals == {("Never", 1, False), ("Month", 1, False), ("Never", 1, True)}


def test_unaccounted_payments_only_on_request(sim):
    _, config, client = sim
    store_id = config.stores[0].store_id
    found = 0
    for inv in invoices(client, store_id, includeArchived="true", status="settled"):
        path = f"/api/v1/stores/{store_id}/invoices/{inv['id']}/payment-methods"
        everything = client.get(path, params={"onlyAccountedPayments": "false"}).json()
        statuses = [p["status"] for m in everything for p in m["payments"]]
        if "Invalid" in statuses:
            found += 1
            accounted = client.get(path).json()
            assert all(p["status"] != "Invalid" for m in accounted for p in m["payments"])
        if found >= 2:
            break
    assert found >= 2


def test_same_seed_same_bytes(start_sim):
    def page(seed):
        config = dataclasses.replace(default_config(invoices=500, seed=seed, now=NOW), public_url="https://pay.example")
        thread = start_sim(config)
        headers = {"Authorization": f"token {config.api_keys[0].key}"}
        url = f"{thread.base_url}/api/v1/stores/{config.stores[0].store_id}/invoices"
        return httpx.get(url, params={"take": 100, "includePaymentMethods": "true"}, headers=headers).content

    first = page(7)
    assert page(7) == first
    assert page(8) != first
    assert b"https://pay.example/i/" in first


def test_old_servers_ignore_include_payment_methods(start_sim):
    config = default_config(invoices=50, now=NOW, version="2.3.0")
    thread = start_sim(config)
    client = httpx.Client(base_url=thread.base_url, headers={"Authorization": f"token {config.api_keys[0].key}"})
    store_id = config.stores[0].store_id
    listed = invoices(client, store_id, includePaymentMethods="true")
    assert listed and all("paymentMethods" not in inv for inv in listed)
    assert client.get("/api/v1/server/info").json()["version"] == "2.3.0"
    # The store-less route came in 2.4.0; the store-scoped routes work.
    assert client.get(f"/api/v1/invoices/{listed[0]['id']}").status_code == 404
    methods = client.get(f"/api/v1/stores/{store_id}/invoices/{listed[0]['id']}/payment-methods").json()
    assert [m["paymentMethodId"] for m in methods] == ["BTC-CHAIN", "BTC-LN"]
    client.close()


def test_million_invoice_store_answers_a_page_without_building_the_store(start_sim):
    config = default_config(invoices=1_000_000, now=NOW, crowdfunds_per_store=1)
    thread = start_sim(config)
    store_id = config.stores[0].store_id
    gen = thread.sim.state.stores[store_id].gen
    built = Counter()
    real = gen.invoice

    def counting(i):
        built["n"] += 1
        return real(i)

    gen.invoice = counting
    headers = {"Authorization": f"token {config.api_keys[0].key}"}
    url = f"{thread.base_url}/api/v1/stores/{store_id}/invoices"
    started = time.perf_counter()
    page = httpx.get(
        url, params={"skip": 600_000, "take": 1000, "includePaymentMethods": "true", "endDate": NOW - 86_400},
        headers=headers, timeout=60,
    ).json()
    elapsed = time.perf_counter() - started
    assert len(page) == 1000
    assert built["n"] == 1000
    assert elapsed < 10, elapsed
    created = [inv["createdTime"] for inv in page]
    assert created == sorted(created, reverse=True) and created[0] <= NOW - 86_400
