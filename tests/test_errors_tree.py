"""The exception tree drawn in cftui/errors.py's docstring is the real one (httpx keeps its tree the same way)."""

from __future__ import annotations

import importlib
import re
import textwrap
from pathlib import Path

from cftui import errors
from cftui.errors import CftuiError

PACKAGE = Path(__file__).resolve().parents[1] / "cftui"


def _load_core() -> None:
    """Import every core module, so each CftuiError subclass the code defines is known."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "ui" in parts[1:2] or "sim" in parts[1:2] or parts[-1] == "__main__":
            continue
        importlib.import_module(".".join(parts).removesuffix(".__init__"))


def _drawn() -> dict[str, tuple[int, str | None]]:
    """Each class the tree names: its depth and the file it says defines it (None for cftui/errors.py)."""
    tree = textwrap.dedent(errors.__doc__.split("::", 1)[1].split("\n\n")[1])
    drawn = {}
    for line in tree.splitlines():
        match = re.match(r"^(\s*(?:[│ ]   )*(?:[├└]── )?)(\w+)(?: \[(\d)\])?.*?(\S+\.py)?$", line)
        assert match, line
        indent, name, _, where = match.groups()
        drawn[name] = (len(indent) // 4, where)
    return drawn


def _real(cls: type, depth: int = 0) -> dict[str, tuple[int, str | None]]:
    module = cls.__module__.removeprefix("cftui.").replace(".", "/") + ".py"
    found = {cls.__name__: (depth, None if module == "errors.py" else module)}
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("cftui.") and not sub.__module__.startswith(("cftui.sim", "cftui.ui")):
            found.update(_real(sub, depth + 1))
    return found


def test_the_docstring_draws_every_cftui_error_where_it_is_defined():
    _load_core()
    drawn, real = _drawn(), _real(CftuiError)
    assert len(real) >= 10  # the walk found the btcpay subclasses too
    assert drawn == real


def test_the_exit_codes_drawn_are_the_classes_codes():
    for line in errors.__doc__.splitlines():
        match = re.search(r"(\w+Error) \[(\d)\]", line)
        if match:
            assert getattr(errors, match[1]).exit_code == int(match[2]), line
