"""Every third-party package the apps import is declared in pyproject.toml, not merely installed
as a dependency of a dependency (which may drop it in any release)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def server_packages() -> list[Path]:
    """The project's own apps and its wiring: what the server runs (not tests, bench, examples)."""
    names = {"iamconsole", *(app.split(".")[0] for app in settings.INSTALLED_APPS)}
    return [ROOT / name for name in sorted(names) if (ROOT / name / "__init__.py").exists()]


def imported_modules() -> set[str]:
    modules: set[str] = set()
    for package in server_packages():
        for path in package.rglob("*.py"):
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
