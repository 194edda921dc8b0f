"""App-level key bindings and the user's keymap.

Every binding has an ``id`` so ``[ui.keymap]`` in the config can remap it
(``sync_now = "ctrl+r"``); the app hands the map to ``App.set_keymap`` and
:func:`unknown_ids` reports ids that no binding carries, so a typo is shown
rather than silently ignored. :func:`effective_bindings` lists a widget's keys
as the keymap makes them, for the key list (``?``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from textual.binding import Binding, BindingsMap, BindingType
from textual.dom import DOMNode

TABS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("invoices", "Invoices"),
    ("angor", "Angor"),
    ("webhooks", "Webhooks"),
    ("settings", "Settings"),
    ("campaigns", "Campaigns"),
    ("payments", "Payments"),
)

APP_BINDINGS: list[BindingType] = [
    *(
        Binding(str(n), f"show_tab('{pane}')", title, show=False, id=f"tab.{pane}")
        for n, (pane, title) in enumerate(TABS, start=1)
    ),
    Binding("r", "sync_now", "Sync", id="sync_now"),
    Binding("question_mark", "help", "Keys", key_display="?", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
]


def binding_ids(bindings: Iterable[BindingType]) -> set[str]:
    return {b.id for b in bindings if isinstance(b, Binding) and b.id}


def unknown_ids(keymap: Mapping[str, str], known: set[str]) -> list[str]:
    """Keymap entries that name no binding (typos, or ids of a removed key)."""
    return sorted(set(keymap) - known)



def normalized_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """The keymap with each key in Textual's long form ("?" -> "question_mark"), as ``App.set_keymap`` keeps it."""
    return {
        binding_id: ",".join(binding.key for binding in Binding.make_bindings([Binding(keys, "")]))
        for binding_id, keys in keymap.items()
    }


def declared_bindings(node: DOMNode) -> BindingsMap:
    """A copy of the bindings ``node`` declares, its classes' ``BINDINGS`` merged as Textual merges them.

    Textual 8.2.8 has no public reader for this: it is ``DOMNode._bindings`` (built from each class's
    ``BINDINGS`` by ``_merge_bindings``). Only here; tests/ui/test_bindings.py fails if an upgrade changes it.
    """
    return node._bindings.copy()


def effective_bindings(node: DOMNode, keymap: Mapping[str, str]) -> list[tuple[Binding, list[str]]]:
    """The bindings ``node`` declares, with the user's keymap applied: (binding, its keys).

    Only bindings with an id are listed: those are cftui's own keys (the ones
    a keymap can change), not the built-in cursor keys of Textual widgets.
    """
    bindings_map = declared_bindings(node)
    if keymap:
        bindings_map.apply_keymap(normalized_keymap(keymap))
    keys: dict[str, list[str]] = {}
    first: dict[str, Binding] = {}
    described: dict[str, list[str]] = {}
    for key, bindings in bindings_map.key_to_bindings.items():
        for binding in bindings:
            if binding.id:
                # Two bindings may share an id and a key (Pause / Resume): one key, both names.
                for listed, value in ((keys, key), (described, binding.description or binding.action)):
                    if value not in listed.setdefault(binding.id, []):
                        listed[binding.id].append(value)
                first.setdefault(binding.id, binding)
    return [
        (replace(first[binding_id], description=" / ".join(described[binding_id])), keys[binding_id])
        for binding_id in first
    ]
