"""The dependency direction of the code (README, "Layout"): the import-linter contracts of
pyproject.toml, and no import of the project's own modules hidden inside a function to dodge a
cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("origami", "practitioners", "prescriptions", "ordoclic_client")


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _own(module: str | None, level: int) -> bool:
    return level > 0 or (module or "").split(".")[0] in PACKAGES


def _imports_our_own(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return _own(node.module, node.level)
    if isinstance(node, ast.Import):
        return any(_own(alias.name, 0) for alias in node.names)
    return False


def test_no_import_of_our_own_modules_inside_a_function() -> None:
    """Such an import usually hides a cycle; the one place Django wants them is
    ``AppConfig.ready`` (the apps are not loaded when apps.py is imported)."""
    hidden = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if path.name == "apps.py" and function.name == "ready":
                    continue
                for node in ast.walk(function):
                    if _imports_our_own(node):
                        hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hidden == []
