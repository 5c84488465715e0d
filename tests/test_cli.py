"""The command line: the main job prints a per-class report; bad arguments exit non-zero."""

import json
import subprocess
import sys

import pytest

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


TINY = """
[data]
train = "digits_imbalanced"
test_size = 0.25

[model]
epochs = 2
batch_size = 32

[search]
strategy = "grid"
cv = 2
metric = "balanced_accuracy"

[search.space]
units = [8]
learning_rate = [1e-2, 3e-2]
"""


def test_sweep_writes_results_model_plots_and_resumes(tmp_path, capsys):
    import csv

    import numpy as np

    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "run"
    assert main(["sweep", str(cfg), "--out", str(out), "--json"]) == 0
    text = capsys.readouterr().out
    assert "rank" in text and "held-out test" in text
    summary = json.loads(text.strip().splitlines()[-1])
    for f in ("results.csv", "results.jsonl", "best_model.jaxlstm", "test_report.json", "sweep/members.jsonl",
              "plots/confusion_matrix.png", "plots/roc.png", "plots/learning_curves.png"):
        assert (out / f).exists(), f
        assert f in summary["files"]
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert len(rows) == 2 and rows[0]["rank_test_balanced_accuracy"] == "1"
    members = (out / "sweep" / "members.jsonl").read_text().splitlines()
    assert len(members) == 4  # 2 candidates x 2 folds
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet", "--no-plots"]) == 0  # resume: nothing retrained
    assert (out / "sweep" / "members.jsonl").read_text().splitlines() == members

    # evaluate and predict the saved model on a file
    from jaxlstm import datasets

    d = datasets.load_digits_imbalanced()
    np.savez(tmp_path / "d.npz", X=d.x[:40], y=np.array(d.class_names)[d.y[:40]])
    assert main(["evaluate", str(out / "best_model.jaxlstm"), str(tmp_path / "d.npz"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 <= report["accuracy"] <= 1 and len(report["confusion_matrix"]) == 10
    assert main(["predict", str(out / "best_model.jaxlstm"), str(tmp_path / "d.npz"), "--out",
                 str(tmp_path / "p.csv"), "--quiet"]) == 0
    pred = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert len(pred) == 40 and abs(sum(float(pred[0][f"prob_{c}"]) for c in d.class_names) - 1) < 1e-4


def test_config_errors_name_the_key(tmp_path, capsys):
    from jaxlstm import config

    for text, match in [("[search]\nstrategi = 'grid'\n", "unknown key search.strategi"),
                        ("[nope]\n", "unknown table"),
                        ("[search.space]\nlearning_rate = { lognormal = [1, 2] }\n", "a distribution is one of"),
                        ("[search.space]\ndropout = [1.5]\n", "search.space.dropout"),
                        ("[search]\nmetric = 'f2'\n", "search.metric"),
                        ("[search.space]\nunits = { randint = [8, 64] }\n", "strategy = \"grid\" needs lists"),
                        ("[model]\nepochs = 0\n", "model.epochs"),
                        ("[model]\nmatmul_dtype = 'float16'\n", "model.matmul_dtype = 'float16'; expected one of"),
                        ("[search.space]\nmatmul_dtype = ['bf16']\n", "search.space.matmul_dtype"),
                        ("[model]\nlstm_over = 'steps'\n", "model.lstm_over = 'steps'; expected one of"),
                        ("[model]\nmax_length = 0\n", "model.max_length"),
                        ("[model]\nnoise_std = -1\n", "model.noise_std"),
                        ("[model]\nn_ensemble = 1.5\n", "model.n_ensemble"),
                        ("[search.space]\nn_ensemble = [1, 5]\n", "n_ensemble cannot be searched"),
                        ("[search]\ncv = 1\n", "search.cv")]:
        p = tmp_path / "bad.toml"
        p.write_text(text)
        with pytest.raises(ValueError, match=match):
            config.load_config(p)
    p.write_text("[search]\nstrategi = 'grid'\n")
    assert main(["sweep", str(p), "--quiet"]) == 2
    assert "search.strategi" in capsys.readouterr().err
    for name in config.EXAMPLES:  # the shipped examples are valid
        assert config.load_config(config.example_path(name)).space
    p.write_text("[model]\nmatmul_dtype = 'bfloat16'\n[search.space]\nmatmul_dtype = ['float32', 'bfloat16']\n")
    cfg = config.load_config(p)
    assert cfg.space["matmul_dtype"] == ["float32", "bfloat16"] and cfg.model["matmul_dtype"] == "bfloat16"


def test_every_command_has_help_and_devices_lists_the_backend(capsys):
    for cmd in ("sweep", "train", "evaluate", "predict", "datasets", "devices"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert len(capsys.readouterr().out) > 100
    assert main(["devices"]) == 0
    assert "backend cpu" in capsys.readouterr().out
