"""The simulator's JSON: the objects it serves and the records it keeps, before they become text.

Its own alias, not the client's: the simulator stays an independent oracle (pyproject.toml's
contracts) and imports nothing from the code it checks.
"""

from __future__ import annotations

from typing import Any

# A JSON object: BTCPay's shapes hold strings, numbers, booleans, nulls, arrays and objects of them.
JsonObject = dict[str, Any]
