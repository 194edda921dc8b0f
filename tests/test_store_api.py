"""cftui.store's public query API: explicit, complete as listed, lazy, and free of models and writers."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import cftui.store as store


def test_importing_the_store_package_or_its_records_loads_no_orm():
    code = "import sys, cftui.store, cftui.store.records; print('peewee' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_listed_name_resolves_to_what_its_home_module_defines():
    assert len(store.__all__) > 40 and "page_invoices" in store.__all__ and "kpis" in store.__all__
    for name in store.__all__:
        value = getattr(store, name)
        assert value.__module__ == f"cftui.store.{store._HOME[name]}", name
    namespace: dict = {}
    exec("from cftui.store import *", namespace)
    assert set(store.__all__) <= set(namespace)


def test_no_api_name_is_a_model_a_writer_or_a_submodule_it_would_collide_with():
    submodules = {info.name for info in pkgutil.iter_modules(store.__path__)}
    assert {"queries", "models", "writer", "retry"} <= submodules
    assert not set(store.__all__) & submodules
    assert not set(store._QUERY_API) & {"models", "angor_models", "webhook_models", "writer", "db", "migrate_6"}


def test_submodules_still_import_from_the_package():
    from cftui.store import queries, retry

    assert queries.page_invoices is store.page_invoices
    assert retry.__name__ == "cftui.store.retry"
    with pytest.raises(AttributeError, match="no_such_name"):
        store.no_such_name  # noqa: B018
