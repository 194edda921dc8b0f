"""The two types of the Greenfield API's JSON, as the client decodes it and the parsers read it.

Shared by the client (which decodes) and the parsers (which check): the
parsers must not import the client, whose HTTP stack they do not need.
"""

from __future__ import annotations

from typing import Any

# A decoded body (json.loads with parse_float=Decimal): a dict, list, str, int, Decimal, bool or None, as
# the server chose. Typed ``object``, not Any: whoever reads one checks its shape first (the parsers, the
# doctor), so a server that answers something else is a clear error, not a crash.
JsonValue = object
# A JSON object whose shape was checked; its values are not yet: each reader checks the fields it uses.
JsonObject = dict[str, Any]
