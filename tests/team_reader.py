"""A dashboard's reads, as a separate process, for the team-store test (tests/test_store_team.py).

``python tests/team_reader.py STORE_URL STOP_FILE OUT_JSON``: until STOP_FILE
exists, does what the dashboard does once a second, as fast as it can: asks
the change feed what changed, reads the Webhooks tab's "deliveries newer than
the last one seen", the Overview's KPIs and a page of invoices. Writes what it
saw (every delivery id, the sources reported, errors) to OUT_JSON.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path


def main(url: str, stop: Path, out: Path) -> None:
    from cftui.store import queries
    from cftui.store.changes import open_feed
    from cftui.store.db import open_database
    from cftui.store.filters import InvoiceFilter
    from cftui.store.webhook_queries import deliveries_after

    open_database(url, migrate=False)
    feed = open_feed()
    feed.changes()
    seen: list[int] = []
    sources: set[str] = set()
    errors: list[str] = []
    polls = 0
    last = 0
    while True:
        stopping = stop.exists()  # one more full read after the writers stopped
        try:
            sources |= feed.changes()
            batch = deliveries_after(last, limit=100_000)
            seen += [line.id for line in batch.lines]
            last = batch.last_id
            queries.kpis()
            queries.page_invoices(InvoiceFilter(), sort="created", limit=50)
            polls += 1
        except Exception:  # reported to the test, which fails on any
            errors.append(traceback.format_exc())
        if stopping:
            break
        time.sleep(0.05)
    feed.close()
    out.write_text(json.dumps({"seen": seen, "sources": sorted(sources), "errors": errors, "polls": polls}))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
