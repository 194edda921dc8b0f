"""Logging: a rotated file under the user log dir, with secrets redacted.

Secrets are registered with :func:`redact` as the config is loaded; a filter
replaces any registered secret in every record before it is written, as a
second line of defence behind :class:`cftui.config.Secret`'s masking.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

_secrets: set[str] = set()
_MASK = "••••••••"


def redact(*values: str | None) -> None:
    """Register secret values that must never reach a log file."""
    for value in values:
        if value and len(value) >= 4:
            _secrets.add(value)


def scrub(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = record.getMessage()
            cleaned = scrub(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
            if record.exc_text:
                record.exc_text = scrub(record.exc_text)
        return True


def setup(log_dir: Path, *, debug: bool = False) -> Path | None:
    """Log to ``log_dir/cftui.log`` (1 MB × 5 files). Returns the file, or None if unwritable."""
    root = logging.getLogger("cftui")
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "cftui.log"
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    # httpx logs every request URL at INFO; keep that out of the file unless debugging.
    logging.getLogger("httpx").setLevel(logging.DEBUG if debug else logging.WARNING)
    return path
