"""The layer rules in pyproject.toml hold, and a wrong import breaks them (so CI fails); test
modules share helpers only through helper modules."""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

needs_lint = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def _keep_system(env: dict[str, str]) -> dict[str, str]:
    """Windows cannot start Python without SYSTEMROOT (its sockets and random numbers)."""
    return {**env, **{k: os.environ[k] for k in ("SYSTEMROOT",) if k in os.environ}}


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=_keep_system({"PYTHONPATH": str(tree), "PATH": os.defpath}),
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_lint
def test_the_layer_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@needs_lint
@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        ("server/models.py", "from desktop import cli", "Server never imports the desktop shell"),
        ("server/importers/table.py", "import flask", "Importers are plain Python"),
        ("server/datasets/storage.py", "from .cleaning import steps", "Datasets in layers"),
        ("server/datasets/reading/browse.py", "from ..web import access", "Datasets in layers"),
        ("server/audit_trail.py", "from .users import accounts", "Foundation imports no feature"),
        (
            "server/template_filters.py",
            "from .permissions import has_permission",
            "Template filters decide",
        ),
    ],
)
def test_a_wrong_import_breaks_a_contract(tmp_path, module, wrong_import, contract):
    for part in ("server", "desktop"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken), result.stdout


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = "." * node.level + (node.module or "")
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _imports_of_tests_or_conftests(source: str) -> list[str]:
    """Imports of a ``test_*`` module or a conftest, inside functions too, and in strings that
    parse as Python (scripts that tests run in a subprocess)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "import" in node.value:
                with contextlib.suppress(SyntaxError, ValueError):  # prose or data, not code
                    found += _imports_of_tests_or_conftests(textwrap.dedent(node.value))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            parts = {part for name in _imported_names(node) for part in name.split(".")}
            if any(part.startswith("test_") or part == "conftest" for part in parts):
                found.append(ast.unparse(node))
    return found


def test_no_test_module_imports_another_or_a_conftest():
    """pytest imports test modules and conftests itself: importing one again can collect its
    tests or fixtures a second time, or load a second copy. Shared code lives in helper
    modules; shared fixtures in a conftest, found by pytest without an import."""
    found = {
        str(path.relative_to(ROOT)): imports
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if (imports := _imports_of_tests_or_conftests(path.read_text(encoding="utf-8")))
    }
    assert found == {}, "import these from a helper module (tests/helpers.py and the like)"


@pytest.mark.parametrize("module", ["test_lockdown", "conftest"])
@pytest.mark.parametrize(
    "template",
    [
        "from .{} import helper",
        "from tests.datasets.{} import helper",
        "from . import {}",
        "import tests.{}",
        "def f():\n    from ..{} import helper\n",
        'WORKER = """\n    from tests.{} import make_app\n"""',
    ],
    ids=["relative", "absolute", "module", "import", "in-a-function", "in-a-script"],
)
def test_the_import_check_finds_such_an_import(template, module):
    assert _imports_of_tests_or_conftests(template.format(module))
    assert not _imports_of_tests_or_conftests(template.format("helpers"))
