"""The one place cftui reads Textual's private binding state (cftui.ui.bindings.declared_bindings).

Textual 8.2.8 has no public way to list the bindings a widget declares with those of its base classes merged;
``declared_bindings`` reads ``DOMNode._bindings``. These tests fail if an upgrade renames or changes it.
"""

from __future__ import annotations

from cftui.config import Config
from cftui.ui.bindings import declared_bindings, effective_bindings, normalized_keymap
from cftui.ui.tabs.webhooks import WebhooksTab
from cftui.ui.widgets.list_table import PagedTable


def keys_to_actions(node) -> dict[str, set[str]]:
    return {key: {b.action for b in bindings} for key, bindings in declared_bindings(node).key_to_bindings.items()}


def test_declared_bindings_merge_the_class_and_its_bases_as_textual_does():
    table = PagedTable()
    keys = keys_to_actions(table)
    assert {"cursor_down"} <= keys["j"] and {"scroll_end"} <= keys["G"]  # ListTable's own
    assert {"select_cursor"} <= keys["enter"] and {"cursor_up"} <= keys["up"]  # DataTable's, inherited


def test_declared_bindings_is_a_copy():
    table = PagedTable()
    declared_bindings(table).key_to_bindings.clear()
    assert "j" in keys_to_actions(table)


def test_a_remapped_key_reaches_the_help_in_textuals_key_names():
    assert normalized_keymap({"webhooks.pause": "?,x", "sync_now": "ctrl+r"}) == {
        "webhooks.pause": "question_mark,x",
        "sync_now": "ctrl+r",
    }
    tab = WebhooksTab(Config())  # its bindings are its class's: no app needed
    rows = {binding.id: keys for binding, keys in effective_bindings(tab, {"webhooks.pause": "?"})}
    assert rows["webhooks.pause"] == ["question_mark"]
    assert rows["webhooks.btcpay"] == ["b"]
