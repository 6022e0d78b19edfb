"""The house rules a reader relies on: nothing imports the top (server.py, cli.py); loader functions stay short.

The layers between packages are import-linter's to check (`make lint`, contract in pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "graph", "access", "loaders", "schema", "reports")
#: The longest a function in loaders/ may be, in lines (docstring included).
LONGEST = 60


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).glob("*.py"))


def _imported(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_no_package_imports_the_server_or_the_command_line() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {top}"
        for package in PACKAGES
        for path in _modules(package)
        for top in _imported(ast.parse(path.read_text(encoding="utf-8"))) & {"server", "cli", "tests", "bench"}
    ]
    assert offenders == []


def test_no_loader_function_is_longer_than_a_screen() -> None:
    long = [
        f"{path.name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in _modules("loaders")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > LONGEST
    ]
    assert long == []
