"""BTCPay webhook signatures: ``BTCPay-Sig: sha256=<64 lowercase hex>``.

The signature is HMAC-SHA256 with the UTF-8 bytes of the webhook secret as
key and the raw request body as message (contract §5.2). It must be checked
against the bytes as received: BTCPay pretty-prints its JSON, so parsing and
re-serializing the body would not reproduce them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

HEADER = "BTCPay-Sig"
PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdef")


@functools.lru_cache(maxsize=64)
def _keyed(secret: str) -> hmac.HMAC:
    """An HMAC-SHA256 already keyed with ``secret``, to be copied for each body.

    Why not ``hmac.digest``: its one-shot call re-keys OpenSSL every time and
    releases the GIL around it, so on a busy receiver each request handed the
    GIL to the database writer thread and waited to get it back (~10% of the
    event loop's time). A copied context costs less and keeps the GIL for a
    body this small (it is released only from 2 KiB up).
    """
    return hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)


def sign(secret: str, body: bytes) -> str:
    """The header value BTCPay sends for ``body``."""
    mac = _keyed(secret).copy()
    mac.update(body)
    return PREFIX + mac.hexdigest()


def check(secret: str, body: bytes, header: str | None) -> str | None:
    """Why ``header`` does not sign ``body`` with ``secret``, or None when it does.

    Only the exact form BTCPay sends is accepted: the ``sha256=`` prefix and 64
    lowercase hex digits. The comparison runs in constant time.
    """
    if not header:
        return "missing BTCPay-Sig header"
    if not header.startswith(PREFIX):
        return "BTCPay-Sig does not start with 'sha256='"
    given = header[len(PREFIX) :]
    if len(given) != 64 or not _HEX_DIGITS.issuperset(given):
        return "BTCPay-Sig is not 64 lowercase hex digits"
    if not hmac.compare_digest(sign(secret, body), header):
        return "signature does not match the body (wrong secret or altered body)"
    return None
