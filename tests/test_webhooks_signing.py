"""Signatures exactly as BTCPay makes them (contract §5.2)."""

from __future__ import annotations

import hashlib
import hmac

from cftui.webhooks import signing


def test_rfc4231_vector_with_the_btcpay_prefix():
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert signing.sign("Jefe", b"what do ya want for nothing?") == "sha256=" + expected


def test_key_is_the_utf8_bytes_of_the_secret():
    secret = "sécret-✓"
    body = b'{\n  "a": 1\n}'
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    assert signing.sign(secret, body) == f"sha256={digest}"
    assert signing.check(secret, body, f"sha256={digest}") is None


def test_check_accepts_only_the_exact_form():
    body = b'{"x": 1}'
    good = signing.sign("s", body)
    assert signing.check("s", body, good) is None
    assert "missing" in signing.check("s", body, None)
    assert "missing" in signing.check("s", body, "")
    assert "sha256=" in signing.check("s", body, good[len("sha256="):])
    assert "lowercase hex" in signing.check("s", body, "sha256=" + good[7:].upper())
    assert "lowercase hex" in signing.check("s", body, good[:-1])
    assert "does not match" in signing.check("s", body + b" ", good)
    assert "does not match" in signing.check("other", body, good)
