"""Logging: a rotated, owner-only file under the user log dir, with secrets redacted.

Secrets are registered with :func:`redact` as the config is loaded. The
file's formatter (:class:`SafeFormatter`) replaces any registered secret in
the finished text, traceback included, as a second line of defence behind
:class:`cftui.config.Secret`'s masking, and escapes control characters
(:func:`cftui.printable.printable`): a request path with a newline cannot forge
a log line, and an escape sequence cannot act on the terminal that shows the log.
"""

from __future__ import annotations

import logging
import logging.handlers
from io import TextIOWrapper
from pathlib import Path
from types import TracebackType

from cftui.printable import printable
from cftui.private_files import make_private_dir, open_private

# What sys.exc_info() returns (logging.Formatter.formatException's argument).
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

_secrets: set[str] = set()
_MASK = "••••••••"
ROTATE_BYTES = 1_000_000
ROTATE_FILES = 5


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


class SafeFormatter(logging.Formatter):
    """Formats a record whole (message, traceback, stack), then scrubs secrets and escapes controls.

    Scrubbing the finished text is what reaches the traceback: a filter runs
    before the formatter has written it.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = printable(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802
        return printable(super().formatException(ei), multiline=True)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return printable(super().formatStack(stack_info), multiline=True)

    def format(self, record: logging.LogRecord) -> str:
        # exc_text is cached on the record by the first formatter: build ours afresh.
        cached, record.exc_text = record.exc_text, None
        try:
            return scrub(super().format(record))
        finally:
            record.exc_text = cached


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Creates each file (the live one and, on rotation, the next) readable by its owner only:
    the log holds invoice ids, request paths and client addresses."""

    def _open(self) -> TextIOWrapper:
        return open_private(Path(self.baseFilename), "a", encoding=self.encoding or "utf-8")


def setup(log_dir: Path, *, debug: bool = False) -> Path | None:
    """Log to ``log_dir/cftui.log`` (1 MB × 5 files). Returns the file, or None if unwritable."""
    root = logging.getLogger("cftui")
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    try:
        make_private_dir(log_dir)
        path = log_dir / "cftui.log"
        handler: logging.Handler = _PrivateRotatingFileHandler(
            path, maxBytes=ROTATE_BYTES, backupCount=ROTATE_FILES, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    # httpx logs every request URL at INFO; keep that out of the file unless debugging.
    logging.getLogger("httpx").setLevel(logging.DEBUG if debug else logging.WARNING)
    return path
