"""The store's schema rules, on both engines: exact money, engine settings, and queries served by indexes."""

from __future__ import annotations

import logging

import pytest
from peewee import CharField, FloatField, IntegerField, TextField
from store_samples import DAY, T0, fill

from cftui.store import queries
from cftui.store.db import ALL_MODELS
from cftui.store.engine import engine_of
from cftui.store.filters import InvoiceFilter
from cftui.store.models import CrowdfundApp

MONEY_TEXT = {"amount", "paid_amount", "target_amount", "rate", "percent", "value", "fee"}


def test_no_float_field_in_any_model():
    for model in ALL_MODELS:
        for field in model._meta.sorted_fields:
            assert not isinstance(field, FloatField), f"{model.__name__}.{field.name}"
            assert field.field_type.upper() not in {"FLOAT", "DOUBLE", "REAL"}, f"{model.__name__}.{field.name}"


def live_columns(db) -> dict[tuple[str, str], str]:
    """(table, column) -> the type the database declares for it."""
    if engine_of(db).name == "postgresql":
        query = ("SELECT table_name, column_name, data_type FROM information_schema.columns"
                 " WHERE table_schema = current_schema()")
        return {(table, column): kind.upper() for table, column, kind in db.execute_sql(query)}
    tables = [name for (name,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {
        (table, column): declared.upper()
        for table in tables
        for _, column, declared, *_ in db.execute_sql(f'PRAGMA table_info("{table}")')
    }


def test_no_real_column_in_the_live_database(db):
    columns = live_columns(db)
    assert {model._meta.table_name for model in ALL_MODELS} <= {table for table, _ in columns}
    for (table, column), declared in columns.items():
        assert not any(word in declared for word in ("REAL", "FLOA", "DOUB", "NUMERIC")), f"{table}.{column}"


def test_sats_amounts_and_times_are_64_bit_integers_in_the_live_database(db):
    # 10^6 invoices times an amount in e8 or sats overflows 32 bits in a sum, and one amount alone can.
    columns = live_columns(db)
    wide = "BIGINT" if engine_of(db).name == "postgresql" else "INTEGER"  # every SQLite INTEGER is 64-bit
    checked = 0
    for model in ALL_MODELS:
        for field in model._meta.sorted_fields:
            if field.column_name.endswith(("_sats", "_msat", "_e8", "_e18", "_e28", "_time", "_ms")) or (
                field.column_name == "count"
            ):
                assert columns[(model._meta.table_name, field.column_name)] == wide, f"{model.__name__}.{field.name}"
                checked += 1
    assert checked >= 40


def test_decimal_text_stays_text_in_the_live_database(db):
    # Amounts, rates and a payment's value and fee exactly as the server wrote them (a Lightning value has
    # 11 places, a rate 28): text on both engines, never a number type that could round them.
    columns = live_columns(db)
    checked = 0
    for model in ALL_MODELS:
        for field in model._meta.sorted_fields:
            if field.name in MONEY_TEXT:
                declared = columns[(model._meta.table_name, field.column_name)]
                assert declared.startswith(("VARCHAR", "CHARACTER VARYING", "TEXT")), f"{model.__name__}.{field.name}"
                checked += 1
    assert checked >= 8


def test_money_fields_are_integers_or_text():
    checked = 0
    for model in ALL_MODELS:
        for field in model._meta.sorted_fields:
            if field.name.endswith(("_sats", "_msat", "_e8", "_e18", "_e28")):
                assert isinstance(field, IntegerField), f"{model.__name__}.{field.name}"
                checked += 1
            elif field.name in MONEY_TEXT:
                assert isinstance(field, (CharField, TextField)), f"{model.__name__}.{field.name}"
                checked += 1
    assert checked >= 20


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_wal_busy_timeout_and_foreign_keys(db):
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


class _Statements(logging.Handler):
    """Collects the SQL peewee runs (it logs (sql, params) at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, tuple]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.seen.append((record.msg[0], tuple(record.msg[1] or ())))


def _plan(db, sql: str, params: tuple) -> list[str]:
    if engine_of(db).name == "postgresql":
        return [line.strip().removeprefix("->").strip() for (line,) in db.execute_sql("EXPLAIN " + sql, params)]
    return [row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]


@pytest.fixture
def plans(db):
    """Call ``plans(fn)``: runs fn and returns the query plan of each invoice / roll-up statement.

    PostgreSQL plans by statistics, and on 50 rows a table scan is cheapest; with
    scans and sorts priced out, a plan that still scans or sorts has no index to
    serve it (on SQLite the plan is the one chosen on any size of table).
    """
    fill(n=50)
    if engine_of(db).name == "postgresql":
        db.execute_sql("SET enable_seqscan = off")
        db.execute_sql("SET enable_sort = off")
    logger = logging.getLogger("peewee")
    handler = _Statements()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def run(fn) -> list[tuple[str, list[str]]]:
        handler.seen.clear()
        fn()
        result = []
        for sql, params in handler.seen:
            if sql.startswith("SELECT") and ('FROM "invoice" ' in sql or 'FROM "invoice_day_stat" ' in sql):
                result.append((sql, _plan(db, sql, params)))
        assert result, "no statement captured"
        return result

    yield run
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def _assert_indexed(statements, *, sorted_by_index: bool = True) -> None:
    assert statements, "no statement to check"  # else a query that went missing would pass
    for sql, plan in statements:
        text = " | ".join(plan)
        # SQLite: SCAN/SEARCH ... USING INDEX, "USE TEMP B-TREE" for a sort; PostgreSQL: Seq Scan, Sort.
        assert all("INDEX" in line for line in plan if line.startswith(("SCAN", "SEARCH"))), (sql, text)
        assert not any(line.startswith("Seq Scan") for line in plan), (sql, text)
        if sorted_by_index:
            assert "TEMP B-TREE" not in text, (sql, text)
            assert not any(line.startswith(("Sort", "Incremental Sort")) for line in plan), (sql, text)


def test_crowdfund_progress_reads_only_its_covering_index_or_the_rollup(db, plans):
    if engine_of(db).name == "postgresql":
        engine_of(db).after_bulk_load(db)  # VACUUM: an index-only scan needs the visibility map
        db.execute_sql("SET enable_bitmapscan = off")  # on 50 rows a bitmap of the same index is cheaper
        covering = "Index Only Scan using invoice_crowdfund_progress"
    else:
        covering = "COVERING INDEX invoice_crowdfund_progress"
    statements = plans(lambda: queries.crowdfund_progress())
    per_app = [" | ".join(plan) for sql, plan in statements if '"app_id" = ' in sql]
    assert len(per_app) == 2 and all(covering in plan for plan in per_app), per_app
    # An app that counts every store invoice, with a reset period: the roll-up plus the edge day.
    CrowdfundApp.update(all_store_invoices=True, reset_every="Day", start_time=T0 - 3 * DAY + 500).execute()
    statements = plans(lambda: queries.crowdfund_progress())
    assert any('FROM "invoice_day_stat"' in sql for sql, _ in statements)
    _assert_indexed(statements, sorted_by_index=False)


@pytest.mark.parametrize("sort", list(queries.SORT_KEYS))
def test_every_sort_key_pages_from_its_index(plans, sort):
    first = queries.page_invoices(InvoiceFilter(), sort=sort, limit=10)
    _assert_indexed(plans(lambda: queries.page_invoices(InvoiceFilter(), sort=sort, after=first.last, limit=10)))
    _assert_indexed(plans(lambda: queries.page_invoices(InvoiceFilter(), sort=sort, descending=False, limit=10)))
    _assert_indexed(plans(lambda: queries.page_at_offset(InvoiceFilter(), sort, True, 40, 10)))


def test_store_and_status_filters_page_newest_first_from_one_index(plans):
    for f in (InvoiceFilter(stores=(1,)), InvoiceFilter(statuses=("Settled",)), InvoiceFilter(since=T0 - DAY)):
        statements = plans(lambda f=f: queries.page_invoices(f, limit=10))
        # The page itself, newest first: without it there would be nothing below to check.
        newest_first = [(sql, plan) for sql, plan in statements if '"created_time" DESC' in sql]
        assert newest_first, (f, [sql for sql, _ in statements])
        _assert_indexed(newest_first)


def test_text_search_seeks_three_prefix_indexes(plans):
    for statements in (
        plans(lambda: queries.count_invoices(InvoiceFilter(text="ab", statuses=("Settled",)))),
        plans(lambda: queries.page_invoices(InvoiceFilter(text="zzz"))),  # few matches: found by the filter
    ):
        text_plans = [" | ".join(plan) for sql, plan in statements if "LOWER" in sql]
        assert text_plans and all("MULTI-INDEX OR" in plan or "BitmapOr" in plan for plan in text_plans), text_plans
        for plan in text_plans:
            for name in ("invoice_invoice_id_id", "invoice_order_id", "invoice_buyer_email_lower"):
                assert name in plan


@pytest.mark.parametrize(
    "since, until", [(None, None), (T0 - 3 * DAY + 99, T0 + 2 * DAY + 7), (T0 + 60, T0 + 600)]
)
def test_kpi_queries_read_only_indexes(plans, since, until):
    # Roll-up, edges and medians: every statement is served by an index, no
    # full scan (a small GROUP BY sort of a day range's roll-up rows is fine).
    _assert_indexed(plans(lambda: queries.kpis((), since, until)), sorted_by_index=False)
    _assert_indexed(plans(lambda: queries.daily_series((), since, until)), sorted_by_index=False)
    _assert_indexed(plans(lambda: queries.crowdfund_progress()), sorted_by_index=False)


def test_problem_invoices_page_from_the_additional_status_index(plans):
    f = InvoiceFilter(additional=("PaidLate", "PaidPartial", "Marked"))
    statements = plans(lambda: queries.page_invoices(f, limit=10))
    paged = [(sql, plan) for sql, plan in statements if "ORDER BY" in sql]
    _assert_indexed(paged, sorted_by_index=False)
    assert any("invoice_additional_status_created_time_id" in " ".join(plan) or "invoice_created_time_id" in
               " ".join(plan) for _, plan in paged)
