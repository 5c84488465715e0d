"""Imports point down: the layers contract in pyproject.toml (../shared/DESIGN.md's layers).

import-linter sees function-local imports too, so a cycle cannot hide behind one."""

import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_layers_contract_holds():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports not found: pip install -e '.[dev]' (import-linter)")
    out = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout



def test_no_module_reaches_into_another_modules_private_names():
    import ast
    import pathlib

    package = pathlib.Path(__file__).resolve().parents[1] / "jaxlstm"
    modules = {p.stem for p in package.glob("*.py")}
    crossings = []
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jaxlstm."):
                crossings += [f"{path.name}: from {node.module} import {a.name}" for a in node.names
                              if a.name.startswith("_") and node.module.split(".")[1] in modules]
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in modules - {path.stem}):
                crossings.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert crossings == []
