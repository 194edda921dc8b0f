"""No function in the core (everything outside cftui/ui) is longer than 60 lines, its signature included."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import cftui

LIMIT = 60
PACKAGE = Path(cftui.__file__).parent

# Functions allowed over the limit for now, each at most as long as it is (name -> lines). Empty: keep it so.
ALLOWED: dict[str, int] = {}


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node.end_lineno - node.lineno + 1
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def core_function_sizes() -> dict[str, int]:
    """``"sync/engine.py::_StoreSync._walk"`` -> lines, for every function and method outside cftui/ui."""
    sizes = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("ui/"):
            continue
        for name, lines in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            sizes[f"{relative}::{name}"] = lines
    return sizes


def test_no_core_function_is_over_60_lines():
    sizes = core_function_sizes()
    assert len(sizes) > 500 and sizes["sync/engine.py::sync_store"] > 1  # the walk found the core's functions
    over = [f"{name}: {lines} lines" for name, lines in sorted(sizes.items()) if lines > ALLOWED.get(name, LIMIT)]
    assert not over, f"over {LIMIT} lines (split them into functions that each do one thing):\n" + "\n".join(over)


def test_the_allow_list_names_only_functions_still_over_the_limit():
    sizes = core_function_sizes()
    stale = [f"{name}: {sizes.get(name, 'gone')}" for name in ALLOWED if sizes.get(name, 0) <= LIMIT]
    assert not stale, "no longer over the limit, remove from ALLOWED:\n" + "\n".join(stale)
