"""The command line: the main job prints a per-class report; bad arguments exit non-zero."""

import json
import subprocess
import sys

from jaxlstm.cli import main


def test_train_prints_per_class_report(capsys):
    rc = main(["train", "--epochs", "3", "--hidden", "16", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    for word in ("precision", "recall", "f1-score", "macro avg", "weighted avg", "roc auc"):
        assert word in out
    assert len([ln for ln in out.splitlines() if ln.strip()[:1].isdigit()]) >= 10  # one row per class


def test_train_json_output(capsys):
    rc = main(["train", "--epochs", "3", "--hidden", "16", "--json", "--quiet", "--class-weight", "0.5"])
    payload = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert 0.0 <= payload["test"]["macro avg"]["f1-score"] <= 1.0
    assert payload["compile_s"] > 0 and payload["run_s"] > 0


def test_errors_exit_non_zero(capsys):
    assert main(["train", "--dataset", "nope", "--quiet"]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    for bad in (["train", "--class-weight", "2"], ["train", "--hidden", "a,b"], ["train", "--select", "f2"]):
        try:
            rc = main(bad + ["--epochs", "1", "--quiet"])
        except SystemExit as e:  # argparse rejects it
            rc = e.code
        assert rc != 0, bad


def test_console_entry_point_help():
    out = subprocess.run([sys.executable, "-m", "jaxlstm", "train", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--class-weight" in out.stdout
    out = subprocess.run([sys.executable, "-m", "jaxlstm", "datasets"], capture_output=True, text=True)
    assert "digits_imbalanced" in out.stdout
