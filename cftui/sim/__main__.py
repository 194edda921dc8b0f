"""``python -m cftui.sim``: run a simulated BTCPay server in the foreground.

It serves BTCPay's webhook API too: register a webhook (``cftui webhook
register``) and, with ``--live``, every invoice event is delivered to it,
signed and retried as BTCPay does.

Prints one machine-readable line per store, then ``ready``, and serves until
SIGINT/SIGTERM:

    url=http://127.0.0.1:8123 store_id=<44 chars> api_key=<hex> invoices=100000
    ready
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from cftui.sim.config import LiveConfig, default_config
from cftui.sim.server import Simulator
from cftui.sim.webhook_sender import install


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cftui.sim", description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000, help="generated invoices per store")
    parser.add_argument("--stores", type=int, default=1, help="number of stores (default 1)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--seed", type=int, default=1, help="the same seed generates the same invoices")
    parser.add_argument("--now", type=int, default=None, help="unix time the generated history ends at")
    parser.add_argument("--version", default="2.4.1", help="BTCPay version to report (2.3.0: no includePaymentMethods)")
    parser.add_argument("--live", action="store_true", help="new invoices keep arriving and changing")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between live invoices")
    parser.add_argument(
        "--fast-retries", action="store_true",
        help="retry failed webhook deliveries after 1 s, 3 s, 10 s... instead of BTCPay's 10 s, 1 min, 10 min...",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    config = default_config(
        invoices=args.invoices,
        stores=args.stores,
        seed=args.seed,
        now=args.now,
        version=args.version,
        live=LiveConfig(interval=args.interval) if args.live else None,
    )
    sim = Simulator(config)
    install(sim, demo=args.fast_retries)  # before start: the webhook routes join the app
    url = await sim.start(args.host, args.port)
    key = config.api_keys[0].key
    for store in config.stores:
        print(f"url={url} store_id={store.store_id} api_key={key} invoices={store.invoice_count}")
    print("ready", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    await stopped.wait()
    await sim.stop()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
