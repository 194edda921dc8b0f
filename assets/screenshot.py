"""Save the README's screenshot: the dashboard on the demo, as SVG, by the app itself.

    .venv/bin/python assets/screenshot.py          # writes assets/dashboard.svg (and a few other tabs)

It starts the demo simulator, syncs it once (headless), opens the dashboard at
120×40 and lets Textual save each tab with ``App.save_screenshot``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from cftui.config import Paths
from cftui.demo import Demo
from cftui.store.db import open_database
from cftui.sync.service import run_sync

ASSETS = Path(__file__).resolve().parent
# (key that opens the tab, file name)
SHOTS = (("1", "dashboard.svg"), ("2", "invoices.svg"), ("3", "angor.svg"), ("4", "webhooks.svg"))


async def shoot(config, paths: Paths) -> None:
    from cftui.ui.app import CftuiApp

    app = CftuiApp(config, paths, demo=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(8)  # let the live demo deliver a few webhooks
        for key, name in SHOTS:
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause(1.5)
            app.save_screenshot(filename=name, path=str(ASSETS))
            print(f"saved {ASSETS / name}")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.sqlite3"
        with Demo(db_path=db, invoices=3000) as demo:
            open_database(db)
            for source in demo.sources():
                print(run_sync(source, demo.config).summary())
            asyncio.run(shoot(demo.config, Paths(config=demo.config_path, db=db, log_dir=Path(tmp))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
