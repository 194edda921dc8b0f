"""Webhook subcommands: `listen`, `daemon`, `webhook register|send|replay|deliveries`, `export deliveries`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cftui import clock
from cftui import config as config_mod
from cftui.cli.args import OUTPUT_HELP, Subcommands, in_config_range, int_in
from cftui.domain import EXPORT_FORMATS
from cftui.errors import ConfigError, DataError, ExitCode, UnreachableError, UsageError
from cftui.printable import printable

if TYPE_CHECKING:
    from cftui.btcpay.jsontypes import JsonObject
    from cftui.cli import Context  # the package imports this module
    from cftui.webhooks.notices import DeliveryNotice, ProcessedNotice
    from cftui.webhooks.sending import SendResult


def register(sub: Subcommands, export_sub: Subcommands) -> None:
    listen = sub.add_parser("listen", help="receive BTCPay webhooks and print one line per delivery")
    _receiver_flags(listen)
    listen.set_defaults(func=cmd_listen)

    daemon = sub.add_parser("daemon", help="webhook receiver plus periodic sync, headless (for a server)")
    _receiver_flags(daemon)
    daemon.set_defaults(func=cmd_daemon)

    webhook = sub.add_parser("webhook", help="register, send or replay BTCPay webhooks")
    webhook_sub = webhook.add_subparsers(dest="webhook_cmd", metavar="ACTION", required=True)

    reg = webhook_sub.add_parser("register", help="create a webhook in BTCPay and save its secret in the config")
    reg.add_argument("--store", metavar="NAME", required=True, help="configured store name")
    reg.add_argument("--url", required=True, help="where BTCPay should POST (must reach this receiver)")
    reg.add_argument("--event", metavar="TYPE", action="append", help="only this event type (repeatable; default: all)")
    reg.set_defaults(func=cmd_register)

    send = webhook_sub.add_parser("send", help="send a delivery signed exactly as BTCPay signs it")
    send.add_argument("--store", metavar="NAME", required=True, help="configured store (its secret signs the body)")
    send.add_argument("--type", default="InvoiceSettled", help="event type (default InvoiceSettled)")
    send.add_argument("--invoice", metavar="ID", help="invoice id (default: the store's newest synced invoice)")
    send.add_argument("--url", help="target URL (default: this machine's receiver for the store)")
    send.add_argument("--bad-signature", action="store_true", help="sign with a wrong secret (expect 401)")
    send.set_defaults(func=cmd_send)

    replay = webhook_sub.add_parser("replay", help="send a recorded delivery again, byte for byte")
    replay.add_argument("delivery_id", metavar="DELIVERY_ID", help="BTCPay deliveryId (or #ROW for a log row)")
    replay.add_argument("--url", help="target URL (default: the path it first arrived at, on this receiver)")
    replay.set_defaults(func=cmd_replay)

    deliveries = webhook_sub.add_parser("deliveries", help="BTCPay's own delivery list beside what we received")
    deliveries.add_argument("--store", metavar="NAME", required=True, help="configured store (needs its webhook_id)")
    deliveries.add_argument("--count", type=int_in(1, 1000), default=50, help="newest N deliveries (default 50)")
    deliveries.set_defaults(func=cmd_deliveries)

    export = export_sub.add_parser("deliveries", help="the recorded webhook requests as CSV or JSON")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="csv", help="csv (default) or json")
    export.add_argument("--store", metavar="NAME", help="only this store")
    export.add_argument("-o", "--output", metavar="FILE", help=OUTPUT_HELP)
    export.set_defaults(func=cmd_export_deliveries)


def _receiver_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to bind (default [webhooks] host, 127.0.0.1)")
    parser.add_argument("--port", type=in_config_range("webhooks.port"), help="port (default [webhooks] port, 8765)")


def _receiver_config(ctx: Context, args: argparse.Namespace) -> config_mod.Config:
    from cftui.cli.core import warn_if_shared

    config = ctx.config
    warn_if_shared(config)
    if not config.btcpay:
        raise ConfigError(
            "No stores configured, so there is nothing to receive webhooks for.",
            hint="Add a [[btcpay]] store with a webhook_secret (`cftui config init` writes a starter).",
        )
    webhooks = config.webhooks
    if args.host:
        webhooks = replace(webhooks, host=args.host)
    if args.port is not None:
        webhooks = replace(webhooks, port=args.port)
    return replace(config, webhooks=webhooks)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed, else asyncio's own (None).

    The receiver spends most of its time in the event loop and its socket
    transports; uvloop's, written in C, took ~10-15% off the CPU cost of each
    delivery in the webhook benchmark.
    """
    try:
        import uvloop
    except ImportError:  # Windows, or a platform without a wheel: asyncio is fine
        return None
    return uvloop.new_event_loop


def _run_until_signal(main: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    """Run ``main(stop)`` with ``stop`` set on SIGINT or SIGTERM (a clean shutdown either way)."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as loop_runner:
            loop_runner.run(runner())
    finally:
        _line.flush()  # lines still waiting for their timed write


# ---------------------------------------------------------------- listen / daemon


# Lines written on the event loop reach the terminal within this many seconds,
# all of them in one write. Under a burst that matters: each write(2) hands the
# GIL to the webhook writer thread and the loop waits to get it back, and with
# PYTHONUNBUFFERED (or a pipe read line by line) a print per line meant a
# write per line: ~5% of `listen`'s throughput.
FLUSH_DELAY = 0.05


class _Lines:
    """stdout for `listen` and `daemon`: lines gathered on the event loop, written together."""

    def __init__(self) -> None:
        self._pending: list[str] = []

    def __call__(self, text: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving: write at once, after anything still waiting
            self._pending.append(text)
            self.flush()
            return
        if not self._pending:
            loop.call_later(FLUSH_DELAY, self.flush)
        self._pending.append(text)

    def flush(self) -> None:
        if self._pending:
            text = "\n".join(self._pending) + "\n"
            self._pending.clear()
            sys.stdout.write(text)
        sys.stdout.flush()


_line = _Lines()


_shown_second: tuple[int, str] = (-1, "")


def _time_of_day(received_ms: int) -> str:
    """HH:MM:SS (UTC), formatted once per second: a burst prints thousands of lines a second."""
    global _shown_second
    second = received_ms // 1000
    if _shown_second[0] != second:
        _shown_second = (second, clock.to_datetime(second).strftime("%H:%M:%S"))
    return _shown_second[1]


def format_delivery(notice: DeliveryNotice) -> str:
    """One `listen` line: time, HTTP status, verdict, store, event, invoice, delivery id (or why rejected).

    Every field a request chose (most of them, verified or not) goes through
    :func:`~cftui.printable.printable`: a terminal must never act on them.
    """
    when = _time_of_day(notice.received_ms)
    parts = [when, f"{notice.http_status}", f"{notice.verdict:<13}", printable(notice.store_name) or "-"]
    if notice.event_type:
        parts.append(printable(notice.event_type))
    if notice.invoice_id:
        parts.append(f"invoice={printable(notice.invoice_id)}")
    if notice.delivery_id:
        redelivery = f" (redelivery of {printable(notice.original_delivery_id)})" if notice.is_redelivery else ""
        parts.append(f"delivery={printable(notice.delivery_id)}{redelivery}")
    if notice.verdict not in ("verified",) and notice.reason:
        parts.append(f"— {printable(notice.reason)} [{printable(notice.remote)} {printable(notice.path)}]")
    return "  ".join(parts)


def format_processed(notice: ProcessedNotice) -> str:
    return f"         ↳ invoice {printable(notice.invoice_id)} ({notice.store_name}): {printable(notice.result)}"


def _print_urls(url: str, config: config_mod.Config) -> None:
    from cftui.webhooks.receiver import is_loopback, webhook_url

    _line(f"Listening for BTCPay webhooks on {url} (ctrl+c to stop)")
    if not is_loopback(config.webhooks.host):
        print(f"Warning: bound to {config.webhooks.host}, reachable beyond this machine; "
              "prefer 127.0.0.1 behind an SSH tunnel or a reverse proxy.", file=sys.stderr)
    for store in config.btcpay:
        secret = "" if store.webhook_secret else "   (no webhook_secret: deliveries will be rejected)"
        _line(f"  {store.name}: POST {webhook_url(url, store.name)}{secret}")
    if len(config.btcpay) == 1:
        _line(f"  (POST {url}/webhook works too: one store is configured)")


def cmd_listen(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.webhooks.receiver import WebhookReceiver

    config = _receiver_config(ctx, args)
    ctx.open_store()

    async def main(stop: asyncio.Event) -> None:
        receiver = WebhookReceiver(
            config,
            on_delivery=lambda n: _line(format_delivery(n)),
            on_processed=lambda n: _line(format_processed(n)),
        )
        _print_urls(await receiver.start(), config)
        try:
            await stop.wait()
        finally:
            await receiver.stop()
        _line("Stopped.")

    _run_until_signal(main)
    return ExitCode.OK


def cmd_daemon(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.webhooks.daemon import run_daemon

    config = _receiver_config(ctx, args)
    ctx.open_store()

    async def main(stop: asyncio.Event) -> None:
        await run_daemon(
            config,
            stop,
            db_path=ctx.store_paths.store,
            log_dir=ctx.paths.log_dir,
            on_started=lambda url: _print_urls(url, config),
            on_delivery=lambda n: _line(format_delivery(n)),
            on_processed=lambda n: _line(format_processed(n)),
            on_sync=lambda result: _line(f"sync {printable(result.summary())}"),
        )
        _line("Stopped.")

    _run_until_signal(main)
    return ExitCode.OK


# ---------------------------------------------------------------- register


def cmd_register(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.btcpay.client import GreenfieldClient
    from cftui.btcpay.webhooks_api import create_webhook

    config = ctx.config
    store = ctx.store_named(args.store)
    if config.path is None:
        raise ConfigError(
            f"No config file at {ctx.paths.config} to save the webhook secret in.",
            hint="Run `cftui config init` and add the store first.",
        )

    async def create() -> JsonObject:
        async with GreenfieldClient.for_store(store) as client:
            return await create_webhook(client, store.store_id, args.url, events=args.event)

    created = asyncio.run(create())
    replaced = bool(store.webhook_secret)
    updated = replace(store, webhook_secret=config_mod.Secret(created["secret"]), webhook_id=created["id"])
    config_mod.save(config_mod.with_store(config, updated), config.path)
    events = ", ".join(args.event) if args.event else "every event"
    print(f"Registered webhook {created['id']} on store '{store.name}' for {events}, posting to {args.url}.")
    print(f"Its secret is saved in {config.path} (mode 0600); BTCPay will not show it again.")
    if replaced:
        print("The store's previous webhook_secret was replaced: deliveries signed with it will now be rejected.")
    return ExitCode.OK


# ---------------------------------------------------------------- send / replay


def _local_url(config: config_mod.Config, path: str) -> str:
    host = config.webhooks.host
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"  # a wildcard bind is reached through loopback
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{config.webhooks.port}{path}"


async def _post(url: str, body: bytes, signature: str | None) -> SendResult:
    import aiohttp

    from cftui.webhooks.sending import post_delivery

    async with aiohttp.ClientSession() as session:
        return await post_delivery(session, url, body, signature, timeout=30)


def _report(result: SendResult, url: str, what: str) -> None:
    if result.status is None:
        raise UnreachableError(f"Could not deliver {what} to {url}: {result.text}.",
                               hint="Is `cftui listen` (or the dashboard with [webhooks] enabled) running?")
    print(f"{what} → {url}: HTTP {result.status} {result.text.strip()}")


def cmd_send(ctx: Context, args: argparse.Namespace) -> int:
    import secrets as random_ids

    from cftui.webhooks import signing
    from cftui.webhooks.envelope import INVOICE_EVENT_FIELDS, OTHER_EVENT_TYPES
    from cftui.webhooks.receiver import PATH_PREFIX
    from cftui.webhooks.sample import sample_delivery

    config = ctx.config
    store = ctx.store_named(args.store)
    if not store.webhook_secret and not args.bad_signature:
        raise ConfigError(
            f"Store '{store.name}' has no webhook_secret to sign with.",
            hint="Run `cftui webhook register`, or set webhook_secret under its [[btcpay]] table.",
        )
    if args.type not in INVOICE_EVENT_FIELDS and args.type not in OTHER_EVENT_TYPES:
        print(f"Note: {args.type} is not an event type BTCPay documents; sending it anyway.", file=sys.stderr)
    invoice_id = args.invoice
    if invoice_id is None and args.type in INVOICE_EVENT_FIELDS:
        from cftui.store import newest_invoice_id

        ctx.open_store()
        invoice_id = newest_invoice_id(store.name) or f"cftui-test-{random_ids.token_hex(4)}"
    body = sample_delivery(
        args.type,
        store_id=store.store_id,
        webhook_id=store.webhook_id or "cftui-test-webhook",
        timestamp=clock.now_s(),
        invoice_id=invoice_id,
    )
    secret = store.webhook_secret.reveal() if store.webhook_secret else ""
    if args.bad_signature:
        secret = secret + "-wrong"
    url = args.url or _local_url(config, f"{PATH_PREFIX}/{store.name}")
    result = asyncio.run(_post(url, body, signing.sign(secret, body)))
    invoice = f" for invoice {invoice_id}" if invoice_id and args.type in INVOICE_EVENT_FIELDS else ""
    _report(result, url, f"{args.type}{invoice}")
    expected = result.status == 401 if args.bad_signature else result.ok
    return ExitCode.OK if expected else ExitCode.FAILURE


def cmd_replay(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.store import webhook_queries

    ctx.open_existing_store("webhook deliveries", doing="replay")
    key = args.delivery_id
    if key.startswith("#") and key[1:].isdigit():
        row = webhook_queries.delivery(int(key[1:]))
    else:
        row = webhook_queries.first_delivery(key)
    if row is None:
        raise UsageError(f"No recorded delivery {key}.", hint="List them with `cftui export deliveries -o -`.")
    body = row.body if row.body is not None else b""
    if len(body) != row.body_size:
        raise DataError(
            f"Delivery {key} cannot be replayed byte for byte: only {len(body)} of its {row.body_size} body bytes "
            "were kept (rejected requests keep a bounded body)."
        )
    url = args.url or _local_url(ctx.config, row.path)
    result = asyncio.run(_post(url, body, row.signature))
    _report(result, url, f"replay of {key} ({row.line.event_type or 'unknown type'}, {len(body)} bytes)")
    return ExitCode.OK if result.ok else ExitCode.FAILURE


# ---------------------------------------------------------------- BTCPay's view


def cmd_deliveries(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.webhooks.btcpay_view import btcpay_deliveries, compare

    store = ctx.store_named(args.store)
    listed = asyncio.run(btcpay_deliveries(store, count=args.count))
    ctx.open_store()
    rows = compare(store.name, listed)
    if not rows:
        print(f"BTCPay lists no deliveries for webhook {store.webhook_id} of store '{store.name}'.")
        return ExitCode.OK
    print(f"{'delivery':<26} {'sent (UTC)':<20} {'BTCPay says':<12} {'code':>4}  {'lag':>5}  we recorded")
    for row in rows:
        sent = clock.iso(row.delivery_time or row.timestamp) or "-"
        ours = row.our_verdict or "NEVER RECEIVED"
        lag = f"{row.lag_s}s" if row.lag_s is not None else "-"
        flag = "  <-- missed" if row.missed else ""
        code = row.http_code or "-"
        print(f"{row.delivery_id:<26} {sent:<20} {row.btcpay_status:<12} {code:>4}  {lag:>5}  {ours}{flag}")
    missed = sum(1 for r in rows if r.missed)
    print(f"{len(rows)} deliveries; {missed} never reached this receiver.")
    return ExitCode.OK


# ---------------------------------------------------------------- export


def cmd_export_deliveries(ctx: Context, args: argparse.Namespace) -> int:
    from cftui.cli.core import open_output
    from cftui.webhooks.export import export_deliveries

    ctx.open_existing_store("webhook deliveries")
    default = Path(f"cftui-deliveries-{clock.to_datetime(clock.now()).strftime('%Y%m%d-%H%M%S')}.{args.format}")
    with open_output(args.output, default) as (stream, path):
        count = export_deliveries(stream, args.format, store=args.store)
    if path is not None:
        print(f"Exported {count} deliveries to {path}")
    return ExitCode.OK
