"""The keys every list shares, in one place, so a key means the same on every tab (review L3).

A tab asks for the keys it has by name; each gets the id ``<tab>.<name>``
that ``[ui.keymap]`` remaps. The tab implements the action named here.

===========  ==========  ==================================================
name         keys        meaning
===========  ==========  ==================================================
filter       /           filter by text (esc clears)
status       f           cycle the status filter
type         t           cycle the type filter
store        w           cycle the store filter
range        d ]         next date range (24h, 7d, 30d, 90d, all)
range_back   D [         previous date range
sort         s           next sort column
reverse      S           reverse the sort
copy_id      c           copy the id of the row under the cursor (OSC 52)
export_csv   e           export the filtered list as CSV
export_json  ctrl+e      ... as JSON
clear        esc         clear every filter
===========  ==========  ==================================================
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

# name -> (keys, action, description, shown in the footer)
SHARED: dict[str, tuple[str, str, str, bool]] = {
    "filter": ("slash", "filter", "Filter", True),
    "status": ("f", "cycle_status", "Status", True),
    "type": ("t", "cycle_type", "Type", True),
    "store": ("w", "cycle_store", "Store", True),
    "range": ("d,right_square_bracket", "cycle_range(1)", "Range", True),
    "range_back": ("D,left_square_bracket", "cycle_range(-1)", "Range back", False),
    "sort": ("s", "cycle_sort", "Sort", True),
    "reverse": ("S", "reverse", "Reverse", False),
    "copy_id": ("c", "copy_id", "Copy id", False),
    "export_csv": ("e", "export('csv')", "Export CSV", False),
    "export_json": ("ctrl+e", "export('json')", "Export JSON", False),
    "clear": ("escape", "clear_filter", "Clear filters", False),
}
KEY_DISPLAY = {"slash": "/", "d,right_square_bracket": "d", "D,left_square_bracket": "D"}


def shared_keys(tab: str, *names: str, **descriptions: str) -> list[BindingType]:
    """The shared bindings ``names`` for ``tab``; ``descriptions`` renames one for this tab (status="Verdict")."""
    bindings: list[BindingType] = []
    for name in names:
        keys, action, description, show = SHARED[name]
        bindings.append(
            Binding(keys, action, descriptions.get(name, description), show=show, key_display=KEY_DISPLAY.get(keys),
                    id=f"{tab}.{name}")
        )  # fmt: skip
    return bindings
