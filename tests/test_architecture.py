"""The architecture: the import-linter contracts in pyproject.toml hold, and the headless core never
imports Textual (only cftui.ui does), checked here at run time as well."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cftui"
UI = PACKAGE / "ui"
PYPROJECT = PACKAGE.parent / "pyproject.toml"
CONTRACTS = 4  # in pyproject.toml's [tool.importlinter]: layers, UI/CLI not on the models, no Textual, the simulator


def test_the_import_contracts_hold():
    # In a child process: lint-imports configures logging with dictConfig, which would switch off every
    # logger this test process has made (and the log assertions of the tests run after it).
    run = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    out = subprocess.run([sys.executable, "-c", run, "--no-cache", "--no-logo", str(PYPROJECT)],
                         capture_output=True, text=True)
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in out.stdout, out.stdout + out.stderr
    assert out.returncode == 0


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_modules_do_not_import_textual_or_the_ui():
    offenders = []
    core_files = [p for p in PACKAGE.rglob("*.py") if UI not in p.parents]
    assert len(core_files) > 10  # the walk found the core
    for path in core_files:
        for name in _imports(path):
            if name == "textual" or name.startswith("textual.") or name.startswith("cftui.ui"):
                # cli/dashboard.py may start the UI, but only lazily inside a function.
                offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    allowed = {o for o in offenders if o.startswith("cftui/cli/dashboard.py") or o.startswith("cftui/cli/core.py")}
    # Lazy imports in those two CLI entry points are checked at run time below.
    assert sorted(set(offenders) - allowed) == []


def test_importing_the_core_loads_no_textual():
    core = sorted(
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in PACKAGE.rglob("*.py")
        if UI not in p.parents and p.name != "__main__.py"
    )
    assert "cftui.store.db" in core and "cftui.cli" in core
    code = (
        "import importlib, sys\n"
        f"for name in {core!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(n for n in sys.modules\n"
        "             if n == 'textual' or n.startswith('textual.') or n.startswith('cftui.ui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
