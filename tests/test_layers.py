"""The package's shape: the layers the README draws are the ones import-linter enforces
(``make test`` runs ``lint-imports`` on ``.importlinter``), light layers stay light at
run time, no module grows past 600 lines, and nothing private crosses a module."""

from __future__ import annotations

import ast
import configparser
import re
import subprocess
import sys

import pytest
from conftest import ROOT

PACKAGE = ROOT / "kpi_helpers"
# the catalog's data, the generator; the command line's parsers (one per command)
EXEMPT = {"catalog/registry.py", "data/sample_data.py"}


def contract_layers() -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / ".importlinter")
    return cfg["importlinter:contract:layers"]["layers"].split()


def readme_layers() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    picture = re.search(r"```text\n(# the layers.*?)```", text, re.S)
    assert picture, "README.md has no ```text block starting '# the layers'"
    return [
        "kpi_helpers." + line.split()[0]
        for line in picture.group(1).splitlines()[1:]
        if line[:1].isalpha()  # a layer; indented lines continue its description
    ]


def test_the_readme_draws_the_layers_the_contract_enforces():
    assert readme_layers() == contract_layers()


def test_every_module_of_the_package_is_in_a_layer():
    layers = {name.removeprefix("kpi_helpers.") for name in contract_layers()}
    tops = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert tops == layers


@pytest.mark.parametrize(
    "module, absent",
    [
        ("kpi_helpers", ["pandas", "ibis", "matplotlib"]),
        ("kpi_helpers.core", ["ibis", "matplotlib", "pandas"]),
        ("kpi_helpers.catalog", ["ibis", "matplotlib", "duckdb"]),
        ("kpi_helpers.report", ["ibis", "duckdb", "kpi_helpers.data", "kpi_helpers.metrics"]),
        ("kpi_helpers.report.notebook", ["ibis", "duckdb", "kpi_helpers.kpis"]),
        ("kpi_helpers.cli", ["ibis", "matplotlib", "pandas"]),
        ("kpi_helpers.explore", ["ibis", "matplotlib", "pandas", "ipywidgets"]),
        ("kpi_helpers.alerts.rules", ["ibis", "duckdb", "matplotlib"]),
        # the models (scipy) load when a model KPI is asked, not for every compute
        ("kpi_helpers.kpis", ["scipy", "kpi_helpers.models"]),
    ],
)
def test_light_layers_load_no_heavy_library(module, absent):
    code = f"import sys, {module}; print(' '.join(m for m in {absent!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [], f"importing {module} loads {out.stdout.split()}"


def modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_600_lines():
    long = {
        p.relative_to(PACKAGE).as_posix(): n
        for p in modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert set(long) <= EXEMPT, long


def imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node


def test_nothing_private_is_imported_across_modules():
    found = [
        f"{p.relative_to(ROOT)}:{node.lineno} {alias.name}"
        for p in modules()
        for node in imports(p)
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__future__"
    ]
    assert found == []


def test_the_kit_is_imported_inside_functions_only_to_delay_heavy_layers():
    """The cli package imports each command's layers when the command runs (``kpi-kit --help``
    stays quick); a page without a snapshot imports report.live (Ibis) only then; the
    alerts package loads its checking (Ibis) with the first check, not with the rules;
    ``kpis`` loads the models (scipy) when a model KPI or table is asked."""
    allowed = {"report/notebook.py", "alerts/__init__.py", "kpis.py"}
    found = []
    for p in modules():
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                kit = isinstance(node, ast.ImportFrom) and (
                    node.level > 0 or (node.module or "").startswith("kpi_helpers")
                )
                where = p.relative_to(PACKAGE).as_posix()
                if kit and where not in allowed and not where.startswith("cli/"):
                    found.append(f"{p.relative_to(ROOT)}:{node.lineno}")
    assert found == []
