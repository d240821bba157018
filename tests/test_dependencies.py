"""Every third-party package the apps import is declared in pyproject.toml, not merely installed
as a dependency of a dependency (which may drop it in any release)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_SHIPPED = {"tests", "bench"}


def imported_modules() -> set[str]:
    modules: set[str] = set()
    for init in ROOT.glob("*/__init__.py"):
        if init.parent.name in NOT_SHIPPED:
            continue
        for path in init.parent.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return modules


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_package_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {normalized(re.split(r"[\[<>=!~ ;]", spec)[0]) for spec in project["dependencies"]}
    distributions = packages_distributions()
    imported = {
        normalized(dist)
        for module in imported_modules()
        for dist in distributions.get(module, [])
        if module != "iamconsole"
    }
    assert imported - declared == set(), "declare these in pyproject.toml [project.dependencies]"
