"""The change feed the dashboard polls: every write another connection commits is reported once, by source."""

from __future__ import annotations

import threading

import pytest
from waiting import wait_for

from cftui.config import StoreConfig
from cftui.store.angor_models import AngorProject
from cftui.store.changes import ANGOR, INVOICES, WEBHOOKS, open_feed
from cftui.store.models import Invoice, SyncState, database
from cftui.store.webhook_models import WebhookDelivery
from cftui.store.writer import ensure_store

STORE = StoreConfig(name="main", url="http://127.0.0.1:1", store_id="S1")


def invoice(store, invoice_id: str, **values) -> dict:
    return {
        "store": store, "invoice_id": invoice_id, "status": "New", "additional_status": "None", "type": "Standard",
        "currency": "USD", "amount": "1", "amount_e8": 10**8, "created_time": 1, "expiration_time": 2,
        "monitoring_time": 3, "metadata": "{}", "synced_time": 4, **values,
    }  # fmt: skip


def elsewhere(write) -> None:
    """Run ``write`` on another thread: another connection, as another process would have."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            write()
        except BaseException as exc:  # re-raised below
            errors.append(exc)
        finally:
            database.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def seen_within(feed, wanted: frozenset[str], timeout: float = 10) -> frozenset[str]:
    """Everything the feed reports until ``wanted`` is among it."""
    seen: set[str] = set()

    def all_seen() -> bool:
        seen.update(feed.changes())
        return wanted <= seen

    wait_for(all_seen, f"the feed to report {sorted(wanted)} (it reported {sorted(seen)})", timeout=timeout)
    return frozenset(seen)


def test_each_source_is_reported_when_another_connection_writes_it(db):
    store = ensure_store(STORE)
    feed = open_feed()
    try:
        assert feed.changes() == frozenset()  # the starting point
        assert feed.changes() == frozenset()  # nothing written: nothing reported

        elsewhere(lambda: Invoice.create(**invoice(store, "A")))
        assert seen_within(feed, {INVOICES}) == {INVOICES}
        elsewhere(lambda: SyncState.create(source="btcpay:main", scan_offset=200))
        assert seen_within(feed, {INVOICES}) == {INVOICES}
        elsewhere(lambda: WebhookDelivery.create(received_ms=1, remote="127.0.0.1", path="/webhook/main",
                                                 headers="{}", verdict="verified", http_status=200))  # fmt: skip
        assert seen_within(feed, {WEBHOOKS}) == {WEBHOOKS, INVOICES}  # processing re-reads the invoice
        elsewhere(lambda: AngorProject.create(project_id="angor1qx", network="Angornet", founder_key="k",
                                              nostr_pubkey="p", event_id="e", event_pubkey="p", event_kind=3030,
                                              event_created=1, content="{}", synced_time=9))  # fmt: skip
        assert seen_within(feed, {ANGOR}) == {ANGOR}
        assert feed.changes() == frozenset()  # each change is reported once
    finally:
        feed.close()


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_postgresql_reports_updates_and_rows_committed_out_of_id_order(db):
    """What a poll of the largest ids would miss on a shared server, and notifications catch."""
    store = ensure_store(STORE)
    Invoice.create(**invoice(store, "A"))
    feed = open_feed()
    try:
        feed.changes()
        elsewhere(lambda: Invoice.update(status="Settled").where(Invoice.invoice_id == "A").execute())
        assert seen_within(feed, {INVOICES}) == {INVOICES}

        # Writer 1 draws the smaller id and commits last; writer 2 commits in between.
        drawn, go_on = threading.Event(), threading.Event()

        def slow_writer() -> None:
            with database.atomic():
                Invoice.create(**invoice(store, "B"))
                drawn.set()
                go_on.wait(10)
            database.close()

        slow = threading.Thread(target=slow_writer)
        slow.start()
        assert drawn.wait(10)
        elsewhere(lambda: Invoice.create(**invoice(store, "C")))
        assert seen_within(feed, {INVOICES}) == {INVOICES}
        go_on.set()
        slow.join()
        b_id = Invoice.get(Invoice.invoice_id == "B").id
        assert b_id < Invoice.get(Invoice.invoice_id == "C").id  # the largest id did not move at B's commit
        assert seen_within(feed, {INVOICES}) == {INVOICES}  # ... and B's commit is still reported
    finally:
        feed.close()


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_a_lost_listening_connection_reports_everything_once_it_is_back(db):
    feed = open_feed()
    try:
        feed.changes()
        from cftui.store.postgres import channel

        listening = f'LISTEN "{channel(db)}"'
        (pid,) = db.execute_sql("SELECT pid FROM pg_stat_activity WHERE query = %s", (listening,)).fetchone()
        db.execute_sql("SELECT pg_terminate_backend(%s)", (pid,))
        # The loss is noticed, then the next call listens again.
        reported = wait_for(feed.changes, "the feed to report after its connection was lost", timeout=10)
        assert reported == {INVOICES, WEBHOOKS, ANGOR}  # anything may have changed meanwhile
    finally:
        feed.close()


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_a_table_a_later_migration_adds_notifies_too(store_target):
    """The retry list came with schema 7: a store upgraded to it gets its trigger like every other table."""
    from test_migrations import _as_version

    from cftui.store.changes import notifying_tables
    from cftui.store.db import open_database
    from cftui.store.models import SkippedInvoice

    db = open_database(store_target)
    _as_version(db, 6)
    db.close()
    db = open_database(store_target)
    triggered = {table for (table,) in db.execute_sql(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal")}  # fmt: skip
    assert "skipped_invoice" in notifying_tables() and triggered == set(notifying_tables())
    store = ensure_store(STORE)
    feed = open_feed()
    try:
        feed.changes()
        elsewhere(lambda: SkippedInvoice.create(store=store, invoice_id="I1", reason="bad amount", skipped_time=1))
        assert seen_within(feed, {INVOICES}) == {INVOICES}
    finally:
        feed.close()
        db.close()
