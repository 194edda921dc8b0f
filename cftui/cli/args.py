"""Argument types shared by the subcommands: a bad value is a usage error (exit 2) from argparse itself."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Literal, TypeAlias, get_args

from cftui import config as config_mod
from cftui.domain import SourceKind

# What add_subparsers() returns, to which each area adds its subcommands (argparse names the class privately).
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# `cftui sync --source`: one kind of source, or every configured one.
SourceChoice = Literal[SourceKind, "all"]
SOURCE_CHOICES: tuple[SourceChoice, ...] = get_args(SourceChoice)

OUTPUT_HELP = "file to write ('-' for stdout; default: a new file here)"


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, not {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its own messages
    return parse


def in_config_range(key: str) -> Callable[[str], int]:
    """An argparse ``type`` for a flag that overrides config key ``key`` (same range as the file)."""
    return int_in(*config_mod.RANGES[key])
