"""Long lists cut into pieces, and the one limit for an ``IN (…)`` list.

A statement may bind only so many parameters: 999 in SQLite before 3.32 (the
oldest a user's Python may be linked against), 32,766 since, and 65,535 in
PostgreSQL. An ``IN (…)`` list of :data:`IN_LIST_LIMIT` values stays well
inside every one of them and leaves room for the statement's other
parameters, so a query over a list of any length is a few statements of that
size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

IN_LIST_LIMIT = 500  # values in one IN (…) list


def chunks(seq: Sequence[T], n: int) -> Iterator[Sequence[T]]:
    """``seq`` in consecutive slices of at most ``n`` items, in order; nothing for an empty ``seq``."""
    if n < 1:
        raise ValueError(f"chunk size must be at least 1, not {n}")
    for start in range(0, len(seq), n):
        yield seq[start : start + n]
