"""Each plot renders to a real PNG of the expected pixel size."""

import os
import struct

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from jaxlstm import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plots.pyplot().close("all")


def _png_size(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def _nonblank(path):
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    return img[..., :3].std() > 0.01


def test_every_plot_is_a_png_of_the_expected_size(tmp_path):
    rng = np.random.default_rng(0)
    members = [{"status": "ok", "history": {"train_loss": list(np.linspace(1, 0.2, 5) + rng.random(5) * 0.1),
                                            "val_f1_macro": list(np.linspace(0.3, 0.9, 5))}} for _ in range(6)]
    params = [{"units": u, "learning_rate": lr} for u in (16, 32) for lr in (1e-3, 1e-2, 1e-1)]
    cv = {"params": params, "mean_test_score": rng.random(6)}
    y = rng.integers(0, 3, 60)
    probs = rng.dirichlet(np.ones(3), 60)
    probs[np.arange(60), y] += 1
    probs /= probs.sum(1, keepdims=True)
    names = ["a", "b", "c"]
    figs = {"curves": plots.learning_curves(members, figsize=(8, 4.5)),
            "heat": plots.sweep_heatmap(cv, "learning_rate", "units", figsize=(6, 4.5)),
            "cm": plots.confusion_matrix(y, probs.argmax(1), names, figsize=(6, 5)),
            "roc": plots.roc_curves(y, probs, names, figsize=(6, 5))}
    sizes = {"curves": (800, 450), "heat": (600, 450), "cm": (600, 500), "roc": (600, 500)}
    for name, fig in figs.items():
        path = plots.save(fig, tmp_path / f"{name}.png", dpi=100)
        assert _png_size(path) == sizes[name], name
        assert _nonblank(path), name


def test_plot_errors_name_the_problem():
    with pytest.raises(ValueError, match="not a searched parameter"):
        plots.sweep_heatmap({"params": [{"units": 1}], "mean_test_score": [0.5]}, "units", "dropout")
    with pytest.raises(ValueError, match="no 'val_auc'"):
        plots.learning_curves([{"history": {"train_loss": [1.0], "val_f1_macro": [0.5]}}], metric="val_auc")
    # until 2026-12-07 the default metric "score" on run_sweep's cv_results_ said only "has no 'mean_test_score'",
    # and one parameter on both axes drew a diagonal
    swept = {"params": [{"units": 1, "dropout": 0.1}], "mean_test_f1_macro": [0.5], "mean_test_accuracy": [0.6]}
    with pytest.raises(ValueError, match=r"has no 'mean_test_score': metric must be one of \['accuracy', 'f1_macro'\]"):
        plots.sweep_heatmap(swept, "units", "dropout")
    with pytest.raises(ValueError, match="x_param and y_param are both 'units'"):
        plots.sweep_heatmap(swept, "units", "units", "accuracy")


def test_plots_say_what_they_show():
    """Issue 17 (6, 7): the heat map names what it is the best over and plots
    continuous parameters as points on log axes; learning curves mark the
    best candidate and count epochs in whole numbers."""
    rng = np.random.default_rng(0)
    params = [{"units": u, "learning_rate": lr, "dropout": d} for u in (16, 32) for lr in (1e-3, 1e-2)
              for d in (0.0, 0.2)]
    scores = rng.random(len(params))
    fig = plots.sweep_heatmap({"params": params, "mean_test_f1_macro": scores}, "learning_rate", "units", "f1_macro")
    ax = fig.axes[0]
    assert ax.get_title() == "mean CV f1_macro; best over dropout"
    cell = max(s for p, s in zip(params, scores) if p["units"] == 32 and p["learning_rate"] == 1e-2)
    assert f"{cell:.3f}" in [t.get_text() for t in ax.texts]
    rand = [{"learning_rate": float(lr), "units": int(u)} for lr, u in
            zip(10 ** rng.uniform(-4, -1, 12), rng.choice([16, 32], 12))]
    fig = plots.sweep_heatmap({"params": rand, "mean_test_score": rng.random(12)}, "learning_rate", "units")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.collections[0].get_offsets()) == 12 and not ax.images
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 0], [p["learning_rate"] for p in rand])
    # a categorical axis beside a continuous one is named (until 2026-12-06 its ticks read 0, 0.5, 1), () as "[]"
    cat = [{"learning_rate": p["learning_rate"], "conv_filters": (64, 128, 64) if i % 2 else ()}
           for i, p in enumerate(rand)]
    ax = plots.sweep_heatmap({"params": cat, "mean_test_score": rng.random(12)}, "learning_rate",
                             "conv_filters").axes[0]
    assert [(t.get_position()[1], t.get_text()) for t in ax.get_yticklabels()] == [(0, "64,128,64"), (1, "[]")]
    members = [{"params": p, "status": "ok", "history": {"train_loss": [1.0, 0.5, 0.4],
                                                         "val_f1_macro": [0.2, 0.5, 0.6]}}
               for p in params[:3] for _ in range(2)]
    figures = plots.pyplot().get_fignums()
    for bad, match in (([], "no member has a history"), (members, "members have no 'val_auc'")):
        with pytest.raises(ValueError, match=match):
            plots.learning_curves(bad, metric="val_auc")
    assert plots.pyplot().get_fignums() == figures  # no empty figure left behind (there was until 2026-12-06)
    fig = plots.learning_curves(members, metric="val_f1_macro", best=params[1])
    a, b = fig.axes
    labels = [t.get_text() for t in a.get_legend().get_texts()]
    assert labels == ["best: dropout=0.2, learning_rate=0.001, units=16\n(2 members)", "other members (4)"]
    assert b.get_ylabel() == "val_f1_macro" and max(line.get_linewidth() for line in b.lines) == 2.0
    assert all(float(t).is_integer() for t in a.get_xticks())
    # successive halving: a member's rungs are curves of one member (until 2026-12-06 counted rungs x folds)
    rungs = [{"params": p, "fold": f, "seed": 0, "offset": off, "status": "ok",
              "history": {"train_loss": [1.0, 0.5], "val_f1_macro": [0.2, 0.5]}}
             for p in params[:2] for f in (0, 1) for off in ((0, 2) if p == params[1] else (0,))]
    a = plots.learning_curves(rungs, best=params[1]).axes[0]
    assert [t.get_text() for t in a.get_legend().get_texts()] == [
        "best: dropout=0.2, learning_rate=0.001, units=16\n(2 members)", "other members (2)"]
    assert a.get_title() == "training loss (4 members)" and len(a.lines) == 6


def test_learning_curves_fit_the_default_searchs_best_in_the_figure():
    """The default search's best names 10 parameters: one legend line wider than the figure, and
    tight_layout gave up with a warning on every `jaxlstm sweep FILE` until 2026-12-07."""
    import warnings

    best = {"lstm_over": "time", "conv_filters": [], "minirocket_features": 9996, "classifier": "minirocket",
            "learning_rate": 0.001, "dropout": 0.0, "class_weight": 1.0, "logit_adjust_tau": 0.0,
            "sampling_exponent": 0.0, "epochs": 20}
    members = [{"params": best if i < 3 else {**best, "epochs": 40}, "status": "ok",
                "history": {"train_loss": [1.0, 0.5, 0.4], "val_balanced_accuracy": [0.2, 0.5, 0.6]}}
               for i in range(9)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.learning_curves(members, metric="val_balanced_accuracy", best=best)
    label = fig.axes[0].get_legend().get_texts()[0].get_text()
    assert label.replace("\n", " ") == ("best: class_weight=1, classifier=minirocket, conv_filters=[], dropout=0, "
                                        "epochs=20, learning_rate=0.001, logit_adjust_tau=0, lstm_over=time, "
                                        "minirocket_features=9996, sampling_exponent=0 (3 members)")
    assert max(len(line) for line in label.splitlines()) <= 50


def test_confusion_matrix_and_roc_show_scikit_learns_numbers():
    from sklearn.metrics import confusion_matrix, roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 50)
    probs = rng.dirichlet(np.ones(3), 50)
    fig = plots.confusion_matrix(y, probs.argmax(1), ["a", "b", "c"])
    recall = confusion_matrix(y, probs.argmax(1), labels=[0, 1, 2], normalize="true")
    shown = sorted(float(t.get_text()) for t in fig.axes[0].texts)
    np.testing.assert_allclose(shown, sorted(np.round(recall.ravel(), 2)))
    fig = plots.roc_curves(y, probs, ["a", "b", "c"])
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for k, name in enumerate("abc"):
        assert any(t.startswith(name) and f"{roc_auc_score(y == k, probs[:, k]):.2f}" in t for t in legend), legend


def test_confusion_matrix_and_roc_take_labels_and_refuse_classes_they_cannot_name():
    # until 2026-12-07: string labels (model.predict's output) drew an empty ROC plot and made the confusion
    # matrix raise scikit-learn's "At least one label specified must be in y_true"; a class index past
    # class_names dropped its rows silently; 1-D probs was a bare IndexError
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 40)
    probs = rng.dirichlet(np.ones(3), 40)
    names = np.array(["a", "b", "c"])

    def shown(fig):
        return sorted(t.get_text() for t in fig.axes[0].texts)

    assert shown(plots.confusion_matrix(names[y], names[probs.argmax(1)], names)) == shown(
        plots.confusion_matrix(y, probs.argmax(1), names))
    legend = [t.get_text() for t in plots.roc_curves(names[y], probs, names).axes[0].get_legend().get_texts()]
    assert legend == [t.get_text() for t in plots.roc_curves(y, probs, names).axes[0].get_legend().get_texts()]
    assert len(legend) == 4  # three curves and the chance level
    ints = np.array([1, 2, 4])  # numeric labels are labels, not indices
    assert shown(plots.confusion_matrix(ints[y], ints[probs.argmax(1)], ints)) == shown(
        plots.confusion_matrix(y, probs.argmax(1), names))
    with pytest.raises(ValueError, match=r"y_true holds class index 2, but class_names names 2 classes"):
        plots.confusion_matrix(y, y, ["a", "b"])
    with pytest.raises(ValueError, match=r"y_pred holds 'd', which is not one of class_names"):
        plots.confusion_matrix(names[y], np.where(y == 0, "d", names[y]), names)
    with pytest.raises(ValueError, match=r"probs must have one row per sequence and one column per class, shape "
                                         r"\(40, 3\), got \(40,\)"):
        plots.roc_curves(y, probs[:, 0], names)
    one = plots.roc_curves(np.zeros(40, int), probs, names)
    assert shown(one) == ["no ROC curve: y_true holds one class"]


def test_plots_keep_the_users_backend_and_open_figures():
    """A plot leaves matplotlib's backend as the user set it: switching it (as ``pyplot()`` did, to Agg, until
    2026-12-06) closes every open figure. The CLI's ``headless=True`` picks Agg only before pyplot is imported."""
    import subprocess
    import sys

    code = """
import matplotlib
matplotlib.use("svg")
import matplotlib.pyplot as plt
mine = plt.figure()
from jaxlstm import plots
fig = plots.confusion_matrix([0, 1, 1], [0, 1, 0], ["a", "b"])
plots.pyplot(headless=True)
print(matplotlib.get_backend(), plt.fignum_exists(mine.number), plt.fignum_exists(fig.number))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["svg", "True", "True"]
    headless = ("from jaxlstm import plots\nplots.pyplot(headless=True)\n"
                "import matplotlib\nprint(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", headless], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"} | {"MPLBACKEND": "svg"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().lower() == "agg"


def test_learning_curves_of_a_fitted_ensemble_and_of_runs_shared_by_epochs():
    """A fitted model's history_ (n_ensemble members: arrays (members, epochs)) was drawn as one line per
    epoch over x = member until 2026-12-08; a candidate sharing a longer run (epochs searched) drew it all."""
    from jaxlstm import LSTMClassifier

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 6, 2)).astype(np.float32), np.arange(24) % 2
    clf = LSTMClassifier(hidden_sizes=(4,), epochs=4, batch_size=8, n_ensemble=3, validation_fraction=None,
                         random_state=0).fit(x, y)
    fig = plots.learning_curves(clf, metric="val_accuracy")
    a, b = fig.axes
    assert len(a.lines) == 3 and a.get_title() == "training loss (3 members)"
    for k, line in enumerate(a.lines):
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
        np.testing.assert_allclose(line.get_ydata(), clf.history_["train_loss"][k])
    assert b.get_title() == "validation accuracy" and "no validation scores" in b.texts[0].get_text()
    long = {"train_loss": [1.0, 0.8, 0.6, 0.5, 0.4], "val_f1_macro": [0.1, 0.2, 0.3, 0.4, 0.5]}
    rows = [{"params": {"epochs": e}, "fold": 0, "seed": 0, "status": "ok", "history": long} for e in (2, 5)]
    fig = plots.learning_curves(rows, best={"epochs": 2})
    assert sorted(len(line.get_xdata()) for line in fig.axes[0].lines) == [2, 5]


def test_learning_curves_count_every_member_and_refuse_mixed_histories():
    rows = [{"params": {"lr": i}, "fold": 0, "status": "diverged" if i == 0 else "ok",
             "history": {"train_loss": [1e30 if i == 0 else 1.0, 0.5], "val_f1_macro": [0.2, 0.5]}} for i in range(50)]
    fig = plots.learning_curves(rows, best={"lr": 1}, max_lines=12)
    a = fig.axes[0]
    assert a.get_title() == "training loss (50 members)" and len(a.lines) == 12
    labels = [t.get_text() for t in a.get_legend().get_texts()]
    assert labels[1:] == ["other members (49, 11 drawn)", "diverged (1)"]
    assert a.get_ylim()[1] < 2  # the others' losses, not flattened under 1e30
    figures = plots.pyplot().get_fignums()
    mixed = rows[:2] + [{"params": {"lr": 9}, "history": {"train_loss": [1.0]}}]
    with pytest.raises(ValueError, match="member 2 has no 'val_f1_macro'"):
        plots.learning_curves(mixed)
    assert plots.pyplot().get_fignums() == figures


def _cv(params, scores, status=None, **extra):
    return {"params": params, "mean_test_score": np.asarray(scores, float),
            **({} if status is None else {"status": status}), **extra}


def test_heatmap_leaves_out_diverged_candidates_and_takes_halvings_last_rung():
    params = [{"a": a, "b": b} for a in (1, 2) for b in ("x", "y")]
    # diverged candidates rank last whatever their mean: until 2026-12-08 they coloured their cells brighter
    fig = plots.sweep_heatmap(_cv(params, [0.39, 0.40, 0.40, 0.40], ["ok", "diverged", "diverged", "diverged"]),
                              "a", "b")
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    assert grid[0, 0] == pytest.approx(0.39) and np.isnan(np.asarray(grid.filled(np.nan), float).ravel()[1:]).all()
    assert sorted(t.get_text() for t in ax.texts) == ["0.390", "diverged", "diverged", "diverged"]
    # successive halving: a candidate's rows per rung; its furthest rung speaks for it (rung 0 scores
    # more on fewer epochs: the cell showed 0.635 where best_score_ was 0.618)
    halving = _cv(params + params[:2], [0.5, 0.635, 0.4, 0.3, 0.6, 0.618], ["ok"] * 6, iter=np.r_[0, 0, 0, 0, 1, 1])
    ax = plots.sweep_heatmap(halving, "a", "b").axes[0]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["0.300", "0.400", "0.600", "0.618"] and "furthest rung" in ax.get_title()
    # continuous axes: a NaN or diverged candidate is a red cross, not dropped
    rnd = [{"lr": 10 ** -k / 3, "b": "x"} for k in range(8)]
    ax = plots.sweep_heatmap(_cv(rnd, [0.5] * 6 + [np.nan, 0.4], ["ok"] * 7 + ["diverged"]), "lr", "b").axes[0]
    assert len(ax.collections[0].get_offsets()) == 6 and len(ax.collections[1].get_offsets()) == 2
    figures = plots.pyplot().get_fignums()
    with pytest.raises(ValueError, match="4 params but 3"):
        plots.sweep_heatmap(_cv(params, [0.1, 0.2, 0.3]), "a", "b")
    assert plots.pyplot().get_fignums() == figures


def test_confusion_matrix_normalisations_axes_and_binary_roc():
    from sklearn.metrics import confusion_matrix, roc_auc_score

    rng = np.random.default_rng(3)
    y, pred = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
    y[y == 2] = 0  # class 2 never true: no recall, a blank row (not 0.00 as scikit-learn's display writes)
    for norm in ("pred", "all"):
        ax = plots.confusion_matrix(y, pred, ["a", "b", "c"], normalize=norm).axes[0]
        want = confusion_matrix(y, pred, labels=[0, 1, 2], normalize=norm)
        np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), want)
    ax = plots.confusion_matrix(y, pred, ["a", "b", "c"]).axes[0]
    assert np.isnan(np.asarray(ax.images[0].get_array())[2]).all() and len([t for t in ax.texts if t.get_text()]) == 6
    with pytest.raises(ValueError, match="normalize must be"):
        plots.confusion_matrix(y, pred, ["a", "b", "c"], normalize="rows")
    plt = plots.pyplot()
    fig, mine = plt.subplots()
    n = len(plt.get_fignums())
    assert plots.confusion_matrix(y, pred, ["a", "b", "c"], ax=mine) is fig and len(plt.get_fignums()) == n
    probs = rng.dirichlet([1, 1], 40)
    yb = (probs[:, 1] + rng.normal(0, 0.3, 40) > 0.5).astype(int)
    ax = plots.roc_curves(yb, probs, ["neg", "pos"]).axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 2 and legend[0].startswith("pos") and f"{roc_auc_score(yb, probs[:, 1]):.2f}" in legend[0]
    assert legend[1].startswith("Chance")
    probs[0] = np.nan
    with pytest.raises(ValueError, match="probs holds NaN"):
        plots.roc_curves(yb, probs, ["neg", "pos"])
    plt.close(fig)


def test_heatmap_keeps_values_six_digits_would_merge():
    # 1e-3 and 1.0000001e-3 both read "0.001": one cell for two candidates' values until 2026-12-08
    params = [{"lr": lr, "b": b} for lr in (1e-3, 1.0000001e-3) for b in ("x", "y")]
    ax = plots.sweep_heatmap(_cv(params, [0.1, 0.2, 0.3, 0.4]), "lr", "b").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.001", "0.0010000001"]
    assert sorted(t.get_text() for t in ax.texts) == ["0.100", "0.200", "0.300", "0.400"]
