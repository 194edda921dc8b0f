"""The receiver's HTTP connections: bounded in time and in number.

aiohttp's own limits cover a request's size, not its pace or how many
connections one client keeps, so a slow or idle client could hold a socket
forever and enough of them exhaust the process's file descriptors (at the
usual limit of 1,024, 1,100 idle connections stopped every valid delivery).
Here each connection is an aiohttp ``RequestHandler`` with three additions:

* **Header deadline.** From its first byte (or from the connect), a request's
  line and headers must arrive within ``read_timeout``; then the connection
  is closed. The body is bounded by the receiver (408 after ``read_timeout``).
* **Idle keep-alive.** A connection idle between requests is closed after
  :data:`KEEPALIVE_S` (aiohttp's ``keepalive_timeout``).
* **Caps.** At most :data:`PER_ADDRESS` connections per client address, and at
  most :func:`connection_cap` in all (derived from the file-descriptor limit).
  A connection over a cap does not push a valid one out: the one that made
  the least progress goes, oldest first: idle or still sending headers, then
  one still sending its body. A connection whose request is being answered
  is never closed; if every connection is, the newcomer is.

Malformed HTTP (a bad method, an oversized line, a raw non-ASCII path) never
reaches the application handler. aiohttp answers it from ``handle_error``
with a traceback on stderr; here :class:`GuardedServer` hands it to the
receiver instead, which answers, counts, rate-limits and records it like any
other rejected request, in one short line.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiohttp import web, web_protocol
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0  # an idle keep-alive connection is closed after this long
SWEEP_S = 0.25  # how often the header deadline is checked: a late request goes within this much of it
PER_ADDRESS = 128  # connections one client address may hold at once
RESERVED_FDS = 64  # descriptors kept for the store, the log, the API client and the listening socket
FALLBACK_CAP = 1024 - RESERVED_FDS  # where the limit cannot be read

# What a connection is doing, in the order its eviction is preferred.
IDLE = 0  # between requests, or still sending a request line and headers
BODY = 1  # sending its body
BUSY = 2  # its request is being checked, recorded and answered: never evicted

# A malformed request: (remote address, aiohttp's error) -> (status, answer text).
OnBadRequest = Callable[[str, HttpProcessingError], tuple[int, str]]


def raise_fd_limit() -> int:
    """Raise the soft file-descriptor limit to the hard one (as servers do); return the soft limit in force."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to read
        return FALLBACK_CAP + RESERVED_FDS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 16)
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 16


def connection_cap(fd_limit: int) -> int:
    """Connections held at once: the descriptors left after :data:`RESERVED_FDS`, at least 16."""
    return max(16, fd_limit - RESERVED_FDS)


# The base class's methods, called directly: these run for every connection and packet.
_connection_made = web_protocol.RequestHandler.connection_made
_connection_lost = web_protocol.RequestHandler.connection_lost
_data_received = web_protocol.RequestHandler.data_received


class Connection(web_protocol.RequestHandler):
    """One client connection, with a header deadline and a state the caps read."""

    # Like aiohttp's own: one is made per connection, and BTCPay may open one per delivery.
    __slots__ = ("guard", "state", "address", "headers_since")

    # Set by GuardedServer.__call__ (no __init__ of its own: one frame less per connection).
    guard: GuardedServer
    state: int
    address: str
    # When the request now arriving began (connect, or its first byte); None when idle between requests.
    # A sweep, not a timer per request, enforces the deadline: arming and cancelling a timer on
    # every delivery cost measurable throughput (see GuardedServer._sweep).
    headers_since: float | None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        _connection_made(self, transport)
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        self.headers_since = self._loop.time()
        self.guard.opened(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.guard.closed(self)
        _connection_lost(self, exc)

    def data_received(self, data: bytes) -> None:
        if self.headers_since is None and self.state == IDLE and data:
            self.headers_since = self._loop.time()  # the first byte of the next request
        _data_received(self, data)

    # The receiver marks each request's progress (see WebhookReceiver._handle).

    def request_started(self) -> None:
        self.headers_since = None
        self.state = BODY
        self.guard.touched(self)

    def body_read(self) -> None:
        self.state = BUSY

    def request_done(self) -> None:
        self.state = IDLE

    def evict(self) -> None:
        self.guard.evicted += 1
        self.guard.closed(self)  # at once: the transport reports its loss only on a later turn
        self.force_close()

    def cut_if_late(self, now: float) -> None:
        """Close the connection if its request line and headers are past the deadline."""
        since = self.headers_since
        if self.state == IDLE and since is not None and now - since > self.guard.header_timeout:
            self.guard.timed_out += 1
            self.guard.closed(self)
            self.force_close()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        self.headers_since = None
        if request.writer.output_size > 0:
            raise ConnectionError("the answer was partly sent already: the connection is closed instead")
        if isinstance(exc, HttpProcessingError):
            # Malformed HTTP: the receiver answers it as a rejected request, without a traceback.
            status, text = self.guard.on_bad_request(self.address, exc)
        else:
            # A bug in a handler: the traceback goes to the log file, the client gets a bare 500.
            log.error("error handling a webhook request from %s", self.address, exc_info=exc)
            text = "500 Internal Server Error"
        response = web.Response(status=status, text=text)
        response.force_close()
        return response


class GuardedServer(web.Server):
    """aiohttp's low-level server, making :class:`Connection` protocols and enforcing the caps."""

    def __init__(
        self,
        handler: Any,
        *,
        header_timeout: float,
        on_bad_request: OnBadRequest,
        max_connections: int,
        per_address: int | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("keepalive_timeout", KEEPALIVE_S)
        # aiohttp's own error logging (a handler that raised) goes to cftui's log, never to stderr.
        kwargs.setdefault("logger", logging.getLogger("cftui.webhooks.http"))
        super().__init__(handler, **kwargs)
        self.header_timeout = header_timeout
        self.on_bad_request = on_bad_request
        self.max_connections = max_connections
        self.per_address = per_address if per_address is not None else PER_ADDRESS
        # Least recently active first: a request moves its connection to the end.
        self._all: OrderedDict[Connection, None] = OrderedDict()
        self._by_address: dict[str, dict[Connection, None]] = {}  # each in connect order
        self.timed_out = 0  # connections cut at the header deadline
        self.evicted = 0  # connections closed to make room under a cap
        self._sweeper: asyncio.TimerHandle | None = None

    def __call__(self) -> Connection:
        conn = Connection(self, loop=self._loop, **self._kwargs)
        conn.guard, conn.state, conn.address, conn.headers_since = self, IDLE, "?", None
        return conn

    def _sweep(self) -> None:
        """Every SWEEP_S while connections are open: cut those past the header deadline."""
        now = self._loop.time()
        for conn in list(self._all):
            conn.cut_if_late(now)
        self._sweeper = self._loop.call_later(SWEEP_S, self._sweep) if self._all else None

    def pre_shutdown(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        super().pre_shutdown()

    @property
    def open_connections(self) -> int:
        return len(self._all)

    def opened(self, conn: Connection) -> None:
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(SWEEP_S, self._sweep)
        mine = self._by_address.get(conn.address)
        if mine is None:
            mine = self._by_address[conn.address] = {}
        mine[conn] = None
        self._all[conn] = None
        if len(mine) > self.per_address:
            _make_room(mine, conn)
        if len(self._all) > self.max_connections:
            _make_room(self._all, conn)

    def touched(self, conn: Connection) -> None:
        # Only the overall order follows activity; per address, connect order is close enough.
        if conn in self._all:
            self._all.move_to_end(conn)

    def closed(self, conn: Connection) -> None:
        self._all.pop(conn, None)
        mine = self._by_address.get(conn.address)
        if mine is not None:
            mine.pop(conn, None)
            if not mine:
                del self._by_address[conn.address]


def _make_room(connections: dict[Connection, None], newcomer: Connection) -> None:
    """Close the least advanced, least recently active connection (the newcomer if all are busy)."""
    for wanted in (IDLE, BODY):
        for conn in connections:
            if conn is not newcomer and conn.state == wanted:
                conn.evict()
                return
    newcomer.evict()
