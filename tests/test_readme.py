"""The README's Python example runs as written (keeps the docs true)."""

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code, "README has no python example"
    scope: dict = {}
    exec(compile(code[0], str(README), "exec"), scope)
    scores = np.asarray(scope["results"].best_score)
    assert scores.shape == (4,) and np.all((scores > 0.3) & (scores <= 1.0))


def test_readme_sweep_example_runs(tmp_path, monkeypatch):
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(code) >= 2, "README has no sweep example"
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code[1], str(README), "exec"), scope)
    r = scope["result"]
    assert len(r.cv_results_["params"]) == 8 and (tmp_path / "runs" / "digits" / "members.jsonl").exists()
    assert r.best_score_ == r.cv_results_["mean_test_f1_macro"].max() == r.cv_results_["mean_test_f1_macro"][r.best_index_]
    assert r.best_score_ > 0.3  # well above chance (0.1) on the imbalanced digits


def test_readme_scikit_learn_example_runs():
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(code) >= 3, "README has no scikit-learn example"
    scope: dict = {}
    exec(compile(code[2], str(README), "exec"), scope)
    s = scope["search"]
    assert len(s.cv_results_["params"]) == 4 and 0.3 < s.best_score_ <= 1.0
    assert set(s.predict(scope["X"][:5])) <= set(scope["y"])


def test_readme_first_commands_are_what_ci_runs():
    lines = README.read_text().splitlines()
    block = lines[lines.index("```bash") + 1: lines.index("```bash") + 3]
    ci = (README.parent / ".ci" / "run").read_text()
    for line in block:
        command = line.split("#")[0].strip()
        assert command in ci, command


def test_every_jaxlstm_name_in_the_readme_exists_after_import_jaxlstm():
    # a fresh interpreter: in this one the other tests have imported every submodule already. The README's
    # `jaxlstm.config.preset(...)` failed after a plain `import jaxlstm` until 2026-12-04 (AttributeError)
    import subprocess
    import sys

    names = sorted({m.group(0) for m in re.finditer(r"(?<![\w./-])jaxlstm(?:\.[A-Za-z_]\w*)+", README.read_text())})
    assert "jaxlstm.config.preset" in names
    opt_in = {"jaxlstm.cli", "jaxlstm.plots"}  # the command and the matplotlib plots: imported by name only
    code = ("import functools, importlib, jaxlstm\n"
            f"for n in {names!r}:\n"
            f"    importlib.import_module(n) if n in {sorted(opt_in)!r} else "
            "functools.reduce(getattr, n.split('.')[1:], jaxlstm)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
