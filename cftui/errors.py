"""User-facing errors.

Every failure a user can cause or meet (a bad config, a wrong API key, a
server that is down) is raised as a :class:`CftuiError` whose message is one
sentence that says what happened and what to do. The CLI prints that sentence
and exits with the error's code; no traceback unless ``--debug``.

The hierarchy (exit code in brackets; ``tests/test_errors_tree.py`` keeps it
true)::

    CftuiError [1]
    ├── UsageError [2] ............ a command-line argument that cannot be used
    ├── ConfigError [3] ........... the config file is missing, unreadable or invalid
    ├── AuthError [4] ............. BTCPay refused the API key (401)
    │   └── MissingPermissionError  the key lacks a permission (403)      btcpay/errors.py
    ├── UnreachableError [5] ...... a server down, or still failing after retries
    ├── DataError [6] ............. a record, file or store that cannot be used
    │   ├── NotFoundError ......... no such invoice, app or webhook (404)  btcpay/errors.py
    │   ├── ValidationError ....... BTCPay refused a parameter (422)        btcpay/errors.py
    │   └── RecordError ........... a record that does not fit the contract btcpay/parse.py
    └── RequestError .............. any other non-2xx retrying cannot fix  btcpay/errors.py

Below the surface, parsers raise ``ValueError`` subclasses that never reach a
user as they are: the caller turns each into a skip it counts or one of the
errors above (``money.AmountError`` -> ``RecordError``; ``webhooks.envelope.EnvelopeError``
-> a 400 ``malformed`` verdict; ``angor.events.EventError``,
``angor.projectinfo.ProjectInfoError`` -> a skipped event, counted by reason;
``angor.indexer.IndexerDataError`` -> like an unreachable server, the run keeps the stored
figures and says so in its result).
``sync.reported.Cancelled`` ends a sync between steps, as its result's error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ExitCode:
    """Process exit codes, documented in the README."""

    OK = 0
    FAILURE = 1  # an unexpected error (a bug): run again with --debug
    USAGE = 2  # bad command line (argparse uses 2 as well)
    CONFIG = 3  # config file missing, unreadable or invalid
    AUTH = 4  # API key rejected or missing a permission
    UNREACHABLE = 5  # server unreachable, or kept failing after retries
    DATA = 6  # a record, file or store that cannot be used (damaged, newer schema, read-only, disk full)
    INTERRUPTED = 130


class CftuiError(Exception):
    """An error with a message fit to show a user as it is."""

    exit_code = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message


class UsageError(CftuiError):
    """A command-line argument that cannot be used: a bad date, status, store name, path or theme."""

    exit_code = ExitCode.USAGE


class ConfigError(CftuiError):
    exit_code = ExitCode.CONFIG


class AuthError(CftuiError):
    exit_code = ExitCode.AUTH


class UnreachableError(CftuiError):
    exit_code = ExitCode.UNREACHABLE


class DataError(CftuiError):
    exit_code = ExitCode.DATA


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'nord'?`` for a near miss among ``choices`` (a typo), else ""."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
