"""User-facing errors.

Every failure a user can cause or meet (a bad config, a wrong API key, a
server that is down) is raised as a :class:`CftuiError` whose message is one
sentence that says what happened and what to do. The CLI prints that sentence
and exits with the error's code; no traceback unless ``--debug``.
"""

from __future__ import annotations


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
