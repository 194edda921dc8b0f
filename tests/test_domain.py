"""cftui.domain: the choice types, the source ids, and the modules that must stay free of the ORM."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

from cftui import domain
from cftui.domain import btcpay_source, source_kind, source_store


def _loaded_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement``."""
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_btcpay_parser_does_not_load_the_orm():
    loaded = _loaded_after("import cftui.btcpay.parse")
    assert "cftui.btcpay.parse" in loaded  # the import ran
    assert "peewee" not in loaded
    assert not {name for name in loaded if name.startswith("cftui.store.") and name.endswith("models")}


def test_the_domain_module_loads_no_database_network_or_ui_code():
    loaded = _loaded_after("import cftui.domain")
    assert "cftui.domain" in loaded
    assert not loaded & {"peewee", "aiohttp", "httpx", "textual"}


def test_each_tuple_lists_exactly_its_literal_type():
    assert set(domain.ALL_STATUSES) == set(get_args(domain.InvoiceStatus))
    assert set(domain.OPEN_STATUSES) | set(domain.FINAL_STATUSES) == set(domain.ALL_STATUSES)
    assert not set(domain.OPEN_STATUSES) & set(domain.FINAL_STATUSES)
    assert set(domain.VERDICTS) == set(get_args(domain.Verdict))
    assert set(domain.VERDICTS) - set(domain.ACCEPTED_VERDICTS) == set(domain.REJECTIONS)
    assert len(set(domain.VERDICTS)) == len(domain.VERDICTS) == 7


def test_the_orm_modules_still_export_the_same_tuples():
    from cftui.store import models, webhook_models

    assert models.ALL_STATUSES is domain.ALL_STATUSES and models.OPEN_STATUSES is domain.OPEN_STATUSES
    assert webhook_models.VERDICTS is domain.VERDICTS
    assert webhook_models.ACCEPTED_VERDICTS is domain.ACCEPTED_VERDICTS


def test_source_ids_round_trip():
    assert btcpay_source("main") == "btcpay:main"
    assert source_store(btcpay_source("a:b")) == "a:b"  # only the first colon is the separator
    assert source_store("angor") is None
    assert source_kind("btcpay:main") == "btcpay"
    assert source_kind(domain.ANGOR_SOURCE) == "angor"
    assert source_kind("nostr") is None


def test_the_code_offers_exactly_the_choices_its_types_name():
    from cftui.angor import esplora, indexer, status
    from cftui.angor import queries as angor_queries
    from cftui.store import queries

    assert tuple(queries.SORT_KEYS) == domain.INVOICE_SORTS  # an index per sort, and a type per index
    assert tuple(angor_queries.SORT_COLUMNS) == domain.PROJECT_SORTS
    assert status.STATUSES == angor_queries.STATUSES == domain.PROJECT_STATUSES
    assert {indexer.RAISED_SOURCE, esplora.RAISED_SOURCE} == set(get_args(domain.RaisedSource))


def test_the_angor_status_rules_load_no_network_code():
    loaded = _loaded_after("import cftui.angor.status")
    assert "cftui.angor.status" in loaded and "aiohttp" not in loaded and "cftui.angor.indexer" not in loaded
